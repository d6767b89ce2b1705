"""Checks and helpers every store adapter shares, so the three behave the same way."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from pydantic import ValidationError

from mistctl.domain.jsonbytes import compact_json
from mistctl.store.errors import RecordRejected
from mistctl.store.models import AuditEntry, Fingerprint, ObjRef, RunImage, RunPatch, SiteState, StepRecord, utcnow
from mistctl.store.redact import is_fingerprint, redact

if TYPE_CHECKING:
    from mistctl.store.port import StateStore


class AnySite(enum.Enum):
    """The type of `ANY_SITE`: a query for step records of every site and of the org level."""

    ANY = "any"


#: `get_steps(org_id, site=ANY_SITE)` reads every site's records; `site=None` reads org-level ones only.
ANY_SITE = AnySite.ANY

SiteFilter = str | None | AnySite


class StoreLifecycle:
    """`async with store:` support; subclasses provide `close()`."""

    async def close(self) -> None:  # pragma: no cover - overridden by every adapter
        """Release the store's connections and threads."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def record_done_in_turn(store: StateStore, rec: StepRecord, ref: ObjRef, audit: Sequence[AuditEntry],
                              images: Sequence[RunImage] = (), state: SiteState | None = None) -> None:
    """`record_done` for a store with no one-write form: the record, the object's id, the audit entries, then
    the images and the site's state when given."""
    await store.record_step(rec)
    await store.put_object(ref.org_id, ref.kind, ref.key, ref.mist_id, ref.applied_hash, ref.owner)
    if audit:
        await store.append_audit_batch(audit)
    if images:
        await store.put_run_images(images)
    if state is not None:
        await store.put_site_state(state)


def parse_patch(run_id: str, changes: Mapping[str, Any]) -> RunPatch:
    """Validate `update_run` keyword changes, naming the run and the bad fields in the error."""
    try:
        return RunPatch.model_validate(dict(changes))
    except ValidationError as exc:
        allowed = ", ".join(RunPatch.model_fields)
        bad = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else e["msg"] for e in exc.errors()
        )
        raise RecordRejected(
            f"run {run_id}: cannot update ({bad}); fields that may change: {allowed}"
        ) from None


def prepare_event(run_id: str, event: Mapping[str, Any]) -> str:
    """The event as stored: redacted JSON text; refused when it is not JSON-serialisable."""
    try:
        return compact_json(redact(event), ensure_ascii=True, allow_nan=False).decode()  # json's text
    except (TypeError, ValueError) as exc:
        raise RecordRejected(
            f"run {run_id}: event is not JSON-serialisable ({exc}); send plain values"
        ) from None


def make_fingerprint(
    org_id: str, kind: str, key: str, fingerprint: str, rotated_at: datetime | None
) -> Fingerprint:
    """A Fingerprint record, refused when `fingerprint` is not a one-way hash (e.g. a plain passphrase)."""
    if not is_fingerprint(fingerprint):
        raise RecordRejected(
            f"{kind} {key!r}: the fingerprint is not of the form 'sha256:<hex>'; store "
            "redact.fingerprint_secret(secret, org_id), never the secret itself"
        )
    return Fingerprint(
        org_id=org_id, kind=kind, key=key, fingerprint=fingerprint, rotated_at=rotated_at or utcnow()
    )


def check_page(limit: int, offset: int = 0) -> None:
    """Refuse a negative offset or a limit below 1 (a programming error in the caller)."""
    if limit < 1 or offset < 0:
        raise ValueError(f"bad page: limit={limit} (must be >= 1), offset={offset} (must be >= 0)")


def step_sort_key(rec: StepRecord) -> tuple[str, int, str, str]:
    """The order `get_steps` returns records in: org level first, then by site, step, kind, key."""
    return (rec.site or "", rec.step, rec.kind, rec.key)


def site_matches(rec_site: str | None, wanted: SiteFilter) -> bool:
    """True when a record for `rec_site` answers a query for `wanted`."""
    return wanted is ANY_SITE or rec_site == wanted
