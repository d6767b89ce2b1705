"""The state store: what mistctl did and where each site stands (SQLite default, Redis, memory).

`open_store(url)` builds an adapter for the `StateStore` port; records are in `models`, errors in
`errors`, redaction and secret fingerprints in `redact`.
"""

from typing import TYPE_CHECKING, Any

from mistctl.store._common import ANY_SITE, AnySite
from mistctl.store.errors import (
    RecordNotFound,
    RecordRejected,
    StoreConfigError,
    StoreError,
    StoreUnavailable,
)
from mistctl.store.factory import open_store
from mistctl.store.memory import MemoryStore
from mistctl.store.models import (
    AuditEntry,
    Event,
    Fingerprint,
    LockInfo,
    ObjRef,
    Run,
    RunPatch,
    SiteState,
    SleCheck,
    StepRecord,
)
from mistctl.store.port import StateStore
from mistctl.store.redact import fingerprint_secret, redact, redact_text
from mistctl.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from mistctl.store.redis_store import RedisStore

__all__ = [
    "ANY_SITE",
    "AnySite",
    "AuditEntry",
    "Event",
    "Fingerprint",
    "LockInfo",
    "MemoryStore",
    "ObjRef",
    "RecordNotFound",
    "RecordRejected",
    "RedisStore",
    "Run",
    "RunPatch",
    "SiteState",
    "SleCheck",
    "SqliteStore",
    "StateStore",
    "StepRecord",
    "StoreConfigError",
    "StoreError",
    "StoreUnavailable",
    "fingerprint_secret",
    "open_store",
    "redact",
    "redact_text",
]


def __getattr__(name: str) -> Any:
    """`RedisStore` is imported on first use: redis is heavy, and most commands use SQLite."""
    if name == "RedisStore":
        from mistctl.store.redis_store import RedisStore

        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
