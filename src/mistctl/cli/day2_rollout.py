"""`mistctl assure` and `mistctl upgrade`: SLE gates and canary firmware rollouts."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the assurance and rollout commands."""
    del app
