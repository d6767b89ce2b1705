"""`plain_lines` draws a table with the same characters Rich draws off a terminal (ipam of big fleets)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mistctl.cli.plain_table import plain_lines

HEADERS = ("site", "zone", "number", "segment", "cidr")
RIGHT = (False, True, True, False, False)


def rich_text(rows: list[list[str]]) -> str:
    table = Table(title="IP plan")
    for col, right in zip(HEADERS, RIGHT, strict=True):
        table.add_column(col, justify="right" if right else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    out = io.StringIO()
    Console(file=out, highlight=False, soft_wrap=True, width=500).print(table)
    return out.getvalue()


def test_the_lines_are_the_ones_rich_draws_wide_characters_and_blank_cells_included():
    rows = [["Store-NYC-001", "1", "1", "mgmt", "10.0.0.0/24"],
            ["", "", "", "data", "10.0.1.0/24"],
            ["東京-Café", "12", "2048", "voice", "10.224.0.128/25"],
            ["a-much-longer-site-name-than-its-header", "3", "7", "iot", "10.1.0.0/25"]]
    lines = plain_lines("IP plan", HEADERS, RIGHT, rows)
    assert lines is not None
    assert "\n".join(lines) + "\n" == rich_text(rows)


def test_a_table_without_rows_is_drawn_as_rich_draws_it():
    lines = plain_lines("IP plan", HEADERS, RIGHT, [])
    assert lines is not None
    assert "\n".join(lines) + "\n" == rich_text([])


def test_a_cell_rich_would_have_to_escape_or_wrap_is_left_to_rich():
    assert plain_lines("IP plan", HEADERS, RIGHT, [["a\nb", "1", "1", "mgmt", "10.0.0.0/24"]]) is None
    assert plain_lines("IP plan", HEADERS, RIGHT, [["a\x1b[2J", "1", "1", "mgmt", "10.0.0.0/24"]]) is None
