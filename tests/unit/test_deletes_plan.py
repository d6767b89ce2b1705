"""Computing deletes: only managed objects gone from the fleet and still live, in reverse creation order."""

from __future__ import annotations

from mistctl.domain import kinds as K
from mistctl.domain.deletes import compute_deletes, kinds_to_check
from mistctl.domain.desired import DesiredObject, DesiredState
from mistctl.domain.diff import LiveState


def _live() -> LiveState:
    return LiveState("org", {
        "wlan_templates": [{"id": "t1", "name": "corp"}],
        "wlans": [{"id": "w1", "ssid": "Guest", "template_id": "t1"},
                  {"id": "w2", "ssid": "Mine", "template_id": "t1"}],
        "labels": [{"id": "l1", "name": "old"}],
        "wlan_policies": [{"id": "r1", "order": 2, "template_id": "t1", "src_wxtags": ["l1"]}],
        "rf_templates": [{"id": "rf1", "name": "spare"}, {"id": "rf2", "name": "used"}],
        "sites": [{"id": "s1", "name": "Gone"}, {"id": "s9", "name": "Theirs", "rftemplate_id": "rf2"}],
    }, inventory=[{"mac": "aa", "serial": "S-aa", "site_id": "s1"}, {"mac": "bb", "site_id": "s9"}, {"mac": "cc"}])


MANAGED = {
    "wlan_templates": {"corp": "t1"}, "wlans": {"corp/Guest": "w1"}, "labels": {"old": "l1"},
    "wlan_policies": {"corp/2": "r1"}, "rf_templates": {"spare": "rf1", "used": "rf2", "stale": "rf0"},
    "sites": {"Gone": "s1"},
}


def _desired() -> DesiredState:
    corp = DesiredObject(K.WLAN_TEMPLATES, "corp", {"name": "corp"})
    return DesiredState(org={"wlan_templates": {"corp": corp}}, sites={})


def test_deletes_come_in_reverse_creation_order_one_call_each_and_a_site_releases_its_devices() -> None:
    changes, problems = compute_deletes(_desired(), _live(), MANAGED)
    assert [(c.kind, c.key) for c in changes] == [
        ("wlan_policies", "corp/2"), ("labels", "old"), ("wlans", "corp/Guest"), ("sites", "Gone"),
        ("rf_templates", "spare"),
    ]
    assert all(c.action == "delete" and c.phase == "delete" and c.site is None for c in changes)
    site = next(c for c in changes if c.kind == "sites")
    assert site.body == {"devices": ["aa"], "serials": ["S-aa"]} and site.calls == 2 and site.mist_id == "s1"
    assert sum(c.calls for c in changes) == 6
    # `used` is held by a site mistctl does not manage: kept, the site named; `stale` is already gone
    assert [(p.kind, p.key, p.fatal) for p in problems] == [("rf_templates", "used", False)]
    assert "site 'Theirs'" in problems[0].message


def test_an_unmanaged_object_is_never_a_delete_and_nothing_managed_means_nothing_to_read() -> None:
    changes, _ = compute_deletes(_desired(), _live(), {})
    assert changes == []
    assert kinds_to_check({}) == []
    assert {k.key for k in kinds_to_check({"labels": {"old": "l1"}})} == {"labels", "wlan_policies"}
