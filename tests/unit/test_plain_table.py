"""`plain_lines` draws a table with the same characters Rich draws off a terminal (ipam of big fleets)."""

from __future__ import annotations

import io

from rich.console import Console

from mistctl.cli.fleet_cmds import COLUMNS as HEADERS
from mistctl.cli.fleet_cmds import RIGHT
from mistctl.cli.fleet_cmds import _table as rich_table
from mistctl.cli.plain_table import plain_lines


def rich_text(rows: list[list[str]]) -> str:
    """What `mistctl ipam` printed through Rich (its table, its console options)."""
    out = io.StringIO()
    Console(file=out, highlight=False, soft_wrap=True, width=500).print(rich_table(rows))
    return out.getvalue()


def test_the_lines_are_the_ones_rich_draws_wide_characters_and_blank_cells_included():
    rows = [["Store-NYC-001", "1", "1", "mgmt", "10", "10.0.0.0/24", "10.0.0.1"],
            ["", "", "", "data", "20", "10.0.1.0/24", "10.0.1.1"],
            ["東京-Café", "12", "2048", "voice", "30", "10.224.0.128/25", "10.224.0.129"],
            ["a-much-longer-site-name-than-its-header", "3", "7", "iot", "50", "10.1.0.0/25", "10.1.0.1"]]
    lines = plain_lines("IP plan", HEADERS, RIGHT, rows)
    assert lines is not None
    assert "\n".join(lines) + "\n" == rich_text(rows)


def test_a_table_without_rows_is_drawn_as_rich_draws_it():
    lines = plain_lines("IP plan", HEADERS, RIGHT, [])
    assert lines is not None
    assert "\n".join(lines) + "\n" == rich_text([])


def test_a_cell_rich_would_have_to_escape_or_wrap_is_left_to_rich():
    for name in ("a\nb", "a\x1b[2J"):
        row = [name, "1", "1", "mgmt", "10", "10.0.0.0/24", "10.0.0.1"]
        assert plain_lines("IP plan", HEADERS, RIGHT, [row]) is None
