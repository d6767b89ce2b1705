"""`echo_styled` (cli/plainout.py) writes the bytes Rich's Console writes, on a pipe and on a terminal, whatever
the environment says of colours; and it imports Rich only where Rich would add something."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.terminal import python_env, run_on_pipe, run_on_terminal, run_shown

TEXTS = [
    "fleet OK: 20 sites in 3 zones, 27 org objects",
    "Zürich – 東京: wide characters and a long line " + "x" * 200,
    "[red]markup is text here[/red] :smile: http://example.com 10.0.0.1",
    "trailing spaces   ",
    "",
    "a\ttab",  # Rich expands it: left to Rich
    "a bell \x07 and an escape \x1b[31m",  # Rich strips the bell (not the escape): left to Rich
]

PROBE = """
import json, sys
texts = json.loads(sys.argv[2])
if sys.argv[1] == "mistctl":
    from mistctl.cli.plainout import echo_styled
    for text in texts:
        echo_styled(text, "green")
        echo_styled(text, "bold red", stderr=True)
else:
    from rich.console import Console
    from rich.text import Text
    for text in texts:
        Console(highlight=False, soft_wrap=True).print(Text(text, style="green"))
        Console(stderr=True, highlight=False, soft_wrap=True).print(Text(text, style="bold red"))
sys.stdout.flush()
sys.stderr.write("RICH-IMPORTED " + str("rich" in sys.modules))
"""

#: (where, environment, whether Rich writes control codes there, whether echo_styled leaves it to Rich)
CASES = [
    ("pipe", {}, False, False),
    ("terminal", {}, True, True),
    ("pipe", {"FORCE_COLOR": "1"}, True, True),
    ("pipe", {"FORCE_COLOR": ""}, False, False),
    ("terminal", {"NO_COLOR": "1"}, True, True),  # no colour, but bold
    ("terminal", {"TTY_COMPATIBLE": "0"}, False, False),
    ("pipe", {"TTY_COMPATIBLE": "1"}, True, True),
    ("terminal", {"TERM": "dumb"}, False, True),  # a terminal: Rich decides
    ("pipe", {"COLUMNS": "20"}, False, False),
]


def _output(who: str, where: str, env: dict[str, str], texts: list[str]) -> tuple[bytes, bool]:
    args = ["-c", PROBE, who, json.dumps(texts)]
    out = run_shown(where, args, python_env(**env))
    shown, _, imported = out.rpartition(b"RICH-IMPORTED ")
    return shown, imported == b"True"


@pytest.mark.parametrize(("where", "env", "codes", "by_rich"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_the_bytes_are_richs_and_rich_is_imported_only_where_it_adds_something(
        where: str, env: dict[str, str], codes: bool, by_rich: bool) -> None:
    ours, ours_imported = _output("mistctl", where, env, TEXTS[:5])
    richs, _ = _output("rich", where, env, TEXTS[:5])
    assert ours == richs
    assert ours.count(b"fleet OK: 20 sites in 3 zones, 27 org objects") == 2  # stdout and stderr
    assert (b"\x1b[" in ours) is codes  # control codes exactly where Rich writes them
    assert ours_imported is by_rich


@pytest.mark.parametrize("where", ["pipe", "terminal"])
def test_text_rich_would_change_is_left_to_rich(where: str) -> None:
    ours, ours_imported = _output("mistctl", where, {}, TEXTS[5:])
    richs, _ = _output("rich", where, {}, TEXTS[5:])
    assert ours == richs and ours_imported
    assert b"\t" not in ours and b"\x07" not in ours  # Rich expanded the tab and stripped the bell


@pytest.mark.parametrize("where", ["pipe", "terminal"])
def test_validate_of_a_valid_fleet_prints_what_rich_printed(where: str) -> None:
    example = str(Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml")
    if where == "pipe":
        code, shown, err = run_on_pipe(["-m", "mistctl", "validate", example], python_env())
        assert err == b""
    else:
        code, shown = run_on_terminal(["-m", "mistctl", "validate", example], python_env())
    both, _ = _output("rich", where, {}, ["fleet OK: 20 sites in 3 zones, 27 org objects"])
    end = b"\n" if where == "pipe" else b"\r\n"  # the terminal shows Rich's stdout line first, then its stderr's
    expected = both.partition(end)[0] + end
    assert code == 0 and shown == expected
    assert (b"\x1b[32m" in shown) is (where == "terminal")  # green on a terminal only, as before
