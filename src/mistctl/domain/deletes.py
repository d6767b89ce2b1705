"""Deletes: the objects mistctl manages that the fleet no longer names, in the order they can go.

mistctl manages what it created or adopted (the state store's object map). A managed object still
live in the org but gone from the fleet is a `delete` change, phase "delete", after every other
change. The order is the reverse of creation: what references comes before what it references
(policies before labels, WLANs before their template, sites before the templates they use), so a
delete never leaves a managed object pointing at nothing. An object that something mistctl does not
manage still uses is not deleted: it is reported, naming the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.desired import REFS, DesiredState
from mistctl.domain.diff import LiveState
from mistctl.domain.kinds import Kind
from mistctl.domain.normalize import get_path
from mistctl.domain.plan import Change, Problem

#: The reverse of creation: each kind before every kind it references.
DELETE_ORDER: tuple[Kind, ...] = (
    K.PSKS,
    K.WLAN_POLICIES,
    K.LABELS,
    K.WLANS,
    K.WLAN_TEMPLATES,
    K.SITES,
    K.RF_TEMPLATES,
    K.SWITCH_TEMPLATES,
    K.GATEWAY_TEMPLATES,
    K.HUB_PROFILES,
    K.NETWORKS,
    K.APPLICATIONS,
    K.SITE_GROUPS,
)

#: kind -> the kinds whose objects may reference it (and so must be read to check for users).
USERS_OF: dict[str, tuple[Kind, ...]] = {
    kind.key: tuple(K.BY_KEY[user] for user, refs in REFS.items() if any(r.target is kind for r in refs))
    for kind in DELETE_ORDER
}

Managed = Mapping[str, Mapping[str, str]]  # kind key -> natural key -> Mist id


def kinds_to_check(managed: Managed) -> list[Kind]:
    """The kinds a delete plan must list: those with managed objects, and those that may use them."""
    wanted = {key for key, objs in managed.items() if objs}
    for key in list(wanted):
        wanted.update(k.key for k in USERS_OF.get(key, ()))
    return [k for k in DELETE_ORDER if k.key in wanted]


def compute_deletes(desired: DesiredState, live: LiveState, managed: Managed) -> tuple[list[Change], list[Problem]]:
    """The delete changes, in delete order, and the deletes refused because an unmanaged object uses them."""
    doomed = {kind.key: doomed_of(kind, desired, live, managed) for kind in DELETE_ORDER}
    # A managed object that stays is in the fleet, whose references are checked by name: it cannot hold a
    # doomed one once its own update (which runs before the deletes) is made. Only unmanaged users count.
    ours = {i for objs in managed.values() for i in objs.values()}
    changes: list[Change] = []
    problems: list[Problem] = []
    for kind in DELETE_ORDER:
        for mist_id, key in doomed[kind.key].items():
            users = _users(kind, mist_id, live, ours)
            if users:
                problems.append(Problem(kind.key, key, f"kept: still used by {', '.join(users)}, which this fleet "
                                        "does not manage; remove that use in Mist, then plan again", fatal=False))
                continue
            changes.append(_delete_change(kind, key, mist_id, live))
    return changes, problems


def already_gone(desired: DesiredState, live: LiveState, managed: Managed) -> list[tuple[str, str, str]]:
    """Managed objects the fleet no longer names that the org no longer holds: (kind, key, Mist id)."""
    gone: list[tuple[str, str, str]] = []
    for kind in DELETE_ORDER:
        if kind.key not in live.objects:
            continue
        wanted = set(desired.sites) if kind is K.SITES else set(desired.org_objects(kind))
        live_ids = {str(o.get("id")) for o in live.objects[kind.key]}
        gone += [(kind.key, key, i) for key, i in sorted(managed.get(kind.key, {}).items())
                 if key not in wanted and i not in live_ids]
    return gone


def doomed_of(kind: Kind, desired: DesiredState, live: LiveState, managed: Managed) -> dict[str, str]:
    """Managed objects of a kind, still live, that the fleet no longer names: Mist id -> natural key."""
    wanted = set(desired.sites) if kind is K.SITES else set(desired.org_objects(kind))
    live_ids = {str(o.get("id")) for o in live.objects.get(kind.key, [])}
    return {mist_id: key for key, mist_id in sorted(managed.get(kind.key, {}).items())
            if key not in wanted and mist_id in live_ids}


def _users(kind: Kind, mist_id: str, live: LiveState, ours: set[str]) -> list[str]:
    """Live objects mistctl does not manage that reference `mist_id` (named for the message)."""
    if kind is K.SITES:  # a template's `applies` naming a deleted site does not hold the site
        return []
    users: list[str] = []
    for user in USERS_OF.get(kind.key, ()):
        refs = [r for r in REFS[user.key] if r.target is kind]
        for obj in live.objects.get(user.key, []):
            if str(obj.get("id")) in ours:
                continue
            if any(_holds(get_path(obj, r.path), mist_id) for r in refs):
                users.append(f"{user.title} {_label(user, obj)!r}")
    return users


def _holds(value: Any, mist_id: str) -> bool:
    if isinstance(value, list):
        return mist_id in [str(v) for v in value]
    return value is not None and str(value) == mist_id


def _label(kind: Kind, obj: dict[str, Any]) -> str:
    return str(obj.get("name") or obj.get(kind.identity) or obj.get("id"))


def _delete_change(kind: Kind, key: str, mist_id: str, live: LiveState) -> Change:
    """One delete; a site's carries the MACs of its devices (unassigned first: one more call)."""
    body: dict[str, Any] = {}
    calls = 1
    if kind is K.SITES:
        held = sorted((str(d["mac"]), str(d.get("serial") or "")) for d in live.inventory
                      if str(d.get("site_id")) == mist_id and d.get("mac"))
        if held:
            body["devices"] = [mac for mac, _ in held]
            body["serials"] = [serial for _, serial in held if serial]  # for --unclaim
            calls += 1
    return Change("delete", kind.step, kind.key, key, mist_id=mist_id, body=body, phase="delete", calls=calls)
