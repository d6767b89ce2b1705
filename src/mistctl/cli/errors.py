"""Exit codes and the one place user errors become clear messages instead of tracebacks.

Exit codes: 0 done, 1 some sites (or the run) failed, 2 invalid input (fleet file, plan, flags, token),
3 drift found.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import typer

from mistctl.domain.textsafe import printable
from mistctl.errors import UserError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_DRIFT = 3

__all__ = ["UserError", "fail", "handle_errors"]

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    """Print an error to stderr and exit with `code`."""
    from rich.console import Console  # here: a command that succeeds need not import Rich
    from rich.markup import escape

    shown = escape(printable(message, lines=True))  # a name in it must not act on the terminal
    Console(stderr=True, highlight=False).print(f"[red]error:[/red] {shown}", markup=True)
    raise typer.Exit(code)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the user errors a command may meet into a message and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from mistctl.domain.errors import FleetInvalid
        from mistctl.mist.errors import MistError, Unauthorized
        from mistctl.store.errors import StoreUnavailable
        from mistctl.workflow.deploy import PlanRefused

        try:
            return fn(*args, **kwargs)
        except (FleetInvalid, PlanRefused, UserError, ValueError, Unauthorized) as exc:
            fail(str(exc))  # Unauthorized before MistError: a bad token is invalid input (2), not a failure
        except MistError as exc:
            fail(f"Mist: {exc}", EXIT_FAILED)
        except StoreUnavailable as exc:  # Redis down or a wrong store URL: its message says which, and the fix
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted; re-run the same command to resume where it stopped", 130)

    return wrapper
