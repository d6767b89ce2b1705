"""What counts as added by hand inside a managed container (domain/handmade.py), on plain values."""

from __future__ import annotations

from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.desired import DesiredObject, DesiredSite, DesiredState
from mistctl.domain.diff import LiveState
from mistctl.domain.handmade import MEMBERS, find_handmade


def _obj(kind: K.Kind, key: str, **body: Any) -> DesiredObject:
    return DesiredObject(kind, key, body)


def _site(name: str, **body: Any) -> DesiredSite:
    return DesiredSite(DesiredObject(K.SITES, name, {"name": name, **body}, site=name), {})


DESIRED = DesiredState(
    org={K.WLAN_TEMPLATES.key: {"corp": _obj(K.WLAN_TEMPLATES, "corp", name="corp")},
         K.SITE_GROUPS.key: {"retail": _obj(K.SITE_GROUPS, "retail", name="retail")},
         K.WLANS.key: {"corp/Corp": _obj(K.WLANS, "corp/Corp", ssid="Corp")}},
    sites={"Grouped": _site("Grouped", sitegroup_ids=["retail"]), "Plain": _site("Plain")},
)
MANAGED = {K.WLAN_TEMPLATES.key: {"corp": "t1", "old": "t9"}, K.SITE_GROUPS.key: {"retail": "g1"},
           K.WLANS.key: {"corp/Corp": "w1", "corp/Dropped": "w2"}, K.SITES.key: {"Gone": "s9"}}
LIVE = LiveState("org", {
    K.WLAN_TEMPLATES.key: [{"id": "t1", "name": "corp"}, {"id": "t9", "name": "old"}, {"id": "t5", "name": "own"}],
    K.SITE_GROUPS.key: [{"id": "g1", "name": "retail"}, {"id": "g5", "name": "own"}],
    K.WLANS.key: [
        {"id": "w1", "ssid": "Corp", "template_id": "t1"},  # declared and managed
        {"id": "w2", "ssid": "Dropped", "template_id": "t1"},  # managed, dropped: an ordinary delete
        {"id": "w3", "ssid": "Hand", "template_id": "t1"},  # added by hand
        {"id": "w4", "ssid": "Own", "template_id": "t5"},  # in a template mistctl does not manage
        {"id": "w5", "ssid": "Old", "template_id": "t9"},  # in a managed template the fleet dropped
        {"id": "w6", "ssid": "Org"},  # no template at all
    ],
    K.WLAN_POLICIES.key: [{"id": "p1", "order": 4, "template_id": "t1"}],
    K.SITES.key: [
        {"id": "s1", "name": "Grouped", "sitegroup_ids": ["g1", "g5"]},  # the fleet sets its groups: field drift
        {"id": "s2", "name": "Plain", "sitegroup_ids": ["g5", "g1"]},  # a fleet site, put in retail by hand
        {"id": "s3", "name": "Stranger", "sitegroup_ids": ["g1"]},  # not in the fleet, put in retail
        {"id": "s4", "name": "Mine", "sitegroup_ids": ["g5"]},  # only in a group of its own
        {"id": "s9", "name": "Gone", "sitegroup_ids": ["g1"]},  # managed, dropped: deleted anyway
    ],
})


def test_only_what_a_managed_container_holds_undeclared_is_added_by_hand() -> None:
    found = find_handmade(DESIRED, LIVE, MANAGED)
    assert [(c.kind, c.key, c.mist_id) for c in found] == [
        (K.WLAN_POLICIES.key, "corp/4", "p1"), (K.WLANS.key, "corp/Hand", "w3"),
        (MEMBERS, "Plain", "s2"), (MEMBERS, "Stranger", "s3")]
    assert all(c.action == "delete" and c.phase == "delete" and c.calls == 1 for c in found)
    members = {c.key: c.body for c in found if c.kind == MEMBERS}
    assert members["Plain"]["sitegroup_ids"] == ["g5"] and members["Stranger"]["sitegroup_ids"] == []
    assert members["Plain"]["containers"] == ["site group retail"]
    assert found[1].body["containers"] == ["WLAN template corp"] and found[1].body["name"] == "Hand"


def test_nothing_is_added_by_hand_where_mistctl_manages_no_container() -> None:
    assert find_handmade(DESIRED, LIVE, {}) == []
