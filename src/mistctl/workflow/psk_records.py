"""What the state store keeps about PSK rotations (fingerprints, never passphrases), and how plans use it.

Per PSK name:

* fingerprint `psks`: the passphrase mistctl set last, `rotated_at` = when (fingerprints are keyed with
  a secret outside the store: `psk_fingerprint`);
* fingerprint `psks_origin`: the passphrase the first rotation of a chain replaced (the fleet's, when
  the fleet was applied before): a second rotation does not move it;
* step record `psk_rotation` (step 13): "running" from the rotation until `finish`, then "done"; its
  run (kind `psk-rotate`) holds the grace period chosen.

The fleet file and a rotated PSK: the fleet's `passphrase` is the initial one. `respect_rotations`
keeps the live passphrase in a plan when it is the one mistctl set and the fleet still holds the one
the rotations started from, so neither `apply` nor `drift --fix` reverts a rotation. Writing a new
passphrase in the fleet file is a deliberate change: the plan then sets it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.desired import DesiredState
from mistctl.domain.diff import LiveState
from mistctl.store.models import StepRecord
from mistctl.store.port import StateStore
from mistctl.workflow.psk_fingerprint import fingerprint_matches, is_legacy, psk_fingerprint
from mistctl.workflow.records import Records

FP_KIND = K.PSKS.key
ORIGIN_KIND = "psks_origin"
ROTATION_KIND = "psk_rotation"
ROTATION_STEP = K.PSKS.step


async def record_rotation(records: Records, name: str, psk_id: str, new: str, replaced: str | None,
                          when: datetime) -> None:
    """Remember a rotation from passphrase `replaced` to `new` (their fingerprints only): the new
    fingerprint, the chain's origin (first rotation only), the pending step."""
    store, org_id = records.store, records.org_id
    if replaced and not await _matches(store, org_id, FP_KIND, name, replaced):
        # The passphrase replaced is not one mistctl set: a new chain starts from it.
        await store.put_fingerprint(org_id, ORIGIN_KIND, name, psk_fingerprint(replaced, org_id), when)
    await store.put_fingerprint(org_id, FP_KIND, name, psk_fingerprint(new, org_id), when)
    await store.record_step(StepRecord(
        run_id=records.run_id, org_id=org_id, site=None, step=ROTATION_STEP, kind=ROTATION_KIND, key=name,
        status="running", mist_id=psk_id, started_at=when))


async def mark_finished(records: Records, name: str, psk_id: str) -> None:
    """The old passphrase is gone: the rotation's step record is done."""
    await records.store.record_step(StepRecord(
        run_id=records.run_id, org_id=records.org_id, site=None, step=ROTATION_STEP, kind=ROTATION_KIND,
        key=name, status="done", mist_id=psk_id))


async def _matches(store: StateStore, org_id: str, kind: str, name: str, passphrase: str) -> bool:
    """Whether the stored fingerprint is this passphrase's; one of the old kind that matches is rewritten
    keyed (`psk_fingerprint`), so the store stops holding guessable ones as they are used."""
    fp = await store.get_fingerprint(org_id, kind, name)
    if fp is None or not fingerprint_matches(fp.fingerprint, passphrase, org_id):
        return False
    if is_legacy(fp.fingerprint):
        await store.put_fingerprint(org_id, kind, name, psk_fingerprint(passphrase, org_id), fp.rotated_at)
    return True


async def grace_left(store: StateStore, org_id: str, name: str, live: str | None,
                     at: datetime) -> float | None:
    """Seconds of grace left for a rotation mistctl made (<= 0: over); None when the live passphrase
    is not the one mistctl set (someone else rotated it, or mistctl never did)."""
    if not live or not await _matches(store, org_id, FP_KIND, name, live):
        return None
    fp = await store.get_fingerprint(org_id, FP_KIND, name)
    if fp is None:
        return None
    return fp.rotated_at.timestamp() + await _grace_of(store, org_id, name) - at.timestamp()


async def _grace_of(store: StateStore, org_id: str, name: str) -> float:
    step = await store.get_step(org_id, None, ROTATION_STEP, ROTATION_KIND, name)
    run = await store.get_run(step.run_id) if step is not None else None
    if run is None:
        return 0.0
    return float(run.plan.get("grace_seconds", 0.0))


async def rotation_state(store: StateStore, org_id: str, psk: dict[str, Any], at: datetime) -> dict[str, Any]:
    """A PSK's rotation as the operator sees it (no secrets): pending or not, rotated when, grace left."""
    name = str(psk.get("name"))
    fp = await store.get_fingerprint(org_id, FP_KIND, name)
    live = str(psk["passphrase"]) if psk.get("passphrase") else None
    left = await grace_left(store, org_id, name, live, at)
    return {
        "name": name, "ssid": psk.get("ssid"), "id": psk.get("id"),
        "old_passphrase_kept": bool(psk.get("old_passphrase")),
        "rotated_by_mistctl": left is not None,
        "rotated_at": fp.rotated_at.isoformat() if fp is not None and left is not None else None,
        "grace_left_seconds": None if left is None else max(0.0, round(left, 1)),
    }


async def respect_rotations(store: StateStore, desired: DesiredState, live: LiveState) -> list[str]:
    """Keep the live passphrase of PSKs mistctl rotated in the desired state; the names kept."""
    live_psks: dict[str, list[dict[str, Any]]] = {}
    for psk in live.objects.get(K.PSKS.key, []):
        live_psks.setdefault(str(psk.get("name")), []).append(psk)
    kept: list[str] = []
    for key, obj in desired.org_objects(K.PSKS).items():
        wanted, found = obj.body.get("passphrase"), live_psks.get(key, [])
        current = found[0].get("passphrase") if len(found) == 1 else None
        if not wanted or not current or current == wanted:
            continue
        if await _rotated_from(store, live.org_id, key, str(current), str(wanted)):
            obj.body["passphrase"] = current
            kept.append(key)
    return kept


async def _rotated_from(store: StateStore, org_id: str, name: str, current: str, fleet: str) -> bool:
    """True when `current` is mistctl's rotation of the fleet's passphrase `fleet`."""
    return (await _matches(store, org_id, FP_KIND, name, current)
            and await _matches(store, org_id, ORIGIN_KIND, name, fleet))
