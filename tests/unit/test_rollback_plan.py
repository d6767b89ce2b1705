"""The rollback plan from before-images and a live org (pure): done, undo, conflict, kept, order, rebinding."""

from __future__ import annotations

from typing import Any

from mistctl.domain.diff import LiveState
from mistctl.store.models import RunImage
from mistctl.workflow.rollback_plan import PSK_NOTE, PriorWrite, compute_rollback

ORG = "org-1"


def img(kind: str, key: str, action: str, **fields: Any) -> RunImage:
    return RunImage(**{"run_id": "r1", "org_id": ORG, "kind": kind, "key": key, "action": action, **fields})


def live(**objects: list[dict[str, Any]]) -> LiveState:
    return LiveState(ORG, dict(objects))


LABEL = {"id": "L1", "name": "internal", "type": "match", "values": ["10.0.0.0/8"], "modified_time": 5}
RF = {"id": "R1", "name": "rf", "country_code": "US", "band_5": {"power_max": 17}, "modified_time": 5}


def test_a_created_object_is_deleted_gone_is_done_and_changed_since_is_a_conflict() -> None:
    made = img("wlans", "/Staff", "create", mist_id="W1", written=True, after_modified=10)
    wlan = {"id": "W1", "ssid": "Staff", "modified_time": 10}
    undo = compute_rollback("r1", [made], live(wlans=[wlan])).undo
    assert [(u.action, u.mist_id) for u in undo] == [("delete", "W1")]
    assert compute_rollback("r1", [made], live(wlans=[])).done == ["wlans /Staff"]
    touched = live(wlans=[{**wlan, "modified_time": 11, "hide_ssid": True}])
    plan = compute_rollback("r1", [made], touched)
    assert plan.undo == [] and plan.conflicts == {"wlans /Staff": "changed since the run"}
    forced = compute_rollback("r1", [made], touched, force=True)
    assert [u.action for u in forced.undo] == ["delete"] and "--force" in forced.notes[0]


def test_a_create_whose_answer_was_never_recorded_is_found_by_natural_key() -> None:
    made = img("labels", "internal", "create")  # killed between the POST and its record
    plan = compute_rollback("r1", [made], live(labels=[LABEL]))
    assert [(u.action, u.mist_id) for u in plan.undo] == [("delete", "L1")]


def test_an_update_is_restored_without_server_fields_and_equal_is_done() -> None:
    changed = img("rf_templates", "rf", "update", mist_id="R1", before=RF, written=True, after_modified=9)
    now = {**RF, "band_5": {"power_max": 15}, "modified_time": 9}
    plan = compute_rollback("r1", [changed], live(rf_templates=[now]))
    assert [(u.action, u.body) for u in plan.undo] == [
        ("restore", {"name": "rf", "country_code": "US", "band_5": {"power_max": 17}})]
    same = live(rf_templates=[{**RF, "modified_time": 12}])
    assert compute_rollback("r1", [changed], same).done == ["rf_templates rf"]
    deleted = compute_rollback("r1", [changed], live(rf_templates=[]))
    assert "deleted since the run" in deleted.conflicts["rf_templates rf"]


def test_a_restore_an_earlier_rollback_made_is_done_even_when_a_put_could_not_remove_a_field() -> None:
    changed = img("rf_templates", "rf", "update", mist_id="R1", before=RF, written=True, after_modified=9)
    now = {**RF, "extra": 1, "modified_time": 20}
    prior = {("rf_templates", "rf"): PriorWrite("update", "R1", 20)}
    assert compute_rollback("r1", [changed], live(rf_templates=[now]), prior).done == ["rf_templates rf"]


def test_secrets_are_never_sent_back_and_an_object_needing_one_is_kept() -> None:
    wlan = {"id": "W1", "ssid": "Corp", "auth": {"type": "psk", "psk": "corp-pass-123"}, "vlan_id": 10}
    changed = img("wlans", "/Corp", "update", mist_id="W1", before=wlan, written=True, after_modified=3)
    assert "corp-pass-123" not in changed.model_dump_json()
    plan = compute_rollback("r1", [changed], live(wlans=[{**wlan, "vlan_id": 20, "modified_time": 3}]))
    assert plan.undo[0].body == {"ssid": "Corp", "auth": {"type": "psk"}, "vlan_id": 10}
    assert "passphrase" in plan.undo[0].note
    gone = img("wlans", "/Corp", "delete", mist_id="W1", before=wlan)
    plan = compute_rollback("r1", [gone], live(wlans=[]))
    assert plan.undo == [] and "cannot be recreated" in plan.kept["wlans /Corp"]
    psk = img("psks", "staff", "update", mist_id="P1", before={"id": "P1", "name": "staff", "passphrase": "x" * 12})
    assert PSK_NOTE in compute_rollback("r1", [psk], live(psks=[])).notes


def test_recreates_come_first_restores_next_deletes_last_in_reverse_creation_order() -> None:
    images = [
        img("sites", "Store-9", "create", mist_id="S9", written=True, after_modified=1),
        img("wlans", "/Staff", "create", mist_id="W1", written=True, after_modified=1),
        img("rf_templates", "rf", "update", mist_id="R1", before=RF, written=True, after_modified=1),
        img("wlan_policies", "/2", "delete", mist_id="P2", before={"id": "P2", "order": 2, "dst_deny_wxtags": ["L1"]}),
        img("labels", "internal", "delete", mist_id="L1", before=LABEL),
    ]
    state = live(sites=[{"id": "S9", "name": "Store-9", "modified_time": 1}],
                 wlans=[{"id": "W1", "ssid": "Staff", "modified_time": 1}],
                 rf_templates=[{**RF, "band_5": {}, "modified_time": 1}], labels=[], wlan_policies=[])
    plan = compute_rollback("r1", images, state)
    assert [(u.action, u.kind) for u in plan.undo] == [
        ("recreate", "labels"), ("recreate", "wlan_policies"), ("restore", "rf_templates"),
        ("delete", "wlans"), ("delete", "sites")]


def test_an_object_recreated_already_is_done_and_its_new_id_rebinds_the_references() -> None:
    label = img("labels", "internal", "delete", mist_id="L1", before=LABEL)
    policy = img("wlan_policies", "/2", "delete", mist_id="P2",
                 before={"id": "P2", "order": 2, "dst_deny_wxtags": ["L1"]})
    again = {**LABEL, "id": "L9", "modified_time": 30}
    plan = compute_rollback("r1", [policy, label], live(labels=[again], wlan_policies=[]))
    assert plan.done == ["labels internal"] and plan.idmap == {"L1": "L9"}
    assert [(u.action, u.body) for u in plan.undo] == [("recreate", {"order": 2, "dst_deny_wxtags": ["L9"]})]
