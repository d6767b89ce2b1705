"""CLI commands: fleet_cmds (placeholder until its area lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    del app
