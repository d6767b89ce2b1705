"""Starting upgrades (one device, or a site's devices in phases) and reading them back.

A site upgrade picks its devices (`device_ids`, else `models`/`rules`, else every device of the site
that offers the version), skips those already on the version (unless `force`) or busy, and splits the
rest into phases by `strategy`: big_bang (one phase), serial (one device per phase), canary
(`canary_phases`, cumulative percentages, default 1/10/50/100) or rrm (APs only, batches). Phase k
starts when phase k-1 ends, `upgrade_seconds` apart. Failures past the allowance stop the later
phases (firmware.py); those devices are never touched. Switches and gateways reboot into the new
version only when the body says `reboot: true` (the spec's default is false): otherwise the firmware
is staged and they keep their version. SSR gateways upgrade through their own operation
(`upgradeSsr`, `POST /sites/{site_id}/ssr/{device_id}/upgrade`), which reboots unless `reboot_at` is -1.
"""

from __future__ import annotations

import math
import re
import uuid
from typing import TYPE_CHECKING, Any

from mist_twin.errors import bad_request
from mist_twin.firmware import JOBS, LAST, UPGRADES, busy, fwupdate, resolve, start_job
from mist_twin.store import Obj

if TYPE_CHECKING:
    from mist_twin.state import TwinState

DEFAULT_CANARY = (1, 10, 50, 100)
_RULE_KEY = re.compile(r"^match_([a-z_]+?)(?:\[(\d*):(\d*)\])?$")


def _unavailable(record: Obj, version: str, site_id: str) -> Exception:
    return bad_request(
        f"version: {version} is not available for model {record['model']} (device {record['mac']}); "
        f"see GET /api/v1/sites/{site_id}/devices/versions?type={record['type']}"
    )


def is_ssr(record: Obj) -> bool:
    """An SSR (128T) gateway: upgraded by `upgradeSsr`, not `upgradeDevice`."""
    return record["type"] == "gateway" and str(record["model"]).upper().startswith("SSR")


def _ssr_refused(record: Obj) -> Exception:
    return bad_request(
        f"device {record['id']}: {record['model']} is an SSR gateway; upgrade it with "
        f"POST /api/v1/sites/{record['site_id']}/ssr/{record['id']}/upgrade"
    )


def upgrade_device(twin: TwinState, record: Obj, body: Obj) -> Obj:
    """`POST .../devices/{device_id}/upgrade`: schedule the device's upgrade now (or at `start_time`)."""
    if is_ssr(record):
        raise _ssr_refused(record)
    return _schedule(twin, record, body, reboot=bool(body.get("reboot")))


def upgrade_ssr(twin: TwinState, record: Obj, body: Obj) -> Obj:
    """`POST /sites/{site_id}/ssr/{device_id}/upgrade`: an SSR's upgrade (rebooting unless reboot_at -1)."""
    if not is_ssr(record):
        raise bad_request(f"device {record['id']}: not an SSR gateway; upgrade it with .../devices/{{id}}/upgrade")
    started = _schedule(twin, record, body, reboot=body.get("reboot_at") != -1)
    running = started["status"] != "success"
    return {
        "id": str(uuid.uuid4()),
        "status": "upgrading" if running else "success",
        "strategy": "serial",
        "channel": str(body.get("channel") or "stable"),
        "device_type": "gateway",
        "versions": {record["id"]: body["version"]},
        "counts": {"failed": 0, "queued": 0, "success": 0 if running else 1, "upgrading": int(running)},
    }


def _schedule(twin: TwinState, record: Obj, body: Obj, *, reboot: bool) -> Obj:
    if busy(twin, record["mac"]):
        raise bad_request(
            f"device {record['id']}: an upgrade is already scheduled or running (see its fwupdate)"
        )
    target = resolve(twin, record, body["version"])
    if target is None:
        raise _unavailable(record, body["version"], record["site_id"])
    now = twin.clock()
    start = max(now, float(body.get("start_time") or now))
    if target == record.get("version"):
        twin.store.put(LAST, record["mac"], {"mac": record["mac"], "status": "success", "end": now})
        return {"status": "success", "timestamp": now}
    start_job(twin, record, target, start, reboot=reboot)
    return {"status": "scheduled" if start > now else "inprogress", "timestamp": now}


# --- site upgrades ---------------------------------------------------------------------------------
def _rule_matches(rule: Obj, record: Obj) -> bool:
    for key, wanted in rule.items():
        found = _RULE_KEY.match(key)
        if found is None:
            raise bad_request(f"rules: {key} is not a rule the twin knows (match_model, match_name[0:3]...)")
        value = str(record.get(found.group(1)) or "")
        if found.group(2) is not None or found.group(3) is not None:
            value = value[int(found.group(2) or 0) : int(found.group(3)) if found.group(3) else None]
        if value != wanted:
            return False
    return True


def _select(twin: TwinState, site: Obj, body: Obj) -> tuple[list[Obj], bool]:
    """The devices the body names (and whether it named them one by one)."""
    at_site = [r for r in twin.store.all("inventory") if r.get("site_id") == site["id"]]
    if body.get("device_ids"):
        by_id = {record["id"]: record for record in at_site}
        for index, device_id in enumerate(body["device_ids"]):
            if device_id not in by_id:
                raise bad_request(f"device_ids[{index}]: {device_id} is not a device of site {site['name']}")
        return [by_id[device_id] for device_id in dict.fromkeys(body["device_ids"])], True
    models, rules = body.get("models"), body.get("rules")
    chosen = [
        record
        for record in at_site
        if (not models or record["model"] in models)
        and (not rules or any(_rule_matches(r, record) for r in rules))
    ]
    return chosen, False


def _percentages(body: Obj, strategy: str) -> list[int]:
    """Cumulative percentages of the devices done at the end of each phase."""
    if strategy == "big_bang":
        return [100]
    if strategy == "rrm":
        first = int(body.get("rrm_first_batch_percentage") or 10)
        step = int(body.get("rrm_max_batch_percentage") or 25)
        return [*range(max(1, first), 100, max(1, step)), 100]
    phases = list(body.get("canary_phases") or DEFAULT_CANARY)
    if any(not 0 < p <= 100 for p in phases) or phases != sorted(phases):
        raise bad_request("canary_phases: must be rising percentages from 1 to 100, such as [1, 10, 50, 100]")
    return phases if phases[-1] == 100 else [*phases, 100]


def _phases(body: Obj, strategy: str, count: int) -> list[tuple[int, int, int]]:
    """(phase number, first index, end index) of each non-empty phase."""
    if strategy == "serial":
        return [(n + 1, n, n + 1) for n in range(count)]
    percentages = _percentages(body, strategy)
    phases, done = [], 0
    for number, pct in enumerate(percentages, start=1):
        upto = min(count, max(done + 1, math.ceil(pct * count / 100)))
        if upto > done:
            phases.append((number, done, upto))
            done = upto
    return phases


def _targets(twin: TwinState, site: Obj, body: Obj, version: str) -> tuple[list[tuple[Obj, str]], list[str]]:
    """(device, version) pairs to upgrade, and the MACs skipped (on the version already, or busy)."""
    records, named = _select(twin, site, body)
    targets: list[tuple[Obj, str]] = []
    skipped: list[str] = []
    for record in records:
        if is_ssr(record):
            if named:
                raise _ssr_refused(record)
            continue
        target = resolve(twin, record, version)
        if target is None:
            if named:
                raise _unavailable(record, version, site["id"])
            continue
        if busy(twin, record["mac"]) or (target == record.get("version") and not body.get("force")):
            skipped.append(record["mac"])
        else:
            targets.append((record, target))
    if not targets and not skipped:
        raise bad_request(f"version: no device of site {site['name']} can take version {version}")
    return targets, skipped


def create_site_upgrade(twin: TwinState, site: Obj, body: Obj) -> Obj:
    """`POST /sites/{site_id}/devices/upgrade`: plan the phases and schedule every device's job."""
    version = body.get("version") or "stable"
    strategy = body.get("strategy") or "big_bang"
    targets, skipped = _targets(twin, site, body, version)
    if strategy == "rrm" and any(record["type"] != "ap" for record, _ in targets):
        raise bad_request("strategy: rrm upgrades APs only; choose big_bang, canary or serial")
    now = twin.clock()
    start = max(now, float(body.get("start_time") or now))
    upgrade: Obj = {
        "id": str(uuid.uuid4()),
        "site_id": site["id"],
        "strategy": strategy,
        "target_version": version,
        "start_time": int(start),
        "force": bool(body.get("force")),
        "plan": {},
        "total": len(targets),
        "upgraded": [],
        "staged": [],
        "failed": [],
        "skipped": skipped,
        "cancelled": [],
        "stopped": False,
        "cancelled_by_user": False,
        "last_phase": 1,
        "max_failures": body.get("max_failures"),
        "max_failure_percentage": int(body.get("max_failure_percentage", 5)),
    }
    phases = _phases(body, strategy, len(targets)) if targets else []
    with twin.store.batch():
        for ordinal, (number, first, end) in enumerate(phases):
            group = targets[first:end]
            upgrade["plan"][str(number)] = [record["mac"] for record, _ in group]
            for record, target in group:
                at = start + ordinal * twin.knobs.upgrade_seconds
                start_job(twin, record, target, at, upgrade, number, reboot=bool(body.get("reboot")))
        twin.store.put(UPGRADES, upgrade["id"], upgrade)
    return upgrade


def cancel(twin: TwinState, upgrade: Obj) -> None:
    """Cancel the devices not started yet; those already upgrading finish."""
    if status(twin, upgrade, _jobs(twin, upgrade)) in ("completed", "failed", "cancelled"):
        raise bad_request(f"upgrade {upgrade['id']} has already finished")
    now = twin.clock()
    with twin.store.batch():
        waiting = [job for job in _jobs(twin, upgrade) if job["start"] > now]
        for job in waiting:
            twin.store.delete(JOBS, job["mac"])
        cancelled = [*upgrade["cancelled"], *(job["mac"] for job in waiting)]
        twin.store.put(
            UPGRADES, upgrade["id"], {**upgrade, "cancelled": cancelled, "cancelled_by_user": True}
        )


# --- reading ---------------------------------------------------------------------------------------
def _jobs(twin: TwinState, upgrade: Obj) -> list[Obj]:
    return [job for job in twin.store.all(JOBS) if job["upgrade_id"] == upgrade["id"]]


def status(twin: TwinState, upgrade: Obj, jobs: list[Obj]) -> str:
    """Mist's upgrade status, derived from the jobs left and the results."""
    if upgrade["cancelled_by_user"]:
        return "cancelled"
    if jobs:
        return "queued" if all(job["start"] > twin.clock() for job in jobs) else "upgrading"
    if upgrade["stopped"] or (upgrade["strategy"] == "big_bang" and upgrade["failed"]):
        return "failed"
    return "completed"


def _states(twin: TwinState, upgrade: Obj, jobs: list[Obj]) -> dict[str, list[str]]:
    """MACs by state (the spec's `targets` lists)."""
    scheduled, downloading, rebooting = [], [], []
    for job in jobs:
        stat = fwupdate(twin, job["mac"]) or {}
        if stat.get("status") == "scheduled":
            scheduled.append(job["mac"])
        elif (stat.get("progress") or 0) < 70:
            downloading.append(job["mac"])
        else:
            rebooting.append(job["mac"])
    return {
        "scheduled": scheduled,
        "download_requested": downloading + rebooting,
        "downloading": downloading,
        "downloaded": rebooting + list(upgrade.get("staged", [])),
        "reboot_in_progress": rebooting,
        "rebooted": list(upgrade["upgraded"]),
        "upgraded": list(upgrade["upgraded"]),
        "failed": list(upgrade["failed"]),
        "skipped": list(upgrade["skipped"]),
    }


def view(twin: TwinState, upgrade: Obj, as_counts: bool = False) -> Obj:
    """`GET .../devices/upgrade/{upgrade_id}` (MAC lists in `targets`), or a list item (`counts`)."""
    jobs = _jobs(twin, upgrade)
    states = _states(twin, upgrade, jobs)
    answer: dict[str, Any] = {
        "id": upgrade["id"],
        "status": status(twin, upgrade, jobs),
        "strategy": upgrade["strategy"],
        "target_version": upgrade["target_version"],
        "start_time": upgrade["start_time"],
        "force": upgrade["force"],
        "enable_p2p": False,
        "max_failure_percentage": upgrade["max_failure_percentage"],
    }
    total = upgrade["total"] + len(upgrade["skipped"])
    if as_counts:
        answer["counts"] = {"total": total, **{name: len(macs) for name, macs in states.items()}}
    else:
        answer["targets"] = {"total": total, **states}
    if upgrade["max_failures"]:
        answer["max_failures"] = upgrade["max_failures"]
    if upgrade["strategy"] != "big_bang":
        answer["upgrade_plan"] = upgrade["plan"]
        answer["current_phase"] = min((job["phase"] for job in jobs), default=upgrade["last_phase"])
    return answer
