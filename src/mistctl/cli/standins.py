"""Stand-ins for library parts the command line never uses, so that they are not imported or built at start-up.

- `pydantic.plugin._loader`: the first model pydantic builds imports it, and it imports `importlib.metadata`
  at its top (about 28 ms of CPU) even when ``PYDANTIC_DISABLE_PLUGINS`` says there are no plugins to look
  for; its `get_plugins()` then answers ``()`` without using it. The stand-in answers the same while plugins
  stay off (it is installed only then); should they be switched on later in the process, the real loader is
  imported and answers from then on.
- `httpx._main`: `import httpx` imports httpx's own command line (`httpx.main`) and with it click, Pygments
  and Rich's syntax highlighting (about 40 ms), which mistctl never runs. The stand-in's `main` imports the
  real one and runs it.
- PyYAML's pure-Python reader and constructor compile regular expressions as `import yaml` runs them: the
  reader's `NON_PRINTABLE` alone takes 5 ms of CPU, for a reader mistctl does not use (libyaml reads its
  fleet files), and the constructor's `timestamp_regexp` is for timestamps, which a fleet file seldom has.
  While those two modules are imported, `re.compile` called from their own code hands back a `LazyPattern`,
  compiled on first use.

`install` puts them in `sys.modules` (and the two hooks on the imports, cli/importhook.py) only where the real
module is not imported yet.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import types
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from mistctl.cli.importhook import around_import

PLUGIN_LOADER = "pydantic.plugin._loader"
HTTPX_MAIN = "httpx._main"
LAZY_REGEX_MODULES = ("yaml.reader", "yaml.constructor")
_OFF = ("__all__", "1", "true")  # the values pydantic's own loader reads as "no plugins at all"


def _plugins_off() -> bool:
    return os.environ.get("PYDANTIC_DISABLE_PLUGINS") in _OFF


def _real(name: str) -> Any:
    """The real module, imported in the stand-in's place from now on."""
    sys.modules.pop(name, None)
    return importlib.import_module(name)


def _get_plugins() -> Iterable[Any]:
    """What pydantic's `get_plugins()` answers: nothing while plugins are off, else the real loader's answer."""
    if _plugins_off():
        return ()
    return _real(PLUGIN_LOADER).get_plugins()  # type: ignore[no-any-return]


def _httpx_main(*args: Any, **kwargs: Any) -> Any:
    """httpx's command line, the real one."""
    return _real(HTTPX_MAIN).main(*args, **kwargs)


def _stand_in(name: str, **attrs: Any) -> None:
    if name not in sys.modules:
        module = types.ModuleType(name, f"A stand-in of mistctl's (mistctl.cli.standins) for {name}.")
        module.__dict__.update(attrs)
        sys.modules[name] = module


class LazyPattern:
    """A regular expression compiled when it is first used (then its attributes are the compiled one's)."""

    def __init__(self, pattern: Any, flags: Any) -> None:
        self._args = (pattern, flags)

    def __getattr__(self, name: str) -> Any:  # pattern.search(...): compiled once, then read directly
        value = getattr(_REAL_COMPILE(*self._args), name)
        setattr(self, name, value)
        return value


_REAL_COMPILE = re.compile


def _lazy(pattern: Any, flags: Any = 0) -> Any:
    """`re.compile` while a module of LAZY_REGEX_MODULES runs: lazy for that module's own code only."""
    if sys._getframe(1).f_globals.get("__name__") in LAZY_REGEX_MODULES:
        return LazyPattern(pattern, flags)
    return _REAL_COMPILE(pattern, flags)


@contextmanager
def _compiled_lazily() -> Iterator[None]:
    re.compile = _lazy
    try:
        yield
    finally:
        re.compile = _REAL_COMPILE


def install() -> None:
    """Put the stand-ins in place (pydantic's loader only while plugins are off)."""
    if _plugins_off():
        _stand_in(PLUGIN_LOADER, get_plugins=_get_plugins, PYDANTIC_ENTRY_POINT_GROUP="pydantic")
    _stand_in(HTTPX_MAIN, main=_httpx_main)
    for name in LAZY_REGEX_MODULES:
        around_import(name, _compiled_lazily)
