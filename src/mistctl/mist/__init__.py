"""The Mist cloud API adapter: `MistClient`, its errors, the call budget, the clock and the call meter.

The names below are imported from their modules when first asked for (PEP 562): importing one module of
the package (`mistctl.mist.errors`, say) does not import the client and httpx with it.

`_EXPORTS` is the one table of the names: `__all__` and `__getattr__` are derived from it. Type checkers read
neither a derived `__all__` nor `__getattr__`'s imports, so the `TYPE_CHECKING` block imports the same names
explicitly (`X as X`: re-exported under mypy --strict); `tests/unit/test_mist_exports.py` checks that it
imports exactly the table's names from the table's modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mistctl.mist.budget import BudgetState as BudgetState
    from mistctl.mist.budget import CallBudget as CallBudget
    from mistctl.mist.budget import InMemoryCallBudget as InMemoryCallBudget
    from mistctl.mist.budget import token_fingerprint as token_fingerprint
    from mistctl.mist.client import MistClient as MistClient
    from mistctl.mist.clock import Clock as Clock
    from mistctl.mist.clock import ManualClock as ManualClock
    from mistctl.mist.clock import SystemClock as SystemClock
    from mistctl.mist.errors import BadRequest as BadRequest
    from mistctl.mist.errors import Forbidden as Forbidden
    from mistctl.mist.errors import MalformedResponse as MalformedResponse
    from mistctl.mist.errors import MistError as MistError
    from mistctl.mist.errors import MistStatusError as MistStatusError
    from mistctl.mist.errors import MistTransportError as MistTransportError
    from mistctl.mist.errors import NotFound as NotFound
    from mistctl.mist.errors import OutcomeUnknown as OutcomeUnknown
    from mistctl.mist.errors import RateLimited as RateLimited
    from mistctl.mist.errors import ServerError as ServerError
    from mistctl.mist.errors import Unauthorized as Unauthorized
    from mistctl.mist.http import base_url_for as base_url_for
    from mistctl.mist.http import build_http_client as build_http_client
    from mistctl.mist.meter import CallMeter as CallMeter
    from mistctl.mist.meter import CallRecord as CallRecord
    from mistctl.mist.meter import CallStats as CallStats
    from mistctl.mist.retry import RetryPolicy as RetryPolicy

#: module of the package -> the names it defines that the package exports
_EXPORTS: dict[str, tuple[str, ...]] = {
    "budget": ("BudgetState", "CallBudget", "InMemoryCallBudget", "token_fingerprint"),
    "client": ("MistClient",),
    "clock": ("Clock", "ManualClock", "SystemClock"),
    "errors": ("BadRequest", "Forbidden", "MalformedResponse", "MistError", "MistStatusError",
               "MistTransportError", "NotFound", "OutcomeUnknown", "RateLimited", "ServerError", "Unauthorized"),
    "http": ("base_url_for", "build_http_client"),
    "meter": ("CallMeter", "CallRecord", "CallStats"),
    "retry": ("RetryPolicy",),
}

#: name -> the module that defines it
_HOME: dict[str, str] = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
