"""One site's part of a deployment as a self-contained job: the site, its variables, its devices.

A `SiteJob` is made once the org-level steps and the claims are done: every name in it is already a
Mist id and every claim code a MAC, so it can run in this process or in another worker (it is plain
JSON and carries no secret). Running it twice is safe: a lost create is looked up by name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.claim import normalise_mac
from mistctl.mist.errors import MistError
from mistctl.workflow.context import call_scope
from mistctl.workflow.create import create_or_find
from mistctl.workflow.device_names import device_names
from mistctl.workflow.ports import MistApi
from mistctl.workflow.records import Records


@dataclass
class SiteJob:
    """Everything needed to converge one site, ids resolved (no names, no secrets)."""

    org_id: str
    site: str
    zone: int = 0
    number: int = 0
    action: str = "noop"  # create | update | noop (the site object)
    site_id: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    site_hash: str = ""
    vars: dict[str, str] | None = None  # None: unchanged
    vars_hash: str = ""
    macs: list[str] = field(default_factory=list)  # to assign
    devices_hash: str = ""
    missing: list[str] = field(default_factory=list)  # devices the inventory lacks: the site fails at step 2
    names: dict[str, str] = field(default_factory=dict)  # mac -> the name to give the device
    device_ids: dict[str, dict[str, str]] = field(default_factory=dict)  # mac -> {id, type}, where known
    names_hash: str = ""
    pending: list[str] = field(default_factory=list)  # MACs of ordered devices not shipped yet
    error: str | None = None  # a problem found while preparing the job (the site fails at `error_step`)
    error_step: int = 2
    ip_plan: dict[str, Any] | None = None  # the fleet's IP plan, recorded with the site (plain JSON)
    zone_name: str | None = None
    latlng: list[float] | None = None  # [lat, lng] from the fleet, for the console's map

    def to_json(self) -> dict[str, Any]:
        """Its fields as JSON data (a shallow copy: the values are JSON data already; `asdict` deep-copies
        every body, a millisecond per site when a run queues thousands)."""
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SiteJob:
        return cls(**data)

    def place(self) -> dict[str, Any]:
        """Where the site sits (in the fleet's IP plan, on the map), as `Records.site_status` records it."""
        return {"zone": self.zone, "number": self.number, "ip_plan": self.ip_plan, "zone_name": self.zone_name,
                "latlng": self.latlng}

    @property
    def writes(self) -> int:
        """The writes this job will make (for estimates and progress)."""
        return (self.action != "noop") + (self.vars is not None) + bool(self.macs) + len(self.names)


_FIELDS = tuple(f.name for f in fields(SiteJob))


@dataclass
class SiteOutcome:
    """How a site job ended."""

    site: str
    ok: bool
    site_id: str | None = None
    step: int = 0
    error: str | None = None
    writes: int = 0
    pending: list[str] = field(default_factory=list)  # ordered devices not shipped yet: neither done nor failed


class _Failed(Exception):
    def __init__(self, step: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.step = step
        self.kind = kind


async def run_site_job(mist: MistApi, records: Records, job: SiteJob) -> SiteOutcome:
    """Converge one site; failures are recorded (step and error) and returned, not raised."""
    await records.site_status(job.site, "provisioning", site_id=job.site_id, **job.place())
    outcome = SiteOutcome(job.site, ok=False, site_id=job.site_id)
    try:
        if job.error:
            raise _Failed(job.error_step, "devices", job.error)
        await _site_object(mist, records, job, outcome)
        await _site_vars(mist, records, job, outcome)
        recorded_done = await _devices(mist, records, job, outcome)
    except _Failed as exc:
        outcome.step, outcome.error = exc.step, str(exc)
        await records.step_failed(job.site, exc.step, exc.kind, job.site, str(exc))
        await records.site_status(job.site, "failed", site_id=outcome.site_id, failed_step=exc.step,
                                  error=str(exc), **job.place())
        return outcome
    outcome.ok = True
    if job.pending:
        outcome.pending = list(job.pending)
        await records.site_status(job.site, "pending", site_id=outcome.site_id, **job.place(),
                                  error=pending_note(job.pending))
        return outcome
    if not recorded_done:
        await records.site_status(job.site, "done", site_id=outcome.site_id, **job.place())
    return outcome


def pending_note(macs: list[str]) -> str:
    """What a pending site waits for."""
    return f"{len(macs)} ordered device(s) not shipped yet ({', '.join(macs)}): apply again once they are"


async def _guard(step: int, kind: str, call: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await call()
    except MistError as exc:
        raise _Failed(step, kind, str(exc)) from None


async def _site_object(mist: MistApi, records: Records, job: SiteJob, outcome: SiteOutcome) -> None:
    if job.action == "noop":
        return
    with call_scope(job.site, "sites", job.site):
        if job.action == "create":
            obj = await _guard(1, "sites", lambda: create_or_find(mist, job.org_id, K.SITES, job.site, job.body))
        else:
            obj = await _guard(1, "sites", lambda: mist.update_site(str(job.site_id), job.body))
    outcome.site_id = str(obj["id"])
    outcome.writes += 1
    await records.step_done(job.site, 1, "sites", job.site, outcome.site_id, job.site_hash, written=obj)


async def _site_vars(mist: MistApi, records: Records, job: SiteJob, outcome: SiteOutcome) -> None:
    if job.vars is None:
        return
    site_id = str(outcome.site_id)
    variables = job.vars
    with call_scope(job.site, "site_vars", job.site):
        await _guard(1, "site_vars", lambda: mist.update_site_setting(site_id, {"vars": variables}))
    outcome.writes += 1
    await records.step_done(job.site, 1, "site_vars", job.site, site_id, job.vars_hash)


async def _devices(mist: MistApi, records: Records, job: SiteJob, outcome: SiteOutcome) -> bool:
    """Assign the devices, name them, then fail the site for any device Mist refused or does not hold.

    True when the site's "done" state was recorded with the assignment (nothing was left to do or to fail)."""
    site_id = str(outcome.site_id)
    failures = list(job.missing)
    refused: set[str] = set()
    if job.macs:
        with call_scope(job.site, "devices", job.site):
            answer = await _guard(2, "devices", lambda: mist.assign_inventory(job.org_id, site_id, job.macs))
        outcome.writes += 1
        refused = {normalise_mac(m) for m in answer.error}
        failures += [f"Mist refused to assign {mac} to site {job.site}: {why}" for mac, why in answer.refusals()]
        if not answer.error:
            last = not failures and not job.names and not job.pending  # the site is done with this record
            await records.step_done(job.site, 2, "devices", job.site, site_id, job.devices_hash,
                                    site_done=job.place() if last else None)
            if last:
                return True
    failures += await device_names(mist, records, job, outcome, skip=refused)
    if failures:
        raise _Failed(2, "devices", "; ".join(failures))
    return False


def outcome_event(outcome: SiteOutcome) -> dict[str, Any]:
    """The event a site's outcome publishes (`site_done` / `site_failed`)."""
    if outcome.ok and outcome.pending:
        return {"type": "site_pending", "site": outcome.site, "pending": list(outcome.pending)}
    if outcome.ok:
        return {"type": "site_done", "site": outcome.site}
    return {"type": "site_failed", "site": outcome.site, "step": outcome.step, "error": outcome.error}


async def report_outcome(records: Records, outcome: SiteOutcome) -> dict[str, int]:
    """Publish a site's outcome on the run's event stream and add it to the run's counters (atomic)."""
    await records.event(outcome_event(outcome))
    counter = site_counter(outcome)
    return await records.count({counter: 1, "writes": outcome.writes})


def site_counter(outcome: SiteOutcome) -> str:
    """The run counter a site's outcome adds to."""
    if not outcome.ok:
        return "sites_failed"
    return "sites_pending" if outcome.pending else "sites_done"
