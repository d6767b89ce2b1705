"""`mistctl ipam`'s table: where Rich would write plain text (cli/plainout.py) mistctl writes it without importing
Rich, and the bytes are the ones Rich writes, on a pipe and on a pseudo-terminal, whatever the environment says
of colours; where plainout is unsure, Rich still writes it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.terminal import python_env, run_shown

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

PROBE = """
import sys
who, fleet = sys.argv[1], sys.argv[2]
if "--ipython" in sys.argv:  # an IPython shell (not Jupyter): plainout leaves the decision to Rich
    import builtins
    builtins.get_ipython = lambda: None
if who == "mistctl":
    from mistctl.cli.main import main
    sys.argv = ["mistctl", "ipam", fleet]
    try:
        main()
    except SystemExit as exc:
        assert not exc.code, exc.code
else:  # Rich drawing ipam's table on ipam's console, given its whole width off a terminal (fleet_cmds._print_wide)
    from pathlib import Path
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text
    from mistctl.cli.fleet_cmds import COLUMNS, RIGHT, _shown_rows
    from mistctl.domain.ipam import ipam_records
    from mistctl.fleetio import load_fleet
    table = Table(title="IP plan")
    for col, right in zip(COLUMNS, RIGHT):
        table.add_column(col, justify="right" if right else "left", no_wrap=True)
    for row in _shown_rows(ipam_records(load_fleet(Path(fleet)), variables=False)):
        table.add_row(*(Text(cell) for cell in row))
    console = Console(highlight=False, soft_wrap=True)
    needed = console.measure(table, options=console.options.update_width(10_000)).maximum
    if not console.is_terminal and needed > console.width:
        console = Console(highlight=False, soft_wrap=True, width=needed)
    console.print(table)
sys.stdout.flush()
sys.stderr.write("RICH-MODULES " + " ".join(m for m in ("rich", "rich.console") if m in sys.modules))
"""

#: (where, environment, whether Rich writes control codes there, whether ipam leaves the table to Rich)
CASES = [
    ("pipe", {}, False, False),
    ("terminal", {}, True, True),
    ("pipe", {"FORCE_COLOR": "1"}, True, True),
    ("pipe", {"FORCE_COLOR": ""}, False, False),
    ("terminal", {"FORCE_COLOR": ""}, False, False),
    ("terminal", {"NO_COLOR": "1"}, True, True),  # no colour, but a bold header
    ("terminal", {"TTY_COMPATIBLE": "0"}, False, False),
    ("pipe", {"TTY_COMPATIBLE": "1"}, True, True),
    ("pipe", {"TTY_COMPATIBLE": "1", "NO_COLOR": "1"}, True, True),
    ("terminal", {"TERM": "dumb"}, False, True),  # a terminal: Rich decides
    ("pipe", {"COLUMNS": "20"}, False, False),  # the table is wider: Rich gave it its width, so do the lines
]


def _output(who: str, where: str, env: dict[str, str], fleet: Path, *extra: str) -> tuple[bytes, set[str]]:
    args = ["-c", PROBE, who, str(fleet), *extra]
    out = run_shown(where, args, python_env(**env))
    shown, _, modules = out.rpartition(b"RICH-MODULES ")
    return shown, set(modules.decode().split())


@pytest.fixture(scope="module")
def wide_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example fleet with one more site whose name has wide and accented characters."""
    folder = tmp_path_factory.mktemp("wide")
    for name in ("fleet.yaml", "sites.csv"):
        shutil.copy(EXAMPLES / name, folder / name)
    with (folder / "sites.csv").open("a", encoding="utf-8") as csv:
        csv.write('Store-東京-Café-009,"1 Chiyoda, Tokyo",1,9,,,,,,"store_code:TYO009"\n')
    return folder / "fleet.yaml"


@pytest.mark.parametrize(("where", "env", "codes", "by_rich"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_the_bytes_are_richs_and_rich_is_imported_only_where_it_draws(
        where: str, env: dict[str, str], codes: bool, by_rich: bool) -> None:
    ours, ours_modules = _output("mistctl", where, env, EXAMPLES / "fleet.yaml")
    richs, _ = _output("rich", where, env, EXAMPLES / "fleet.yaml")
    assert ours == richs
    assert b"Store-PHX-006" in ours and b"10.0.0.0/24" in ours  # the whole table, addresses not cut short
    assert (b"\x1b[" in ours) is codes  # control codes exactly where Rich writes them
    assert ours_modules == ({"rich", "rich.console"} if by_rich else set())


@pytest.mark.parametrize("where", ["pipe", "terminal"])
def test_wide_characters_are_measured_as_rich_measures_them(where: str, wide_fleet: Path) -> None:
    ours, ours_modules = _output("mistctl", where, {}, wide_fleet)
    richs, _ = _output("rich", where, {}, wide_fleet)
    assert ours == richs and "東京".encode() in ours
    if where == "pipe":  # on the terminal's 80 columns Rich shortens the cells: so it did before
        assert "│ Store-東京-Café-009 │    1 │      9 │ mgmt ".encode() in ours
    # off a terminal only Rich's width table is imported, not its Console
    assert ours_modules == ({"rich", "rich.console"} if where == "terminal" else {"rich"})


def test_where_plainout_is_unsure_rich_still_writes_the_table() -> None:
    ours, ours_modules = _output("mistctl", "pipe", {}, EXAMPLES / "fleet.yaml", "--ipython")
    richs, _ = _output("rich", "pipe", {}, EXAMPLES / "fleet.yaml", "--ipython")
    assert ours == richs and b"Store-PHX-006" in ours
    assert "rich.console" in ours_modules  # no terminal, but plainout left it to Rich
