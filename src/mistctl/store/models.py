"""The records the state store keeps: runs, step records, object refs, site states, audit, fingerprints.

Records are frozen pydantic models; change one with `model_copy(update=...)` (or `StepRecord.advance`).
Free-text errors and run plans are redacted on validation (see `redact`), so no adapter can persist a
PSK passphrase or a token, and no repr shows one. Timestamps are timezone-aware.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import uuid4

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from mistctl.modelkit import new_dict
from mistctl.store.redact import looks_like_token, redact, redact_text

RunStatus = Literal["pending", "running", "completed", "failed", "partial", "cancelled", "interrupted"]
StepStatus = Literal["pending", "running", "done", "failed"]
SiteStatus = Literal["planned", "provisioning", "done", "pending", "failed", "sle_failed", "decommissioned"]

RUN_STATUSES: tuple[RunStatus, ...] = ("pending", "running", "completed", "failed", "partial", "cancelled",
                                       "interrupted")
#: "interrupted": the process running it stopped (Ctrl-C, a kill, a crash); applying again resumes it.
TERMINAL_RUN_STATUSES: frozenset[str] = frozenset({"completed", "failed", "partial", "cancelled", "interrupted"})
SITE_STATUSES: tuple[SiteStatus, ...] = (
    "planned", "provisioning", "done", "pending", "failed", "sle_failed", "decommissioned",
)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def new_run_id() -> str:
    """A fresh run id (32 hex characters)."""
    return uuid4().hex


def _not_a_token(value: str) -> str:
    # Who asked is recorded by name or key id; a pasted API token would end up in listings and logs.
    if looks_like_token(value):
        raise ValueError("looks like an API token; record the caller's name or key id instead")
    return value


#: A plan (or any JSON dict) with secret-named fields redacted.
RedactedDict = Annotated[dict[str, Any], AfterValidator(redact)]
#: Free text (an error message) with credentials and secret pairs redacted.
RedactedText = Annotated[str, AfterValidator(redact_text)]
#: Who asked: a name or a key id, refused when it looks like an API token.
Actor = Annotated[str, AfterValidator(_not_a_token)]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Run(_Record):
    """One deployment (apply, upgrade, assure, psk rotation ...) and its progress counters."""

    id: str = Field(default_factory=new_run_id, min_length=1)
    kind: str = Field(min_length=1)
    org_id: str
    fleet_hash: str = ""
    plan: RedactedDict = Field(default_factory=new_dict, repr=False)
    status: RunStatus = "pending"
    created_at: AwareDatetime = Field(default_factory=utcnow)
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    counts: dict[str, int] = Field(default_factory=new_dict)
    error: RedactedText | None = None
    requested_by: Actor = "cli"
    cancel_requested: bool = False
    heartbeat_at: AwareDatetime | None = None  # renewed while a process runs it (see `workflow.lease`)

    @property
    def is_terminal(self) -> bool:
        """True once the run has finished, one way or another."""
        return self.status in TERMINAL_RUN_STATUSES


_PATCH_NOT_NULL = frozenset({"fleet_hash", "plan", "status", "cancel_requested"})


class RunPatch(_Record):
    """The fields `update_run` may change; only the fields given are written."""

    fleet_hash: str | None = None
    plan: RedactedDict | None = Field(default=None, repr=False)
    status: RunStatus | None = None
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    error: RedactedText | None = None
    cancel_requested: bool | None = None
    heartbeat_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> "RunPatch":
        # None means "clear" only for fields a Run may leave empty.
        nulled = sorted(n for n in self.model_fields_set & _PATCH_NOT_NULL if getattr(self, n) is None)
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be set to None")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields given, validated (python values)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class StepRecord(_Record):
    """What one workflow step did to one object; its identity is (org_id, site, step, kind, key)."""

    run_id: str
    org_id: str
    site: str | None = Field(default=None, min_length=1)  # None for org-level objects
    step: int = Field(ge=0, le=13)
    kind: str = Field(min_length=1)
    key: str = Field(min_length=1)
    status: StepStatus = "pending"
    mist_id: str | None = None
    applied_hash: str | None = None
    error: RedactedText | None = None
    calls: int = Field(default=0, ge=0)
    started_at: AwareDatetime | None = None
    updated_at: AwareDatetime = Field(default_factory=utcnow)

    @property
    def identity(self) -> tuple[str, str | None, int, str, str]:
        """The resume identity: (org_id, site, step, kind, key)."""
        return (self.org_id, self.site, self.step, self.kind, self.key)

    def advance(self, **changes: Any) -> "StepRecord":
        """A validated copy with `changes` applied and `updated_at` set to now."""
        data = self.model_dump()
        data.update(changes)
        if "updated_at" not in changes:
            data["updated_at"] = utcnow()
        return StepRecord.model_validate(data)


class ObjRef(_Record):
    """The Mist id mistctl knows for one natural key of one kind in one org."""

    org_id: str
    kind: str
    key: str
    mist_id: str
    applied_hash: str | None = None
    updated_at: AwareDatetime = Field(default_factory=utcnow)
    #: who owns it: "fleet:<name>" or "design:<name>" (`domain.owners`); None: recorded before owners were
    owner: str | None = None


class SiteState(_Record):
    """Where one site stands, for `mistctl status` and the web console."""

    org_id: str
    name: str = Field(min_length=1)
    zone: str | None = None
    number: int | None = None
    status: SiteStatus = "planned"
    site_id: str | None = None
    last_run_id: str | None = None
    failed_step: int | None = Field(default=None, ge=0, le=13)
    error: RedactedText | None = None
    sle: dict[str, float | None] | None = None
    latlng: tuple[float, float] | None = None  # (lat, lng), the site's `latlng` as the fleet gave it
    updated_at: AwareDatetime = Field(default_factory=utcnow)
    zone_name: str | None = None
    ip_plan: dict[str, Any] | None = None  # the fleet's `ip_plan` the site was deployed with (no secrets)


class SleCheck(_Record):
    """One SLE check of one site: its values (metric -> fraction, None: no data) at that moment."""

    org_id: str
    site: str = Field(min_length=1)
    ts: AwareDatetime = Field(default_factory=utcnow)
    values: dict[str, float | None] = Field(default_factory=new_dict)
    status: Literal["pass", "fail", "no-data"] = "no-data"
    run_id: str | None = None


class AuditEntry(_Record):
    """One Mist API call made by mistctl (append-only); never carries a body, only what was touched."""

    ts: AwareDatetime = Field(default_factory=utcnow)
    run_id: str | None = None
    site: str | None = None
    method: str
    path: RedactedText
    kind: str | None = None
    name: str | None = None
    mist_id: str | None = None
    status: int
    duration_ms: float = 0.0
    actor: Actor = "cli"


class Fingerprint(_Record):
    """The fingerprint (never the value) of a secret mistctl set, e.g. a PSK passphrase."""

    org_id: str
    kind: str
    key: str
    fingerprint: str
    rotated_at: AwareDatetime


class LockInfo(_Record):
    """A held lock: its owner (a run id), who holds it (command, actor, host, pid) and when it lapses."""

    name: str
    owner: str
    holder: str = ""
    expires_at: AwareDatetime


ImageAction = Literal["create", "update", "delete"]


class RunImage(_Record):
    """What a run is about to do to one object, written before the write (for `mistctl rollback`).

    `before`: the object as it was (update, delete), secrets redacted on validation; a create has none.
    `after_modified`: the `modified_time` Mist answered the run's write with (None until it is made), so
    a rollback can tell an object changed since the run; `written`: the write was made.
    """

    run_id: str
    org_id: str
    kind: str = Field(min_length=1)
    key: str = Field(min_length=1)
    action: ImageAction
    mist_id: str | None = None
    before: RedactedDict | None = Field(default=None, repr=False)
    after_modified: float | None = None  # Mist's `modified_time`: epoch seconds, a number (spec: double)
    after_hash: str | None = None
    written: bool = False
    recorded_at: AwareDatetime = Field(default_factory=utcnow)


#: An event as published and read back: its sequence number in the run, and the (redacted) payload.
Event = tuple[int, dict[str, Any]]
