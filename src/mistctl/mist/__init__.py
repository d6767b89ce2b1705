"""The Mist cloud API adapter: `MistClient`, its errors, the call budget, the clock and the call meter.

The names below are imported from their modules when first asked for (PEP 562): importing one module of
the package (`mistctl.mist.errors`, say) does not import the client and httpx with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mistctl.mist.budget import BudgetState, CallBudget, InMemoryCallBudget, token_fingerprint
    from mistctl.mist.client import MistClient
    from mistctl.mist.clock import Clock, ManualClock, SystemClock
    from mistctl.mist.errors import (
        BadRequest,
        Forbidden,
        MalformedResponse,
        MistError,
        MistStatusError,
        MistTransportError,
        NotFound,
        OutcomeUnknown,
        RateLimited,
        ServerError,
        Unauthorized,
    )
    from mistctl.mist.http import base_url_for, build_http_client
    from mistctl.mist.meter import CallMeter, CallRecord, CallStats
    from mistctl.mist.retry import RetryPolicy

#: name -> the module that defines it
_HOME: dict[str, str] = {
    "BudgetState": "budget",
    "CallBudget": "budget",
    "InMemoryCallBudget": "budget",
    "token_fingerprint": "budget",
    "MistClient": "client",
    "Clock": "clock",
    "ManualClock": "clock",
    "SystemClock": "clock",
    "BadRequest": "errors",
    "Forbidden": "errors",
    "MalformedResponse": "errors",
    "MistError": "errors",
    "MistStatusError": "errors",
    "MistTransportError": "errors",
    "NotFound": "errors",
    "OutcomeUnknown": "errors",
    "RateLimited": "errors",
    "ServerError": "errors",
    "Unauthorized": "errors",
    "base_url_for": "http",
    "build_http_client": "http",
    "CallMeter": "meter",
    "CallRecord": "meter",
    "CallStats": "meter",
    "RetryPolicy": "retry",
}


__all__ = [
    "BadRequest",
    "BudgetState",
    "CallBudget",
    "CallMeter",
    "CallRecord",
    "CallStats",
    "Clock",
    "Forbidden",
    "InMemoryCallBudget",
    "MalformedResponse",
    "ManualClock",
    "MistClient",
    "MistError",
    "MistStatusError",
    "MistTransportError",
    "NotFound",
    "OutcomeUnknown",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "SystemClock",
    "Unauthorized",
    "base_url_for",
    "build_http_client",
    "token_fingerprint",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
