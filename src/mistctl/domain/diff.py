"""Desired vs live: the diff that makes a plan.

Live objects are indexed by natural key after their id references are rewritten into names, so a
live object compares with its desired one field by field. Two live objects with one key are a
conflict: reported, never silently picked.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.desired import REFS, SERVER_FIELDS, DesiredObject, DesiredState, canonical_hash
from mistctl.domain.devices_diff import InventoryIndex, claim_changes, diff_devices, diff_hub_gateways
from mistctl.domain.kinds import Kind
from mistctl.domain.normalize import field_diff, get_path, rewrite_refs
from mistctl.domain.plan import Action, Change, Plan, Problem

TRUSTED = "__mistctl_trusted__"  # marks a live stand-in made from the state store's records


@dataclass
class LiveState:
    """What the read phase found: one list per kind, the inventory, and known site variables."""

    org_id: str
    objects: dict[str, list[dict[str, Any]]]  # kind key -> live objects (sites included)
    inventory: list[dict[str, Any]] = field(default_factory=list)
    # site name -> its live vars (read from Mist), or the hash mistctl recorded when it wrote them
    site_vars: dict[str, dict[str, str]] = field(default_factory=dict)
    site_vars_hash: dict[str, str] = field(default_factory=dict)
    # activation code -> the MACs of its order, recorded by mistctl once every device of it shipped
    orders: dict[str, list[str]] = field(default_factory=dict)
    # kind key -> natural key -> Mist id, for kinds taken from the state store's records instead of a list
    # (every desired object of the kind recorded with its current hash): they diff as unchanged
    trusted: dict[str, dict[str, str]] = field(default_factory=dict)
    read_calls: int = 0

    def fingerprint(self) -> str:
        """Changes whenever any listed object is created, modified or deleted."""
        marks = {
            kind: sorted(f"{o.get('id')}@{o.get('modified_time')}" for o in objs)
            for kind, objs in self.objects.items()
        }
        marks["inventory"] = sorted(f"{d.get('mac')}@{d.get('site_id')}" for d in self.inventory)
        return canonical_hash(marks)


class Index:
    """Live objects by kind: id -> natural key, and natural key -> live objects."""

    def __init__(self, live: LiveState) -> None:
        self.names: dict[str, dict[str, str]] = defaultdict(dict)
        self.by_key: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        for kind in (K.SITE_GROUPS, K.SITES, *K.ORG_KINDS[1:]):
            for key, mist_id in live.trusted.get(kind.key, {}).items():
                self.names[kind.key][mist_id] = key
                self.by_key[kind.key][key].append({"id": mist_id, TRUSTED: True})
            for obj in live.objects.get(kind.key, []):
                self._add(kind, obj)

    def _add(self, kind: Kind, obj: dict[str, Any]) -> None:
        template = None
        if kind.identity != "name":
            template = self.names[K.WLAN_TEMPLATES.key].get(str(obj.get("template_id")))
        key = obj.get("name") if kind.identity == "name" else f"{template or ''}/{obj.get(kind.identity)}"
        self.names[kind.key][str(obj.get("id"))] = str(key)
        self.by_key[kind.key][str(key)].append(obj)

    def name_of(self, kind: Kind, obj_id: Any) -> str:
        """The managed name of an id; unknown ids keep a visible `id:` marker."""
        return self.names[kind.key].get(str(obj_id), f"id:{obj_id}")

    def live_in_names(self, kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
        return rewrite_refs(obj, REFS.get(kind.key, ()), self.name_of)


def compute_plan(desired: DesiredState, live: LiveState, *, fleet_hash: str, created_at: float) -> Plan:
    """Diff the whole fleet: org-level changes first, then each site's three parts, then bindings."""
    index = Index(live)
    problems: list[Problem] = []
    changes: list[Change] = []
    for kind in K.ORG_KINDS:
        for obj in desired.org_objects(kind).values():
            changes.extend(_diff_org_object(obj, index, problems))
    changes.extend(_diff_sites(desired, live, index, problems))
    return Plan(
        org_id=live.org_id,
        fleet_hash=fleet_hash,
        live_fingerprint=live.fingerprint(),
        changes=changes,
        problems=problems,
        read_calls=live.read_calls,
        created_at=created_at,
    )


def _match(kind: Kind, key: str, index: Index, problems: list[Problem], site: str | None = None) -> Any:
    found = index.by_key[kind.key].get(key, [])
    if len(found) > 1:
        dups = sorted(({"id": str(o.get("id")), "created_time": o.get("created_time")} for o in found),
                      key=lambda d: (d["created_time"] is None, d["created_time"] or 0, d["id"]))
        keep, *younger = dups
        msg = (f"the live org holds {len(found)} {kind.title}s named {key!r}: keep the oldest, "
               f"{_described(keep)}; delete {', '.join(map(_described, younger))} "
               "(`mistctl dedupe` deletes those mistctl created), or rename one")
        problems.append(Problem(kind.key, key, msg, site=site, duplicates=dups))
        return False
    return found[0] if found else None


def _described(dup: dict[str, Any]) -> str:
    """`id X (created 2026-03-01 12:00:00 UTC)`."""
    when = dup.get("created_time")
    if not isinstance(when, int | float):
        return f"id {dup['id']} (created at an unknown time)"
    stamp = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"id {dup['id']} (created {stamp})"


def _diff_org_object(obj: DesiredObject, index: Index, problems: list[Problem]) -> list[Change]:
    live = _match(obj.kind, obj.key, index, problems)
    if live is False:
        return []
    late = _late_site_refs(obj, index)
    body = _without_sites(obj.body, late)
    if live is not None and live.get(TRUSTED):
        return [Change("noop", obj.kind.step, obj.kind.key, obj.key, mist_id=str(live["id"]))]
    if live is None:
        first = Change("create", obj.kind.step, obj.kind.key, obj.key, body=body, calls=1)
        return [first, *_bind(obj, None, late)]
    diff = field_diff(body, index.live_in_names(obj.kind, live))
    mist_id = str(live["id"])
    action: Action = "update" if diff else "noop"
    upd = {k: body[k] for k in diff}
    change = Change(action, obj.kind.step, obj.kind.key, obj.key, mist_id=mist_id, body=upd,
                    diff={k: list(v) for k, v in diff.items()}, calls=1 if diff else 0)
    return [change, *_bind(obj, mist_id, late)]


def _late_site_refs(obj: DesiredObject, index: Index) -> bool:
    """A WLAN template that applies to sites apply has yet to create must be bound after them."""
    names = get_path(obj.body, ("applies", "site_ids")) or []
    return any(n not in index.by_key[K.SITES.key] for n in names)


def _without_sites(body: dict[str, Any], late: bool) -> dict[str, Any]:
    if not late:
        return body
    applies = {k: v for k, v in body["applies"].items() if k != "site_ids"}
    return {**body, "applies": applies}


def _bind(obj: DesiredObject, mist_id: str | None, late: bool) -> list[Change]:
    if not late:
        return []
    body = {"applies": obj.body["applies"]}
    return [Change("update", obj.kind.step, obj.kind.key, obj.key, mist_id=mist_id, body=body,
                   phase="bind", calls=1)]


def _diff_sites(desired: DesiredState, live: LiveState, index: Index, problems: list[Problem]) -> list[Change]:
    inventory = InventoryIndex(live.inventory, live.orders)
    changes: list[Change] = []
    claims: list[str] = []
    for name, ds in desired.sites.items():
        site_live = _match(K.SITES, name, index, problems, site=name)
        if site_live is False:
            continue
        changes.append(_diff_site_object(ds.site, site_live, index))
        changes.append(_diff_vars(name, ds.vars, site_live, live))
        dev_changes, site_claims = diff_devices(name, ds.devices, site_live, inventory, problems)
        changes.extend(dev_changes)
        claims.extend(site_claims)
    profile_ids = {key: str(objs[0]["id"]) for key, objs in index.by_key[K.HUB_PROFILES.key].items()
                   if len(objs) == 1}
    hubs = diff_hub_gateways(desired.hub_gateways, profile_ids, inventory, problems)
    return [*claim_changes(claims), *changes, *hubs]


def _diff_site_object(obj: DesiredObject, live: dict[str, Any] | None, index: Index) -> Change:
    if live is None:
        return Change("create", 1, "sites", obj.key, site=obj.key, body=obj.body, phase="site", calls=1)
    if live.get(TRUSTED):
        return Change("noop", 1, "sites", obj.key, site=obj.key, mist_id=str(live["id"]), phase="site")
    body = {k: v for k, v in obj.body.items() if k not in SERVER_FIELDS}
    diff = field_diff(body, index.live_in_names(K.SITES, live))
    action: Action = "update" if diff else "noop"
    return Change(action, 1, "sites", obj.key, site=obj.key, mist_id=str(live["id"]),
                  body={k: body[k] for k in diff}, diff={k: list(v) for k, v in diff.items()},
                  phase="site", calls=1 if diff else 0)


def _diff_vars(name: str, wanted: dict[str, str], site_live: dict[str, Any] | None, live: LiveState) -> Change:
    mist_id = str(site_live["id"]) if site_live else None
    if site_live is not None:
        if name in live.site_vars:
            current = live.site_vars[name]
            if current == wanted:
                return Change("noop", 1, "site_vars", name, site=name, mist_id=mist_id, phase="site")
            diff = {k: [current.get(k), wanted.get(k)] for k in sorted(set(current) | set(wanted))
                    if current.get(k) != wanted.get(k)}
            return Change("update", 1, "site_vars", name, site=name, mist_id=mist_id,
                          body={"vars": wanted}, diff=diff, phase="site", calls=1)
        if live.site_vars_hash.get(name) == canonical_hash(wanted):
            return Change("noop", 1, "site_vars", name, site=name, mist_id=mist_id, phase="site")
    action: Action = "update" if site_live is not None else "create"  # a new site's variables are new too
    return Change(action, 1, "site_vars", name, site=name, mist_id=mist_id, body={"vars": wanted},
                  phase="site", calls=1)


def estimate_seconds(plan: Plan, *, remaining: int, window_left: float, window: float, limit: int,
                     latency: float, concurrency: int) -> float:
    """ETA of a plan under the token's budget: call time, plus whole windows once the budget runs out."""
    calls = plan.estimated_calls
    work = calls * latency / max(1, concurrency)
    if calls <= remaining:
        return work
    windows = math.ceil((calls - remaining) / max(1, limit))
    return max(work, window_left + (windows - 1) * window)
