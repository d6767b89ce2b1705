"""The cyclic garbage collector paused while the command line starts, and resumed when a command begins.

A start-up is mostly imports: Typer, pydantic and its schemas, PyYAML, the command's modules. They allocate
a few hundred thousand objects, and the collector's passes over them (about 60 young and 6 middle ones for
`mistctl validate`) find next to nothing to free: about 9 ms of CPU of its 0.22 s. `pause` (at the top of
`python -m mistctl` and of `main`) turns the collector off; every command's callback is wrapped by
`resuming` (cli/lazy.py), which turns it back on before the command's own work, so a long `apply`, a server
or a worker runs with the collector as usual. Reference counting frees objects meanwhile as always; only
cycles wait, and the first pass after `resume` frees them. When the collector was already off (a caller's
choice), neither touches it.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_paused: list[bool] = []  # one entry while `pause` holds the collector off


def pause() -> None:
    """Turn the collector off until `resume`, if it is on."""
    if gc.isenabled() and not _paused:
        gc.disable()
        _paused.append(True)


def resume() -> None:
    """Turn the collector back on, if `pause` turned it off, with what the start-up made frozen (`gc.freeze`):
    left out of its passes, or the first would walk every one of them (10 ms)."""
    if _paused:
        _paused.clear()
        gc.freeze()
        gc.enable()


def resuming(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn`, resuming the collector first (a command's callback: its own work runs with the collector on)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        resume()
        return fn(*args, **kwargs)

    wrapper.__resumes_gc__ = True  # type: ignore[attr-defined]
    return wrapper
