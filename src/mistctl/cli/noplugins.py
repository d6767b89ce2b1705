"""pydantic's plugin loader, left unimported while plugins are switched off.

The first model pydantic builds imports `pydantic.plugin._loader`, which imports `importlib.metadata` at its
top (about 28 ms of CPU) even when ``PYDANTIC_DISABLE_PLUGINS`` says there are no plugins to look for, and its
`get_plugins()` then answers ``()`` without using it. `install` puts a module with the same `get_plugins` in
its place for that case: ``()`` while plugins stay off; should they be switched on later in the process, the
real loader is imported and answers from then on.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from collections.abc import Iterable
from typing import Any

LOADER = "pydantic.plugin._loader"
_OFF = ("__all__", "1", "true")  # the values pydantic's own loader reads as "no plugins at all"


def _plugins_off() -> bool:
    return os.environ.get("PYDANTIC_DISABLE_PLUGINS") in _OFF


def _get_plugins() -> Iterable[Any]:
    """What pydantic's `get_plugins()` answers: nothing while plugins are off, else the real loader's answer."""
    if _plugins_off():
        return ()
    sys.modules.pop(LOADER, None)  # switched on since `install`: the real loader, from now on
    real: Any = importlib.import_module(LOADER)
    return real.get_plugins()  # type: ignore[no-any-return]


def install() -> None:
    """Stand in for pydantic's plugin loader when plugins are off and it is not imported yet."""
    if not _plugins_off() or LOADER in sys.modules:
        return
    stub = types.ModuleType(LOADER, __doc__)
    stub.__dict__.update(get_plugins=_get_plugins, PYDANTIC_ENTRY_POINT_GROUP="pydantic")
    sys.modules[LOADER] = stub
