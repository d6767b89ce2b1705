"""Typer's Rich help without the two Rich modules it imports and mistctl never uses.

`typer.rich_utils` (imported by Typer for any help page or usage error) imports `rich.markdown` (with
markdown-it) and `rich.traceback` (with pygments) at its top: 0.13 s of CPU, a third of `mistctl --help`,
for Markdown help (mistctl's help is plain text) and pretty tracebacks (turned off in cli/main.py).
`install()` puts a finder on `sys.meta_path` that, when Typer imports `typer.rich_utils`, lets it see
stand-ins for `Markdown` and `Traceback`: classes that import the real module the moment either is used,
and hand back the real object. The stand-ins are visible to `typer.rich_utils` only: once it is imported
they leave `sys.modules`, and any other import of `rich.markdown` or `rich.traceback` gets the real one.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Sequence
from typing import Any

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


class _Loader:  # the loader protocol (importlib.abc would import importlib.resources: 5 ms)
    """Runs the real loader of `typer.rich_utils` with the stand-ins in `sys.modules`, then removes them."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        created: types.ModuleType | None = self.real.create_module(spec)
        return created

    def exec_module(self, module: types.ModuleType) -> None:
        added = {name: _stand_in(name, attr) for name, attr in DEFERRED.items() if name not in sys.modules}
        sys.modules.update(added)
        try:
            self.real.exec_module(module)
        finally:
            for name, stand_in in added.items():
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]


class _Finder:  # the meta path finder protocol
    def find_spec(self, fullname: str, path: Sequence[str] | None,  # noqa: ARG002 (the finder protocol)
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:  # noqa: ARG002
        if fullname != TARGET:
            return None
        sys.meta_path.remove(self)  # once: find the real spec without this finder
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)  # type: ignore[assignment]
        return spec


def install() -> None:
    """Have the next import of `typer.rich_utils` use the stand-ins (nothing if it is imported already)."""
    if TARGET not in sys.modules and not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
