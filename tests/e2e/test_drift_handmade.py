"""Drift of what was added by hand, end to end: the twin over HTTP, `python -m mistctl` as a user runs it.

After an apply, objects are added through the Mist API: inside managed containers (a WLAN and a WLAN
policy in the managed WLAN template, a site put in a managed site group) and outside them (a template
of one's own with its WLAN and policy, an org WLAN, a site in a group of one's own). `drift` reports
exactly the first three as added by hand; `--fix` fixes field drift and keeps them; `--fix
--allow-delete` removes them (one call each, audited) and never touches the others.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.test_deletes_twin import Twin, _twin
from tests.support.engine import EXAMPLE

SEED = 3
NO_TAGS: dict[str, list[str]] = {"src_wxtags": [], "dst_allow_wxtags": [], "dst_deny_wxtags": []}
ADDED = "added by hand (not in the fleet)"
HAND = {("wlans", "store-wifi/Hand-WLAN", "WLAN template store-wifi"),
        ("wlan_policies", "store-wifi/9", "WLAN template store-wifi"),
        ("site_group_members", "Hand-Site", "site group retail-stores")}


def _fleet(tmp: Path) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["sites"] = [s for s in data["sites"] if "name" in s]
    path = tmp / "fleet.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _by_name(state: dict[str, Any], collection: str, name: str, field: str = "name") -> dict[str, Any]:
    return next(o for o in state[collection] if o.get(field) == name)


def _tamper(twin: Twin) -> dict[str, Any]:
    """Add objects inside and outside managed containers, and change one managed field; the outside ones."""
    state = twin.state()
    wifi = _by_name(state, "templates", "store-wifi")["id"]
    retail = _by_name(state, "sitegroups", "retail-stores")["id"]
    twin.post("wlans", {"ssid": "Hand-WLAN", "template_id": wifi})
    twin.post("wxrules", {"order": 9, "template_id": wifi, "action": "allow", **NO_TAGS})
    own_group = twin.post("sitegroups", {"name": "own-group"})["id"]
    hand_site = twin.post("sites", {"name": "Hand-Site", "sitegroup_ids": [retail, own_group]})
    own_tpl = twin.post("templates", {"name": "own-template"})["id"]
    outside = [
        ("wlans", twin.post("wlans", {"ssid": "Own-WLAN", "template_id": own_tpl})["id"]),
        ("wxrules", twin.post("wxrules", {"order": 9, "template_id": own_tpl, "action": "block", **NO_TAGS})["id"]),
        ("wlans", twin.post("wlans", {"ssid": "Org-WLAN"})["id"]),
        ("sites", twin.post("sites", {"name": "Own-Site", "sitegroup_ids": [own_group]})["id"]),
        ("sitegroups", own_group), ("templates", own_tpl),
    ]
    corp = _by_name(state, "wlans", "Store-IoT", "ssid")
    answer = twin.http.put(f"/api/v1/orgs/{twin.org_id}/wlans/{corp['id']}", json={"hide_ssid": False})
    assert answer.status_code == 200, answer.text
    return {"outside": outside, "hand_site": hand_site["id"], "own_group": own_group, "retail": retail}


def _objects(state: dict[str, Any], refs: list[tuple[str, str]]) -> list[dict[str, Any] | None]:
    return [next((o for o in state[c] if o["id"] == i), None) for c, i in refs]


def _drift(twin: Twin, fleet: Path) -> tuple[int, dict[str, Any]]:
    code, out = twin.cli("drift", str(fleet), "--json")
    data, _end = json.JSONDecoder().raw_decode(out[out.index("{"):])
    return code, data


def _hand(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(d["kind"], d["key"], d["container"]) for d in report["differences"] if d["what"] == ADDED}


def test_objects_added_by_hand_in_managed_containers_are_reported_and_removed_only_with_consent(
        tmp_path: Path) -> None:
    with _twin(tmp_path) as twin:
        fleet = _fleet(tmp_path)
        code, out = twin.cli("apply", str(fleet), "--yes")
        assert code == 0, out[-3000:]
        made = _tamper(twin)
        code, out = twin.cli("drift", str(fleet), "--allow-delete")  # consent to a fix that was not asked for
        assert code == 2 and "--allow-delete goes with --fix" in out and "Traceback" not in out, out
        outside_before = _objects(twin.state(), made["outside"])
        assert None not in outside_before

        code, report = _drift(twin, fleet)
        assert code == 3 and _hand(report) == HAND  # nothing outside a managed container is listed
        assert {(d["kind"], d["field"]) for d in report["differences"] if d["what"] == "changed"} == {
            ("wlans", "hide_ssid")}
        code, out = twin.cli("drift", str(fleet))
        assert code == 3 and "Hand-WLAN" in out and "site group retail-stores" in out and "--allow-delete" in out

        code, out = twin.cli("drift", str(fleet), "--fix", "--yes")  # no consent: the rest is fixed, these kept
        assert code == 3 and "kept wlans store-wifi/Hand-WLAN: pass --allow-delete" in out, out[-3000:]
        assert "--fix --allow-delete" in out
        code, report = _drift(twin, fleet)
        assert code == 3 and _hand(report) == HAND and all(d["what"] == ADDED for d in report["differences"])
        code, out = twin.cli("drift", str(fleet), "--fix", "--yes")  # only removals left: nothing to do
        assert code == 3 and "nothing was fixed" in out, out[-2000:]

        before = Counter(twin.counters()["by_route"])
        code, out = twin.cli("drift", str(fleet), "--fix", "--yes", "--allow-delete")
        assert code == 0 and "drift fixed with 3 write(s)" in out, out[-3000:]
        spent = Counter(twin.counters()["by_route"]) - before
        writes = {route: n for route, n in spent.items() if not route.startswith("GET")}
        assert writes == {"DELETE /api/v1/orgs/{org_id}/wlans/{wlan_id}": 1,
                          "DELETE /api/v1/orgs/{org_id}/wxrules/{wxrule_id}": 1,
                          "PUT /api/v1/sites/{site_id}": 1}  # one call per object added by hand

        state = twin.state()
        assert _objects(state, made["outside"]) == outside_before  # outside managed containers: untouched
        site = next(s for s in state["sites"] if s["id"] == made["hand_site"])
        assert site["sitegroup_ids"] == [made["own_group"]]  # the site stays, out of the managed group only
        assert made["hand_site"] not in _by_name(state, "sitegroups", "retail-stores").get("site_ids", [])
        assert not any(w["ssid"] == "Hand-WLAN" for w in state["wlans"])
        code, report = _drift(twin, fleet)
        assert code == 0 and report["differences"] == []
        code, out = twin.cli("audit", "--limit", "20")
        assert code == 0 and out.count("DELETE") >= 2 and "Hand-WLAN" in out and "Hand-Site" in out, out


def test_a_lost_delete_answer_is_looked_up_before_any_retry(tmp_path: Path) -> None:
    with _twin(tmp_path) as twin:
        fleet = _fleet(tmp_path)
        code, out = twin.cli("apply", str(fleet), "--yes")
        assert code == 0, out[-3000:]
        made = _tamper(twin)
        code, out = twin.cli("drift", str(fleet), "--fix", "--yes")  # the field drift first
        assert code == 3, out[-3000:]
        twin.faults(drop_rate=0.5, seed=SEED)  # half the writes' answers are lost (the writes are made)
        code, out = twin.cli("drift", str(fleet), "--fix", "--yes", "--allow-delete")
        twin.faults(drop_rate=0.0)
        assert code == 0, out[-3000:]
        routes = twin.counters()["by_route"]
        deletes = {r: n for r, n in routes.items() if r.startswith("DELETE")}
        assert deletes == {"DELETE /api/v1/orgs/{org_id}/wlans/{wlan_id}": 1,
                           "DELETE /api/v1/orgs/{org_id}/wxrules/{wxrule_id}": 1}, out[-3000:]
        looked_up = [r for r in routes if r in ("GET /api/v1/orgs/{org_id}/wlans/{wlan_id}",
                                                "GET /api/v1/orgs/{org_id}/wxrules/{wxrule_id}")]
        assert looked_up, routes  # an answer was lost: the object was looked up (404: done), not deleted again
        state = twin.state()
        assert not any(w["ssid"] == "Hand-WLAN" for w in state["wlans"])
        assert made["retail"] not in next(s for s in state["sites"] if s["id"] == made["hand_site"])["sitegroup_ids"]
