"""The call meter: every request the client sends (retries and 429s included) is counted here.

Calls are the scarce resource with Mist, so the workflow reports calls per site, the audit log records
them and the metrics endpoint exports them; all read `CallMeter.snapshot()` or listen on `on_call`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

#: Outcome words for a call: what happened on the wire.
OK = "ok"
CLIENT_ERROR = "client_error"  # 4xx other than 429
SERVER_ERROR = "server_error"  # 5xx
RATE_LIMITED = "rate_limited"  # 429
TRANSPORT_ERROR = "transport_error"  # no answer (connect, timeout, dropped)


def outcome_of(status: int | None) -> str:
    """The outcome word for an answer's status (None when no answer came back)."""
    if status is None:
        return TRANSPORT_ERROR
    if status == 429:
        return RATE_LIMITED
    if status >= 500:
        return SERVER_ERROR
    if status >= 400:
        return CLIENT_ERROR
    return OK


@dataclass(frozen=True)
class CallRecord:
    """One request on the wire."""

    method: str
    template: str  # the spec's path template, e.g. /api/v1/orgs/{org_id}/sites
    path: str  # the path with its ids
    status: int | None  # None when no answer came back
    outcome: str
    duration: float  # seconds, by the client's clock
    attempt: int  # 1 for the first try of a call, 2.. for retries
    token: str  # the token's fingerprint


def _frozen(counter: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(counter))


@dataclass(frozen=True)
class CallStats:
    """A snapshot of the meter; subtract two snapshots to count the calls of one piece of work."""

    total: int = 0
    by_method: Mapping[str, int] = field(default_factory=dict)
    by_outcome: Mapping[str, int] = field(default_factory=dict)
    by_template: Mapping[str, int] = field(default_factory=dict)

    def __sub__(self, other: CallStats) -> CallStats:
        def minus(a: Mapping[str, int], b: Mapping[str, int]) -> Mapping[str, int]:
            return _frozen(+(Counter(a) - Counter(b)))

        return CallStats(
            total=self.total - other.total,
            by_method=minus(self.by_method, other.by_method),
            by_outcome=minus(self.by_outcome, other.by_outcome),
            by_template=minus(self.by_template, other.by_template),
        )


class CallMeter:
    """Counts calls and forwards each `CallRecord` to an optional hook."""

    def __init__(self, on_call: Callable[[CallRecord], None] | None = None) -> None:
        self._on_call = on_call
        self._total = 0
        self._by_method: Counter[str] = Counter()
        self._by_outcome: Counter[str] = Counter()
        self._by_template: Counter[str] = Counter()

    def record(self, rec: CallRecord) -> None:
        """Count one call and tell the hook."""
        self._total += 1
        self._by_method[rec.method] += 1
        self._by_outcome[rec.outcome] += 1
        self._by_template[f"{rec.method} {rec.template}"] += 1
        if self._on_call is not None:
            self._on_call(rec)

    def snapshot(self) -> CallStats:
        """The counts so far."""
        return CallStats(
            total=self._total,
            by_method=_frozen(self._by_method),
            by_outcome=_frozen(self._by_outcome),
            by_template=_frozen(self._by_template),
        )
