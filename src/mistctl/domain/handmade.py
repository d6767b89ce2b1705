"""Objects added by hand inside what mistctl manages: found by drift, removed only with consent.

A managed container is a WLAN template or a site group in the state store's object map that the fleet
still names. What it holds that the fleet does not declare was added behind mistctl's back:

- a WLAN or a WLAN policy whose `template_id` is a managed WLAN template, and that neither the fleet
  names (its ssid / order in that template) nor mistctl manages (a managed one the fleet dropped is an
  ordinary delete);
- a site bound to a managed site group the fleet does not put it in (a site the fleet does not name,
  or a fleet site whose `site_groups` the fleet leaves unset: one the fleet sets is field drift).

Each is a `delete` change (phase "delete", marked `by_hand`) placed before the plan's other deletes;
a WLAN or policy goes with one DELETE, a membership with one `PUT /sites/{id}` whose `sitegroup_ids`
keeps every other group. Nothing outside a managed container is ever listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.desired import DesiredState, natural_key
from mistctl.domain.diff import LiveState
from mistctl.domain.plan import Change

#: The change kind of a site's memberships of managed site groups (its key is the site's name).
MEMBERS = "site_group_members"
BY_HAND = "by_hand"
#: What a report says of each.
ADDED_BY_HAND = "added by hand (not in the fleet)"

Managed = Mapping[str, Mapping[str, str]]  # kind key -> natural key -> Mist id


def is_by_hand(change: Change) -> bool:
    return bool(change.body.get(BY_HAND))


def containers(desired: DesiredState, live: LiveState, managed: Managed, kind: K.Kind) -> dict[str, str]:
    """Managed containers of a kind the fleet still names and the org still holds: Mist id -> name."""
    live_ids = {str(o.get("id")) for o in live.objects.get(kind.key, [])}
    named = desired.org_objects(kind)
    return {mist_id: key for key, mist_id in managed.get(kind.key, {}).items()
            if key in named and mist_id in live_ids}


def find_handmade(desired: DesiredState, live: LiveState, managed: Managed, *, members: bool = True) -> list[Change]:
    """Every object added by hand inside a managed container, as delete changes (policies, WLANs, members).

    `members=False`: not the site groups' members (a design without sites does not say where sites go)."""
    ours = {i for objs in managed.values() for i in objs.values()}
    templates = containers(desired, live, managed, K.WLAN_TEMPLATES)
    found = [*_in_templates(K.WLAN_POLICIES, desired, live, templates, ours),
             *_in_templates(K.WLANS, desired, live, templates, ours)]
    if not members:
        return found
    return found + _members(desired, live, managed, containers(desired, live, managed, K.SITE_GROUPS))


def _in_templates(kind: K.Kind, desired: DesiredState, live: LiveState, templates: dict[str, str],
                  ours: set[str]) -> list[Change]:
    declared = desired.org_objects(kind)
    changes: list[Change] = []
    for obj in live.objects.get(kind.key, []):
        template = templates.get(str(obj.get("template_id")))
        if template is None or str(obj.get("id")) in ours:
            continue
        key = natural_key(kind, obj, template)
        if key in declared:
            continue
        name = str(obj.get("name") or obj.get(kind.identity) or obj.get("id"))
        body = {BY_HAND: True, "name": name, "containers": [f"WLAN template {template}"]}
        changes.append(Change("delete", kind.step, kind.key, key, mist_id=str(obj["id"]), body=body,
                              phase="delete", calls=1))
    return changes


def _members(desired: DesiredState, live: LiveState, managed: Managed, groups: dict[str, str]) -> list[Change]:
    doomed_sites = {i for key, i in managed.get(K.SITES.key, {}).items() if key not in desired.sites}
    changes: list[Change] = []
    for site in live.objects.get(K.SITES.key, []):
        name, site_id = str(site.get("name")), str(site.get("id"))
        wanted = desired.sites.get(name)
        if site_id in doomed_sites or (wanted is not None and "sitegroup_ids" in wanted.site.body):
            continue  # a site being deleted goes anyway; a fleet site's groups are field drift
        held = [str(g) for g in site.get("sitegroup_ids") or []]
        stray = [g for g in held if g in groups]
        if not stray:
            continue
        body: dict[str, Any] = {
            BY_HAND: True, "name": name, "containers": [f"site group {groups[g]}" for g in stray],
            "sitegroup_ids": [g for g in held if g not in groups],
        }
        changes.append(Change("delete", K.SITE_GROUPS.step, MEMBERS, name, mist_id=site_id, body=body,
                              phase="delete", calls=1))
    return changes
