"""Typer's Rich help without the two Rich modules it imports and mistctl never uses.

`typer.rich_utils` (imported by Typer for any help page or usage error) imports `rich.markdown` (with
markdown-it) and `rich.traceback` (with pygments) at its top: 0.13 s of CPU, a third of `mistctl --help`,
for Markdown help (mistctl's help is plain text) and pretty tracebacks (turned off in cli/main.py).
`install()` has Typer's import of `typer.rich_utils` (cli/importhook.py) see stand-ins for `Markdown` and
`Traceback`: classes that import the real module the moment either is used, and hand back the real object.
The stand-ins are visible to `typer.rich_utils` only: once it is imported they leave `sys.modules`, and any
other import of `rich.markdown` or `rich.traceback` gets the real one.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mistctl.cli.importhook import around_import

TARGET = "typer.rich_utils"
#: module -> the one name `typer.rich_utils` takes from it
DEFERRED = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


class _Deferred(type):
    """The metaclass of a stand-in: calling it or reading an attribute imports and uses the real class."""

    _module: str

    def real(cls) -> Any:
        return getattr(importlib.import_module(cls._module), cls.__name__)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls.real()(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:  # Traceback.from_exception(...)
        return getattr(cls.real(), name)


def _stand_in(module: str, name: str) -> types.ModuleType:
    stand_in = types.ModuleType(module, "A stand-in used while typer.rich_utils is imported (mistctl.cli.richhelp).")
    setattr(stand_in, name, _Deferred(name, (), {"_module": module}))
    return stand_in


@contextmanager
def _stand_ins() -> Iterator[None]:
    """The stand-ins in `sys.modules` while `typer.rich_utils` is imported, removed afterwards."""
    added = {name: _stand_in(name, attr) for name, attr in DEFERRED.items() if name not in sys.modules}
    sys.modules.update(added)
    try:
        yield
    finally:
        for name, stand_in in added.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]


def install() -> None:
    """Have the next import of `typer.rich_utils` use the stand-ins (nothing if it is imported already)."""
    around_import(TARGET, _stand_ins)
