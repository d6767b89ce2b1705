"""Asking before a command changes Mist: a summary of what it will do, then yes or no.

Every command that writes to a live org (`apply`, `drift --fix`, `upgrade`, `psk rotate`, `psk finish`)
goes through `confirm`: `--yes` skips the question (scripts); off a terminal there is nobody to answer,
so the command refuses (exit 2, before any write) and says to pass `--yes`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import typer
from rich.console import Console

from mistctl.cli.errors import EXIT_INVALID
from mistctl.errors import UserError


def interactive() -> bool:
    """True when a person can answer (stdin is a terminal)."""
    return sys.stdin.isatty()


def require_answerable(yes: bool, what: str, hint: str = "") -> None:
    """Refuse early (before any Mist call) when a question would be needed and nobody can answer it."""
    if not yes and not interactive():
        raise UserError(f"not on a terminal, so there is nobody to confirm {what}: review it, then pass --yes"
                        + (f" ({hint})" if hint else ""))


def confirm(question: str, *, yes: bool, what: str, summary: Iterable[str] = (),
            out: Console | None = None, hint: str = "") -> None:
    """Go on when `yes` or the user says yes; exit 2 ("nothing changed") when they say no."""
    if yes:
        return
    out = out or Console(stderr=True, highlight=False, soft_wrap=True)
    for line in summary:  # shown off a terminal too: the refusal says to review it
        out.print(line, markup=False)
    require_answerable(yes, what, hint)
    if not typer.confirm(question, default=False, err=True):  # stdout stays for results (--json)
        out.print("Nothing changed.")
        raise typer.Exit(EXIT_INVALID)
