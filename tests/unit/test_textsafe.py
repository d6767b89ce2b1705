"""Control characters: refused in fleet names, shown escaped on output (mistctl.domain.textsafe)."""

from __future__ import annotations

from mistctl.cli.render import safe
from mistctl.domain.errors import Origin
from mistctl.domain.textsafe import control_chars, printable, text_issues


def test_printable_escapes_c0_c1_del_and_bidi_controls_and_keeps_the_rest() -> None:
    assert printable("a\x1b[2Jb\x07c\x7fd\x9be\u202ef") == "a\\x1b[2Jb\\x07c\\x7fd\\x9be\\u202ef"
    assert printable("Zürich – 東京") == "Zürich – 東京"
    assert printable("one\ntwo\tthree", lines=True) == "one\ntwo\tthree"
    assert printable("one\ntwo") == "one\\x0atwo"


def test_safe_escapes_rich_markup_too() -> None:
    assert safe("[bold]x\x1b]0;t\x07") == "\\[bold]x\\x1b]0;t\\x07"


def test_names_allow_no_control_character_other_text_tabs_and_newlines() -> None:
    assert control_chars("a\tb") == ["\\x09"]
    assert control_chars("a\tb\nc", name=False) == []
    issues = text_issues({"org": {"networks": [{"name": "lan\x1b[2J", "notes": "two\nlines"}]},
                          "x\x07": 1}, Origin("fleet.yaml", 3))
    assert [(i.item, i.line) for i in issues] == [("org.networks[0].name", 3), ("x\\x07", 3)]
    assert "\\x1b" in issues[0].message and "\x1b" not in issues[0].message


def test_the_cli_console_escapes_control_characters_a_table_forgot_and_keeps_its_styles() -> None:
    import io

    from rich.table import Table

    from mistctl.cli.render import SafeConsole

    table = Table(title="from Mist")
    table.add_column("name", style="bold")
    table.add_row("Store\x1b[2J\x1b]0;pwned\x07")
    for tty in (False, True):
        out = io.StringIO()
        con = SafeConsole(file=out, force_terminal=tty, width=80, highlight=False)
        con.print(table)
        con.print("line one\nline\ttwo")
        text = out.getvalue()
        assert "\x1b[2J" not in text and "\x1b]0;" not in text and "\x07" not in text
        assert "Store\\x1b[2J\\x1b]0;pwned" in text and "line one\nline" in text  # Rich drops BEL itself
        assert ("\x1b[1m" in text) is tty  # the style of the column is still applied on a terminal
