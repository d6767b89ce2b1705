"""Stand-ins for two library modules the command line never uses, so that they are not imported at start-up.

- `pydantic.plugin._loader`: the first model pydantic builds imports it, and it imports `importlib.metadata`
  at its top (about 28 ms of CPU) even when ``PYDANTIC_DISABLE_PLUGINS`` says there are no plugins to look
  for; its `get_plugins()` then answers ``()`` without using it. The stand-in answers the same while plugins
  stay off (it is installed only then); should they be switched on later in the process, the real loader is
  imported and answers from then on.
- `httpx._main`: `import httpx` imports httpx's own command line (`httpx.main`) and with it click, Pygments
  and Rich's syntax highlighting (about 40 ms), which mistctl never runs. The stand-in's `main` imports the
  real one and runs it.

`install` puts them in `sys.modules` only where the real module is not imported yet.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from collections.abc import Iterable
from typing import Any

PLUGIN_LOADER = "pydantic.plugin._loader"
HTTPX_MAIN = "httpx._main"
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


def install() -> None:
    """Put the stand-ins in place (pydantic's loader only while plugins are off)."""
    if _plugins_off():
        _stand_in(PLUGIN_LOADER, get_plugins=_get_plugins, PYDANTIC_ENTRY_POINT_GROUP="pydantic")
    _stand_in(HTTPX_MAIN, main=_httpx_main)
