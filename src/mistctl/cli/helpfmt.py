"""How `mistctl --help` reads: flags shown as flags, help text wrapped to the terminal's width.

Two corrections to Typer's Rich help, applied once when the app is built (`cli/main.py`):

- Typer 0.29 prints a boolean flag with a value placeholder (`--dry-run <bool>`), as if it took a
  value; a flag takes none, so its type column is left empty.
- Typer's Rich mode keeps the single line breaks of a docstring, so a command's help broke mid-sentence
  at the source's line length; paragraphs are joined into one line each and Rich wraps them to the width.
"""

from __future__ import annotations

import inspect
import re

import typer
from typer import _click
from typer.core import TyperOption

_PLAIN_DISPLAY = TyperOption.display_type_rich


def _display_type(self: TyperOption, ctx: _click.Context) -> str | None:
    if self.is_flag and not self.count:
        return None
    return _PLAIN_DISPLAY(self, ctx)


def unwrap(doc: str) -> str:
    """A docstring with each paragraph on one line (paragraphs stay apart)."""
    paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(doc))
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def tidy_help(app: typer.Typer) -> None:
    """Show flags as flags and give every command (sub-apps too) help that wraps to the terminal."""
    TyperOption.display_type_rich = _display_type  # type: ignore[method-assign]
    for command in app.registered_commands:
        doc = command.help or (command.callback.__doc__ if command.callback else None)
        if doc:
            command.help = unwrap(doc)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            tidy_help(group.typer_instance)
