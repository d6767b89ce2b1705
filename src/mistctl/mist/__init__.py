"""The Mist cloud API adapter: `MistClient`, its errors, the call budget, the clock and the call meter."""

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
