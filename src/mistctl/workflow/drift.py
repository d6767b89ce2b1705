"""Drift: what changed in the live org behind mistctl's back, object by object and field by field.

`detect_drift` is a plan made with every site's setting read from Mist (the plan engine trusts the
variables it recorded writing; drift must not): one list per kind, the inventory when the fleet has
devices, and one `GET /sites/{id}/setting` per site. The comparison is the plan's: Mist's defaults
and server fields are normalised away (`domain.normalize`), so an untouched org shows no drift, and
PSKs mistctl rotated keep their rotated passphrase (`psk_records.respect_rotations`).
Inside the WLAN templates and site groups mistctl manages, objects the fleet does not declare are
listed too, as added by hand (`domain/handmade.py`); managed objects the fleet dropped as not in the
fleet. `fix_drift` applies that plan through the normal apply, recorded as a `drift-fix` run; it
removes those (the plan's deletes) only with `DeleteConsent(allow_delete=True)`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from mistctl.domain import kinds as K
from mistctl.domain.devices_diff import HUB_GATEWAYS, ORDERS
from mistctl.domain.fleet import Fleet
from mistctl.domain.handmade import find_handmade, is_by_hand
from mistctl.domain.owners import Ownership, is_owner_conflict
from mistctl.domain.plan import Change, Plan
from mistctl.store.port import StateStore
from mistctl.store.redact import REDACTED, is_secret_name, redact
from mistctl.workflow.apply import ApplyResult
from mistctl.workflow.delete import DeleteConsent
from mistctl.workflow.delete_plan import managed_objects
from mistctl.workflow.deploy import CallLedger, Planned, apply_planned, check_problems, plan_fleet, record_run
from mistctl.workflow.ports import MistApi, Progress

What = Literal["missing", "changed", "not assigned", "not claimed", "conflict", "added by hand (not in the fleet)",
               "not in the fleet"]
#: The kinds a managed container holds (listed when the read phase did not).
_HELD = (K.WLANS, K.WLAN_POLICIES, K.SITES)


@dataclass(frozen=True)
class Difference:
    """One difference between the fleet and the live org (secret values redacted)."""

    kind: str
    key: str
    field: str
    what: What
    live: Any = None
    desired: Any = None
    site: str | None = None
    container: str | None = None  # added by hand: the managed WLAN template or site group holding it
    owner: str | None = None  # the org object's recorded owner (`domain.owners`), when one is recorded

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DriftReport:
    """The differences found, the plan that converges them, and what reading the org cost."""

    org_id: str
    planned: Planned
    differences: list[Difference] = field(default_factory=list)
    read_calls: int = 0
    settings_read: int = 0

    @property
    def drifted(self) -> bool:
        return bool(self.differences)

    def to_json(self) -> dict[str, Any]:
        """The report as `mistctl drift --json` prints it and `GET /drift` answers it."""
        objects = {(d.kind, d.key, d.site) for d in self.differences}
        return {
            "org_id": self.org_id,
            "owner": self.planned.plan.owner,
            # objects another owner recorded that the fix would change: refused without --take-ownership
            "owner_conflicts": [p.message for p in self.planned.plan.fatal_problems if is_owner_conflict(p)],
            "drift": self.drifted,
            "objects": len(objects),
            "differences": [d.to_json() for d in self.differences],
            "read_calls": self.read_calls,
            "settings_read": self.settings_read,
            "fix_calls": self.planned.plan.estimated_calls,
        }


def differences(plan: Plan) -> list[Difference]:
    """Every difference a plan converges, by object and field, in the plan's order."""
    found = [Difference(p.kind, p.key, "(object)", "conflict", desired=p.message, site=p.site)
             for p in plan.problems if p.fatal and not is_owner_conflict(p)]  # another owner's: not a difference
    for change in plan.changes:
        # a WLAN template's binding waits for a site reported missing; a hub profile's gateways do not
        if change.writes and (change.phase != "bind" or change.kind == HUB_GATEWAYS):
            found.extend(_of_change(change))
    return [replace(d, owner=plan.owners.get(d.kind, {}).get(d.key)) for d in found]


def _of_change(change: Change) -> list[Difference]:
    site = change.site if change.kind != "sites" else None
    if change.action == "create":
        return [Difference(change.kind, change.key, "(object)", "missing", site=site)]
    if change.action == "delete":
        if is_by_hand(change):
            return [Difference(change.kind, change.key, "(object)", "added by hand (not in the fleet)",
                               live=change.body["name"], container=str(c)) for c in change.body["containers"]]
        return [Difference(change.kind, change.key, "(object)", "not in the fleet")]
    if change.kind == HUB_GATEWAYS:
        return [Difference(HUB_GATEWAYS, change.key, mac, "not assigned", live=pair[0], desired=pair[1])
                for mac, pair in sorted(change.diff.items())]
    if change.action == "assign":
        return _of_devices(change)
    if change.kind == ORDERS:
        return [Difference(ORDERS, change.key, "activation_code", "not claimed", desired=change.key)]
    if change.action == "claim":
        return [Difference("claims", change.key, "claim_codes", "not claimed",
                           desired=list(change.body.get("claim_codes", [])))]
    if change.kind == "site_vars":
        return [Difference("site_vars", change.key, f"vars.{var}", "changed", *_shown(var, pair), site=site)
                for var, pair in sorted(change.diff.items())]
    return [Difference(change.kind, change.key, name, "changed", *_shown(name, pair), site=site)
            for name, pair in sorted(change.diff.items())]


def _of_devices(change: Change) -> list[Difference]:
    found = [Difference("devices", change.key, "inventory", "missing", desired=ref, site=change.site)
             for ref in change.body.get("missing", [])]
    if change.body.get("macs"):
        found.append(Difference("devices", change.key, "macs", "not assigned",
                                desired=list(change.body["macs"]), site=change.site))
    return found


def _shown(name: str, pair: list[Any]) -> tuple[Any, Any]:
    """(live, desired) as they may be printed: secret fields and nested secrets redacted."""
    live, desired = (pair + [None, None])[:2]
    if is_secret_name(name):
        return (REDACTED if live else live), (REDACTED if desired else desired)
    return redact(live), redact(desired)


async def detect_drift(mist: MistApi, store: StateStore, fleet: Fleet, org_id: str, *,
                       concurrency: int = 8, org_only: bool = False,
                       ownership: Ownership | None = None) -> DriftReport:
    """Read the live org (every site's setting included) and list what differs from the fleet.

    `org_only`: the fleet is a design without sites (the service's GET /drift): it judges the org objects
    only, so neither the sites it does not name nor their site-group memberships are drift.
    `ownership`: who compares; another owner's objects that differ are conflicts, each difference names
    its object's recorded owner."""
    planned = await plan_fleet(mist, store, fleet, org_id, concurrency=concurrency, refresh_vars=True,
                               ownership=ownership)
    if org_only:
        plan = planned.plan
        plan.changes = [c for c in plan.changes if not (c.action == "delete" and c.kind == K.SITES.key)]
    planned.plan.read_calls += await _add_handmade(mist, store, planned, members=not org_only)
    return DriftReport(org_id, planned, differences(planned.plan), read_calls=planned.plan.read_calls,
                       settings_read=len(planned.live.site_vars))


async def _add_handmade(mist: MistApi, store: StateStore, planned: Planned, *, members: bool) -> int:
    """Put the objects added by hand in managed containers before the plan's deletes; the list calls spent."""
    live, plan = planned.live, planned.plan
    missing = [k for k in _HELD if k.key not in live.objects]
    lists = [await mist.list_org(plan.org_id, k.collection) for k in missing]
    live.objects.update({k.key: objs for k, objs in zip(missing, lists, strict=True)})
    found = find_handmade(planned.desired, live, (await managed_objects(store, plan.org_id)).every(),
                          members=members)
    first = next((i for i, c in enumerate(plan.changes) if c.action == "delete"), len(plan.changes))
    plan.changes[first:first] = found
    return len(missing)


async def fix_drift(mist: MistApi, store: StateStore, report: DriftReport, *, ledger: CallLedger,
                    actor: str = "cli", concurrency: int = 8, progress: Progress | None = None,
                    run_id: str | None = None, consent: DeleteConsent | None = None) -> ApplyResult:
    """Apply the converging plan under a `drift-fix` run (refused when the live org has conflicts).

    `run_id`: the run's id chosen before, as the owner of the org lock the caller holds. The plan's
    deletes (added by hand, or dropped from the fleet) are made only as `consent` allows."""
    plan = report.planned.plan
    check_problems(plan)
    run = await record_run(store, "drift-fix", plan, org_id=report.org_id, actor=actor, run_id=run_id)
    return await apply_planned(mist, store, report.planned, ledger=ledger, run=run, concurrency=concurrency,
                               progress=progress, consent=consent)
