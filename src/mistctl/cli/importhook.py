"""Run a context around the next import of one library module: how the command line keeps work it never needs
out of a library's import (cli/richhelp.py: Rich's Markdown and tracebacks for Typer's help; cli/standins.py:
PyYAML's regular expressions of its pure-Python reader).

`around_import(name, around)` puts a finder on `sys.meta_path` that, when `name` is imported, finds its real
spec (without itself: it is used once) and has the real loader run its module inside `around()`.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

Around = Callable[[], AbstractContextManager[Any]]


class _Loader:  # the loader protocol (importlib.abc would import importlib.resources: 5 ms)
    """Runs the real loader's `exec_module` inside `around()`."""

    def __init__(self, real: Any, around: Around) -> None:
        self.real = real
        self.around = around

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        created: types.ModuleType | None = self.real.create_module(spec)
        return created

    def exec_module(self, module: types.ModuleType) -> None:
        with self.around():
            self.real.exec_module(module)


class _Finder:  # the meta path finder protocol
    def __init__(self, name: str, around: Around) -> None:
        self.name = name
        self.around = around

    def find_spec(self, fullname: str, path: Sequence[str] | None,  # noqa: ARG002 (the finder protocol)
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:  # noqa: ARG002
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)  # once: find the real spec without this finder
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader, self.around)  # type: ignore[assignment]
        return spec


def around_import(name: str, around: Around) -> None:
    """Have the next import of `name` run inside `around()` (nothing if it is imported, or hooked, already)."""
    if name not in sys.modules and not any(isinstance(f, _Finder) and f.name == name for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder(name, around))
