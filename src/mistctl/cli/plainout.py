"""One styled line, written without importing Rich where Rich would write it as plain text.

Rich's Console takes about 30 ms of CPU to import, an eighth of `mistctl validate`, whose whole output on a
valid fleet is one green line. Off a terminal Rich writes no colour and no control codes: a printable line
(no tabs, no control characters) comes out exactly as it went in, plus a newline. `echo_styled` writes it
so in that case and leaves every other one to Rich: a terminal, Jupyter, IDLE, a stream Rich has proxied,
and whatever the environment forces (`TTY_COMPATIBLE`, `FORCE_COLOR`: Rich's own reading of them below).
`tests/unit/test_plainout.py` checks the bytes against Rich's, on a pipe and on a pseudo-terminal.
"""

from __future__ import annotations

import builtins
import os
import sys
from typing import TextIO


def _stream(stderr: bool) -> TextIO | None:
    return sys.stderr if stderr else sys.stdout


def rich_writes_plain(stderr: bool = False) -> bool:
    """True only when a `Console(stderr=stderr)` would find no terminal (Rich's `Console.is_terminal`) and so
    write text without colour or control codes; False whenever unsure (Rich then decides)."""
    if hasattr(builtins, "get_ipython"):  # Jupyter renders styles as HTML; IPython: leave it to Rich
        return False
    if str(getattr(sys.stdin, "__module__", "")).startswith("idlelib"):  # IDLE: leave it to Rich
        return False
    stream = _stream(stderr)
    if stream is None or hasattr(stream, "rich_proxied_file"):
        return False
    tty_compatible = os.environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "0"
    if os.environ.get("FORCE_COLOR") is not None:
        return os.environ["FORCE_COLOR"] == ""
    isatty = getattr(stream, "isatty", None)
    try:
        return isatty is None or not isatty()
    except ValueError:  # a closed stream (Rich reads it as no terminal too)
        return True


def echo_styled(text: str, style: str, *, stderr: bool = False) -> None:
    """Print `text` as `Console(stderr=stderr, highlight=False, soft_wrap=True).print(Text(text, style=style))`
    does, the same bytes, importing Rich only where it would add something."""
    stream = _stream(stderr)
    if text.isprintable() and rich_writes_plain(stderr) and stream is not None:
        stream.write(text + "\n")
        stream.flush()
        return
    from rich.console import Console
    from rich.text import Text

    Console(stderr=stderr, highlight=False, soft_wrap=True).print(Text(text, style=style))
