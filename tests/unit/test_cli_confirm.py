"""`cli/confirm.confirm`: off a terminal it refuses, after showing the summary the refusal asks to review."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from mistctl.cli import confirm as confirm_mod
from mistctl.errors import UserError


def test_off_a_terminal_the_summary_is_shown_before_the_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(confirm_mod, "interactive", lambda: False)
    shown = io.StringIO()
    with pytest.raises(UserError, match="nobody to confirm the rotation: review it, then pass --yes"):
        confirm_mod.confirm("Rotate these passphrases?", yes=False, what="the rotation",
                            summary=["rotate the passphrase of handheld-scanners"],
                            out=Console(file=shown, width=200))
    assert shown.getvalue() == "rotate the passphrase of handheld-scanners\n"


def test_yes_shows_nothing_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(confirm_mod, "interactive", lambda: False)
    shown = io.StringIO()
    confirm_mod.confirm("Go?", yes=True, what="it", summary=["a line"], out=Console(file=shown))
    assert shown.getvalue() == ""
