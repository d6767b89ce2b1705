"""The device part of the plan with plain values: claims by fifties, codes matched as Mist stores them,
devices missing from the inventory, device names, hub profiles on their gateways."""

from __future__ import annotations

import json
from typing import Any

from mistctl.domain.desired import build_desired
from mistctl.domain.devices_diff import InventoryIndex, claim_changes, diff_devices, diff_hub_gateways
from mistctl.domain.diff import LiveState, compute_plan
from mistctl.domain.plan import Problem
from mistctl.workflow.drift import differences
from mistctl.workflow.site_job import SiteJob
from tests.unit.test_fleet_factory import base_fleet, only_issue, parse

SITE = {"id": "site-1", "name": "S1"}


def _device(mac: str, **more: Any) -> dict[str, Any]:
    return {"id": f"00000000-0000-0000-1000-{mac}", "mac": mac, "serial": f"SN{mac}", "type": "ap", **more}


def test_claims_are_batched_by_fifty() -> None:
    codes = [f"CODE{n:011d}" for n in range(120)]
    batches = claim_changes(codes)
    assert [len(c.body["claim_codes"]) for c in batches] == [50, 50, 20]
    assert [c.body["claim_codes"][0] for c in batches] == [codes[0], codes[50], codes[100]]
    assert sum(c.calls for c in batches) == 3


def test_a_code_in_the_inventory_matches_whatever_its_case_and_dashes() -> None:
    inventory = InventoryIndex([_device("5c5b35000001", magic="6jg8e-ptfv2-a9z2n", site_id="site-1")])
    changes, claims = diff_devices("S1", [{"claim_code": "6JG8EPTFV2A9Z2N"}], SITE, inventory, [])
    assert claims == [] and [c.action for c in changes] == ["noop", "noop"]


def test_a_device_not_in_the_inventory_makes_the_site_change_and_is_named() -> None:
    problems: list[Problem] = []
    refs = [{"mac": "5c5b35000009"}, {"serial": "NOPE1"}]
    (assign, names), claims = diff_devices("S1", refs, SITE, InventoryIndex([]), problems)
    assert assign.writes and assign.calls == 0, "nothing to send, yet not nothing to do"
    assert assign.body == {"missing": ["mac 5c5b35000009", "serial NOPE1"]}
    assert [p.key for p in problems] == ["5c5b35000009", "NOPE1"] and not any(p.fatal for p in problems)
    assert not names.writes and claims == []


def test_names_only_when_given_and_different() -> None:
    inventory = InventoryIndex([
        _device("5c5b35000001", name="gw", site_id="site-1", type="gateway"),
        _device("5c5b35000002", name="old", site_id="site-1"),
        _device("5c5b35000003", name="kept", site_id="site-1"),
    ])
    refs = [{"mac": "5c5b35000001", "name": "gw"}, {"mac": "5c5b35000002", "name": "new"},
            {"mac": "5c5b35000003"}, {"claim_code": "NEWCODE00000001", "name": "fresh"}]
    (assign, names), claims = diff_devices("S1", refs, SITE, inventory, [])
    assert claims == ["NEWCODE00000001"] and assign.body["macs"] == ["claim:NEWCODE00000001"]
    assert names.action == "update" and names.calls == 3, "two PUTs and a list (fresh has no id yet)"
    assert names.body["names"] == {"5c5b35000002": "new", "claim:NEWCODE00000001": "fresh"}
    assert names.body["ids"] == {"5c5b35000002": {"id": "00000000-0000-0000-1000-5c5b35000002", "type": "ap"}}
    assert names.diff == {"5c5b35000002": ["old", "new"], "claim:NEWCODE00000001": [None, "fresh"]}


def test_hub_gateways_assigned_unless_they_carry_the_profile() -> None:
    inventory = InventoryIndex([_device("5c5b35000001", deviceprofile_id="hub-1", type="gateway"),
                                _device("5c5b35000002", deviceprofile_id=None, type="gateway")])
    problems: list[Problem] = []
    wanted = {"dc": ["5c5b35000001", "5c5b35000002", "5c5b3500ffff"], "dr": ["5c5b35000001"]}
    dc, dr = diff_hub_gateways(wanted, {"dc": "hub-1", "dr": "hub-2"}, inventory, problems)
    assert (dc.action, dc.body["macs"], dc.calls, dc.phase) == ("assign", ["5c5b35000002", "5c5b3500ffff"], 1, "bind")
    assert dr.body["macs"] == ["5c5b35000001"], "it carries another profile"
    assert [p.key for p in problems] == ["5c5b3500ffff"]
    fresh, = diff_hub_gateways({"dc": ["5c5b35000001"]}, {}, inventory, [])
    assert fresh.body["macs"] == ["5c5b35000001"] and fresh.mist_id is None, "the profile is created first"


def _hub_fleet() -> dict[str, Any]:
    data = base_fleet()
    data["org"]["hub_profiles"] = [{"name": "dc", "gateways": ["5C:5B:35:00:00:01"]}]
    data["sites"][0]["devices"] = [{"mac": "5c5b35000001", "name": "hub-gw"}]
    return data


def test_the_plan_counts_renames_and_hub_assigns_and_drift_names_them() -> None:
    fleet = parse(_hub_fleet())
    desired = build_desired(fleet, {})
    assert desired.hub_gateways == {"dc": ["5c5b35000001"]}
    assert "gateways" not in desired.org["hub_profiles"]["dc"].body, "mistctl's own key never reaches Mist"
    live = LiveState("org-1", {"sites": [], "hub_profiles": []},
                     inventory=[_device("5c5b35000001", name="", type="gateway")])
    plan = compute_plan(desired, live, fleet_hash="h", created_at=0)
    by_kind = plan.by_kind()
    assert by_kind["device_names"]["update"] == 1 and by_kind["hub_gateways"]["update"] == 1
    found = [(d.kind, d.key, d.field, d.what, d.live, d.desired) for d in differences(plan)
             if d.kind in ("device_names", "hub_gateways")]
    assert found == [("device_names", "S1", "5c5b35000001", "changed", None, "hub-gw"),
                     ("hub_gateways", "dc", "5c5b35000001", "not assigned", None, "dc")]


def test_hub_gateways_must_be_macs() -> None:
    data = _hub_fleet()
    data["org"]["hub_profiles"][0]["gateways"] = ["not-a-mac"]
    assert "gateways: 'not-a-mac' is not a MAC of 12 hex digits" in only_issue(data).message


def test_a_site_job_with_names_and_missing_devices_survives_its_json_form() -> None:
    job = SiteJob("org-1", "S1", macs=["5c5b35000001"], missing=["device mac 5c5b35000009 is not in ..."],
                  names={"5c5b35000001": "gw"}, device_ids={"5c5b35000001": {"id": "d-1", "type": "gateway"}})
    again = SiteJob.from_json(json.loads(json.dumps(job.to_json())))
    assert again == job and again.writes == 2, "one assign and one name"


def test_an_order_is_claimed_until_recorded_whole_then_placed_by_its_macs() -> None:
    refs = [{"activation_code": "ACORDER01"}]
    (assign, _names), claims = diff_devices("S1", refs, SITE, InventoryIndex([]), [])
    assert claims == ["order:ACORDER01"] and assign.body["macs"] == ["order:ACORDER01"]
    orders = claim_changes(claims)
    assert [(c.kind, c.key, c.body, c.calls) for c in orders] == [
        ("orders", "ACORDER01", {"activation_code": "ACORDER01"}, 1)]
    recorded = InventoryIndex([_device("5c5b35000001", site_id="site-1"), _device("5c5b35000002")],
                              {"ACORDER01": ["5c5b35000001", "5c5b35000002", "5c5b35000003"]})
    (assign, _names), claims = diff_devices("S1", refs, SITE, recorded, [])
    assert claims == [] and assign.body == {"macs": ["5c5b35000002"], "missing": ["mac 5c5b35000003"]}


def test_an_order_cannot_be_named() -> None:
    data = base_fleet()
    data["sites"][0]["devices"] = [{"activation_code": "ac1", "name": "x"}]
    assert "an activation code stands for a whole order" in only_issue(data).message
