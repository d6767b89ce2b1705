"""What a rollout writes to the state store before and as it touches a device, so a kill -9 loses nothing.

Before a wave's upgrade calls: each device's version before (a step record of kind `firmware_before`,
key `<run id>:<mac>`, `applied_hash` the version it ran, kept per run so `upgrade --rollback RUN` finds
it later; status `pending`, a note rather than an outcome, so run views do not count it) and its
`firmware` step marked `running`. Just before each upgrade call: a write-ahead audit entry (status 0:
sent, answer not recorded yet); as soon as the answer is back, the call's own entry from the call ledger.
Nothing waits for the rollout's end to be written.
"""

from __future__ import annotations

from collections.abc import Sequence

from mistctl.store.models import AuditEntry, StepRecord
from mistctl.store.port import StateStore
from mistctl.workflow.records import Records
from mistctl.workflow.rollout_plan import Target

FIRMWARE_KIND = "firmware"
BEFORE_KIND = "firmware_before"
FIRMWARE_STEP = 2  # the devices step: a rollout changes what runs on the devices
SENT = 0  # audit status of a call sent whose answer is not recorded yet


def before_key(run_id: str, mac: str) -> str:
    """The key of a device's version-before record in one run."""
    return f"{run_id}:{mac}"


class Journal:
    """The durable records of one rollout run (a thin layer over `Records`)."""

    def __init__(self, records: Records) -> None:
        self.records = records

    async def wave_starting(self, targets: Sequence[Target]) -> None:
        """Each device's version before, and its step `running`, in one write before any call."""
        recs = [self._before(t) for t in targets] + [self.step(t, "running") for t in targets]
        await self.records.store.record_steps(recs)

    async def sent(self, targets: Sequence[Target], method: str, path: str) -> None:
        """A write-ahead audit entry per device, before the call leaves."""
        r = self.records
        if r.ledger is None:
            return
        await r.store.append_audit_batch([
            AuditEntry(run_id=r.run_id, actor=r.actor, site=t.site, method=method, path=path,
                       kind=FIRMWARE_KIND, name=t.mac, mist_id=t.device_id, status=SENT)
            for t in targets])

    async def answered(self, targets: Sequence[Target]) -> None:
        """The calls' own audit entries (with Mist's status), as soon as the answer is back."""
        for t in targets:
            await self.records.flush_audit((t.site, FIRMWARE_KIND, t.mac), t.device_id)

    def step(self, t: Target, status: str, why: str | None = None) -> StepRecord:
        """The device's `firmware` step record (identity: its MAC; `applied_hash` the version wanted)."""
        r = self.records
        return StepRecord.model_validate({
            "run_id": r.run_id, "org_id": r.org_id, "site": t.site, "step": FIRMWARE_STEP,
            "kind": FIRMWARE_KIND, "key": t.mac, "status": status, "mist_id": t.device_id,
            "applied_hash": t.want, "error": why})

    def _before(self, t: Target) -> StepRecord:
        r = self.records
        return StepRecord(run_id=r.run_id, org_id=r.org_id, site=t.site, step=FIRMWARE_STEP, kind=BEFORE_KIND,
                          key=before_key(r.run_id, t.mac), status="pending", mist_id=t.device_id,
                          applied_hash=t.version)


async def versions_before(store: StateStore, org_id: str, run_id: str) -> dict[str, StepRecord]:
    """MAC -> the version-before record of each device a run touched (empty for an unknown run)."""
    steps = await store.get_steps(org_id, run_id=run_id)
    prefix = f"{run_id}:"
    return {s.key.removeprefix(prefix): s for s in steps if s.kind == BEFORE_KIND and s.key.startswith(prefix)}
