"""Firmware: the versions each model may run, versions marked bad, and upgrades that take time.

An upgrade of a device is a job `{mac, site_id, from, to, start, end, upgrade_id, phase}` in the
`firmware_jobs` collection; `end - start` is the `upgrade_seconds` knob at the time it was created.
No thread moves jobs on: `settle` (run before every request by `SettleMiddleware`, or by tests that
read the state directly) finishes the jobs whose end has passed on the twin's clock, in end order:
the device then runs the new version, unless the version is marked `fail`, and the device's last
result goes to `firmware_last` (what its `fwupdate` stat shows). A switch or gateway upgraded without
`reboot` (the spec's default is false: "for switches and gateways only, APs are automatically
rebooted") only stages the firmware: its download succeeds, but it keeps running the old version.
A device running a version marked `degrade` lowers its site's SLEs of its family by the mark's `sle_drop` (see sle.py).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from starlette.types import ASGIApp, Receive, Scope, Send

from mist_twin.errors import bad_request
from mist_twin.sle import FAMILY_OF_TYPE
from mist_twin.store import Obj

if TYPE_CHECKING:
    from mist_twin.state import TwinState

JOBS = "firmware_jobs"
LAST = "firmware_last"
MARKS = "firmware_marks"
UPGRADES = "site_upgrades"
EFFECTS = ("degrade", "fail", "none")
#: The earliest end among a twin's jobs, or earlier (never later): lets `settle` skip the scan.
_NEXT_DUE: WeakKeyDictionary[TwinState, float] = WeakKeyDictionary()
#: status_id values of the `fwupdate` stat (Mist's are undocumented integers).
STATUS_IDS = {"scheduled": 1, "inprogress": 5, "success": 10, "failed": 11}

#: (version, tag) each firmware line offers, oldest first; the devices' start versions are included.
CATALOGUE: dict[str, tuple[tuple[str, str], ...]] = {
    "ap": (
        ("0.12.27452", "stable"),
        ("0.14.29543", "stable"),
        ("0.14.29633", "stable"),
        ("0.14.29850", "stable"),
        ("0.15.30108", "beta"),
    ),
    "ex": (
        ("22.4R3-S2.11", "stable"),
        ("23.4R2-S2.3", "stable"),
        ("23.4R2-S4.11", "stable"),
        ("24.2R1-S2.5", "beta"),
    ),
    "srx": (("22.4R3-S3.2", "stable"), ("23.4R2-S3.9", "stable"), ("24.2R1-S1.10", "beta")),
    "ssr": (("6.2.5-5.r2", "stable"), ("6.3.0-107.r1", "stable"), ("6.3.3-1.r2", "beta")),
}


def line_of(model: str, kind: str) -> str:
    """The firmware line of a device: ap, ex (switches), srx or ssr (gateways)."""
    if kind == "ap":
        return "ap"
    if kind == "switch":
        return "ex"
    return "ssr" if model.upper().startswith("SSR") else "srx"


def available(twin: TwinState, model: str, kind: str) -> list[tuple[str, str]]:
    """(version, tag) a model may run: its line's catalogue plus versions published for it by a mark."""
    versions = list(CATALOGUE[line_of(model, kind)])
    for mark in twin.store.all(MARKS):
        if model in mark.get("models", ()) and all(v != mark["version"] for v, _ in versions):
            versions.append((mark["version"], mark.get("tag") or "beta"))
    return versions


def resolve(twin: TwinState, record: Obj, wanted: str) -> str | None:
    """The version a device would get for `wanted` (`stable`: its line's newest stable), or None."""
    versions = available(twin, record["model"], record["type"])
    if wanted in ("stable", "latest"):
        stable = [v for v, tag in versions if tag == "stable" or wanted == "latest"]
        return stable[-1] if stable else None
    return wanted if any(v == wanted for v, _ in versions) else None


# --- marks -----------------------------------------------------------------------------------------
def set_mark(twin: TwinState, version: str, body: Any) -> Obj:
    """`PUT /__twin/firmware/{version}`: `{effect, sle_drop, models?, tag?}` (400 naming the bad field)."""
    if not isinstance(body, dict):
        raise bad_request('body: must be an object such as {"effect": "degrade", "sle_drop": 0.3}')
    effect = body.get("effect", "degrade")
    if effect not in EFFECTS:
        raise bad_request(f"effect: must be one of {', '.join(EFFECTS)}")
    drop = body.get("sle_drop", 0.3 if effect == "degrade" else 0.0)
    if isinstance(drop, bool) or not isinstance(drop, int | float) or not 0 <= drop <= 1:
        raise bad_request("sle_drop: must be a number from 0 to 1")
    models = body.get("models", [])
    if not isinstance(models, list) or not all(isinstance(m, str) and m for m in models):
        raise bad_request("models: must be a list of model names (the models that may install this version)")
    mark = {
        "version": version,
        "effect": effect,
        "sle_drop": float(drop),
        "models": models,
        "tag": str(body.get("tag") or "beta"),
    }
    twin.store.put(MARKS, version, mark)
    return mark


def mark_of(twin: TwinState, version: str | None) -> Obj:
    """The mark of a version (`effect: none` when unmarked)."""
    return (twin.store.get(MARKS, version) if version else None) or {"effect": "none", "sle_drop": 0.0}


def sle_drops(twin: TwinState) -> dict[tuple[str, str], float]:
    """(site_id, SLE family) -> the SLE drop from devices running a degrading version there."""
    degrading = {m["version"]: m["sle_drop"] for m in twin.store.all(MARKS) if m["effect"] == "degrade"}
    drops: dict[tuple[str, str], float] = {}
    if not degrading:
        return drops
    for record in twin.store.all("inventory"):
        drop = degrading.get(record.get("version") or "")
        if drop and record.get("site_id"):
            key = (record["site_id"], FAMILY_OF_TYPE[record["type"]])
            drops[key] = max(drops.get(key, 0.0), drop)
    return drops


# --- jobs ------------------------------------------------------------------------------------------
def start_job(
    twin: TwinState,
    record: Obj,
    version: str,
    start: float,
    upgrade: Obj | None = None,
    phase: int = 1,
    *,
    reboot: bool = True,
) -> Obj:
    """Schedule one device's upgrade to `version` from `start`; without `reboot` it only stages."""
    job = {
        "mac": record["mac"],
        "site_id": record["site_id"],
        "from": record.get("version"),
        "to": version,
        "start": start,
        "end": start + twin.knobs.upgrade_seconds,
        "upgrade_id": upgrade["id"] if upgrade else None,
        "phase": phase,
        "reboot": reboot or record["type"] == "ap",
    }
    twin.store.put(JOBS, record["mac"], job)
    if twin in _NEXT_DUE:
        _NEXT_DUE[twin] = min(_NEXT_DUE[twin], job["end"])
    return job


def busy(twin: TwinState, mac: str) -> bool:
    """True while the device has an upgrade scheduled or running."""
    return twin.store.get(JOBS, mac) is not None


def settle(twin: TwinState) -> None:
    """Finish every job whose end has passed on the twin's clock (cheap when nothing is running)."""
    if not twin.store.count(JOBS):
        return
    now = twin.clock()
    if _NEXT_DUE.get(twin, -math.inf) > now:
        return
    due = sorted((job for job in twin.store.all(JOBS) if job["end"] <= now), key=lambda job: job["end"])
    if due:
        with twin.store.batch():
            for job in due:
                if twin.store.get(JOBS, job["mac"]) is job:  # not cancelled by an earlier failure
                    _finish(twin, job)
    _NEXT_DUE[twin] = min((job["end"] for job in twin.store.all(JOBS)), default=math.inf)


def _finish(twin: TwinState, job: Obj) -> None:
    twin.store.delete(JOBS, job["mac"])
    record = twin.store.get("inventory", job["mac"])
    failed = record is None or mark_of(twin, job["to"])["effect"] == "fail"
    staged = not failed and not job.get("reboot", True)
    if not failed and not staged and record is not None:
        twin.store.put("inventory", job["mac"], {**record, "version": job["to"], "modified_time": twin.now()})
    status = "failed" if failed else "success"
    twin.store.put(LAST, job["mac"], {**job, "status": status, "staged": staged})
    if job["upgrade_id"]:
        _record_result(twin, job, "staged" if staged else status)


def _record_result(twin: TwinState, job: Obj, status: str) -> None:
    """Note a device's result on its site upgrade; past the failures allowed, later phases never start."""
    upgrade = twin.store.get(UPGRADES, job["upgrade_id"])
    if upgrade is None:
        return
    key = {"success": "upgraded", "staged": "staged"}.get(status, "failed")
    upgrade = {
        **upgrade,
        key: [*upgrade.get(key, []), job["mac"]],
        "last_phase": max(upgrade["last_phase"], job["phase"]),
    }
    if status == "failed" and not upgrade["stopped"] and _too_many_failures(upgrade, job["phase"]):
        upgrade["stopped"] = True
        for other in twin.store.all(JOBS):
            if other["upgrade_id"] == upgrade["id"] and other["phase"] > job["phase"]:
                twin.store.delete(JOBS, other["mac"])
                upgrade["cancelled"] = [*upgrade["cancelled"], other["mac"]]
    twin.store.put(UPGRADES, upgrade["id"], upgrade)


def _too_many_failures(upgrade: Obj, phase: int) -> bool:
    """Canary, rrm and serial upgrades stop past `max_failures` of a phase or `max_failure_percentage`."""
    if upgrade["strategy"] == "big_bang":
        return False
    limits = upgrade.get("max_failures")
    if limits:
        in_phase = set(upgrade["plan"].get(str(phase), ()))
        allowed = int(limits[min(phase, len(limits)) - 1])
        return sum(mac in in_phase for mac in upgrade["failed"]) > allowed
    allowed_pct = int(upgrade["max_failure_percentage"])
    return len(upgrade["failed"]) * 100 > allowed_pct * max(1, int(upgrade["total"]))


def fwupdate(twin: TwinState, mac: str) -> Obj | None:
    """The device's `fwupdate` stat: scheduled / inprogress with progress, or its last result."""
    job = twin.store.get(JOBS, mac)
    if job is not None:
        now = twin.clock()
        if now < job["start"]:
            return _stat("scheduled", 0, job["start"])
        length = job["end"] - job["start"]
        progress = min(99, int(100 * (now - job["start"]) / length)) if length > 0 else 99
        return _stat("inprogress", progress, job["start"])
    last = twin.store.get(LAST, mac)
    if last is None:
        return None
    return _stat(last["status"], 100 if last["status"] == "success" else None, last["end"])


def _stat(status: str, progress: int | None, timestamp: float) -> Obj:
    return {
        "status": status,
        "progress": progress,
        "timestamp": timestamp,
        "status_id": STATUS_IDS[status],
        "will_retry": False,
    }


class SettleMiddleware:
    """Finishes due upgrades before each request, so every answer (inventory too) sees the same versions."""

    def __init__(self, app: ASGIApp, twin: TwinState) -> None:
        self.app = app
        self.twin = twin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            settle(self.twin)
        await self.app(scope, receive, send)
