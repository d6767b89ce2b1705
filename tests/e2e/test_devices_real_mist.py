"""Devices as real Mist has them, end to end: the twin served over HTTP, `mistctl` run as a user runs it.

Claim codes written with dashes and in lower case, claims by fifties, assigns with `managed: true` and
per-MAC refusals, devices missing from the inventory, device names, hub profiles on their gateways.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mist_twin.config import TwinConfig
from tests.e2e.cli_support import EXAMPLES, run
from tests.support.twin import running_twin

GW = {"claim_code": "GWDEV0000000001", "mac": "5c5b35d00001", "serial": "CW4800000001", "model": "SRX320",
      "type": "gateway"}
SW = {"claim_code": "SWDEV0000000002", "mac": "5c5b35d00002", "serial": "FC4000000002", "model": "EX4100-F-12P",
      "type": "switch"}
AP = {"claim_code": "APDEV0000000003", "mac": "5c5b35d00003", "serial": "A1700000003", "model": "AP45", "type": "ap"}
HUB = {"claim_code": "HUBDV0000000004", "mac": "5c5b35d00004", "serial": "TH0100000004", "model": "SSR120",
       "type": "gateway"}
#: Claimed before mistctl runs (the twin's inventory_count), listed in the fleet by MAC or serial.
HELD = {"claim_code": "HELDD0000000005", "mac": "5c5b35d00005", "serial": "A1700000005", "model": "AP34",
        "type": "ap"}
ABSENT_MAC = "5c5b35d0ffff"  # in no pool and no inventory


def _dashed(code: str) -> str:
    """`ABCDE12345FGHIJ` as people write it: `abcde-12345-fghij`."""
    return "-".join(code[i : i + 5] for i in range(0, 15, 5)).lower()


class Twin:
    """The twin over HTTP: its URL and its state as `GET /__twin/state` answers it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def state(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.url}/__twin/state", timeout=30).json()
        return answer

    def device(self, mac: str) -> dict[str, Any]:
        return next(d for d in self.state()["inventory"] if d["mac"] == mac)

    def routes(self) -> dict[str, int]:
        counters: dict[str, int] = httpx.get(f"{self.url}/__twin/counters", timeout=10).json()["by_route"]
        return counters

    def writes(self) -> int:
        return sum(n for route, n in self.routes().items() if not route.startswith("GET"))


@pytest.fixture()
def twin(workdir: Path, monkeypatch: pytest.MonkeyPatch, extra_devices: list[dict[str, str]]) -> Iterator[Twin]:
    """A twin whose pool holds the devices above (HELD already in the org), and the CLI pointed at it."""
    devices = [HELD, GW, SW, AP, HUB, *extra_devices]
    (workdir / "devices.json").write_text(json.dumps(devices))
    config = TwinConfig(devices_file=workdir / "devices.json", inventory_count=1, device_count=0)
    with running_twin(config) as (url, org_id, token):
        for name, value in {"MIST_HOST": url, "MIST_APITOKEN": token, "MIST_ORG_ID": org_id,
                            "MISTCTL_STATE": f"sqlite:///{workdir / 'state.db'}"}.items():
            monkeypatch.setenv(name, value)
        yield Twin(url)


@pytest.fixture()
def extra_devices() -> list[dict[str, str]]:
    return []


def _fleet(workdir: Path, devices: dict[str, list[dict[str, str]]], *, hub_gateways: list[str] | None = None) -> str:
    """The example design with sites holding these devices (site name -> device refs)."""
    data = yaml.safe_load((EXAMPLES / "fleet.yaml").read_text())
    data["sites"] = [{"name": name, "zone": 1, "number": n + 1, "vars": {"store_code": f"S{n:03d}"},
                      "devices": refs} for n, (name, refs) in enumerate(devices.items())]
    if hub_gateways is not None:
        data["org"]["hub_profiles"][0]["gateways"] = hub_gateways
    path = workdir / "fleet.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def _plan(fleet: str) -> dict[str, Any]:
    code, out = run("plan", fleet, "--json")
    assert code == 0, out
    data: dict[str, Any] = json.loads(out[out.index("{"):])
    return data


def test_dashed_lower_case_codes_are_claimed_assigned_managed_and_named(workdir: Path, twin: Twin) -> None:
    fleet = _fleet(workdir, {"Store-A": [
        {"claim_code": _dashed(GW["claim_code"]), "name": "a-gw"},
        {"claim_code": SW["claim_code"].lower(), "name": "a-sw1"},
        {"claim_code": AP["claim_code"]},  # no name: left as it is
        {"serial": HELD["serial"], "name": "a-ap-held"},
    ]})
    plan = _plan(fleet)
    by_kind = plan["by_kind"]
    assert by_kind["claims"]["create"] == 1 and by_kind["device_names"]["update"] == 1
    names = next(c for c in plan["changes"] if c["kind"] == "device_names")
    assert names["calls"] == 4, "three devices to name, each one PUT, and one list for the ids of the claimed"
    code, out = run("apply", fleet, "--yes")
    assert code == 0, out
    state = twin.state()
    site_id = next(s["id"] for s in state["sites"] if s["name"] == "Store-A")
    inventory = {d["mac"]: d for d in state["inventory"]}
    assert {inventory[d["mac"]]["site_id"] for d in (GW, SW, AP, HELD)} == {site_id}
    assert inventory[GW["mac"]]["magic"] == GW["claim_code"], "Mist stores the code without dashes"
    assert [inventory[d["mac"]]["name"] for d in (GW, SW, AP, HELD)] == ["a-gw", "a-sw1", "", "a-ap-held"]
    managed = {m["mac"]: m["managed"] for m in state["management"]}
    assert managed[GW["mac"]] is True and managed[SW["mac"]] is True, "switches and gateways get their templates"
    # nothing left: the plan is empty and a re-apply writes nothing
    code, out = run("plan", fleet)
    assert code == 0 and "No changes" in out, out
    before = twin.writes()
    code, out = run("apply", fleet, "--yes")
    assert code == 0, out
    assert twin.writes() == before


DEVICE_PUT = "PUT /api/v1/sites/{site_id}/devices/{device_id}"


def _as_admin(method: str, url: str, body: Any) -> httpx.Response:
    headers = {"Authorization": f"Token {os.environ['MIST_APITOKEN']}"}
    return httpx.request(method, url, json=body, headers=headers, timeout=10)


def _drift(fleet: str) -> dict[str, Any]:
    code, out = run("drift", fleet, "--json")
    assert code in (0, 3), out
    report: dict[str, Any] = json.loads(out[out.index("{"):])
    return report


def test_a_renamed_device_is_drift_and_converges_with_one_put(workdir: Path, twin: Twin) -> None:
    fleet = _fleet(workdir, {"Store-A": [{"claim_code": GW["claim_code"], "name": "a-gw"}]})
    assert run("apply", fleet, "--yes")[0] == 0
    gw = twin.device(GW["mac"])
    device = f"{twin.url}/api/v1/sites/{gw['site_id']}/devices/{gw['id']}"
    assert _as_admin("PUT", device, {"name": "someone-else", "type": "gateway"}).status_code == 200
    report = _drift(fleet)
    assert report["drift"] is True
    assert [(d["kind"], d["field"], d["live"], d["desired"]) for d in report["differences"]] == [
        ("device_names", GW["mac"], "someone-else", "a-gw")]
    before = twin.routes().get(DEVICE_PUT, 0)
    assert run("apply", fleet, "--yes")[0] == 0
    assert twin.device(GW["mac"])["name"] == "a-gw"
    assert twin.routes()[DEVICE_PUT] == before + 1
    assert _drift(fleet)["drift"] is False


def test_a_device_missing_from_the_inventory_fails_its_site_and_is_named(workdir: Path, twin: Twin) -> None:
    fleet = _fleet(workdir, {
        "Store-A": [{"mac": ABSENT_MAC}, {"claim_code": AP["claim_code"], "name": "a-ap"}],
        "Store-B": [{"serial": HELD["serial"]}],
    })
    code, out = run("plan", fleet)
    assert code == 0 and "No changes" not in out and ABSENT_MAC in out, out
    code, out = run("apply", fleet, "--yes")
    assert code != 0 and ABSENT_MAC in out and "Store-A" in out, out
    state = twin.state()
    sites = {s["name"]: s["id"] for s in state["sites"]}
    inventory = {d["mac"]: d for d in state["inventory"]}
    # the rest of Store-A went ahead (its AP assigned and named); Store-B is done
    assert inventory[AP["mac"]]["site_id"] == sites["Store-A"] and inventory[AP["mac"]]["name"] == "a-ap"
    assert inventory[HELD["mac"]]["site_id"] == sites["Store-B"]
    code, out = run("status")
    assert "failed 1" in out or "1 failed" in out, out
    report = _drift(fleet)
    assert [(d["kind"], d["what"], d["desired"], d["site"]) for d in report["differences"]] == [
        ("devices", "missing", f"mac {ABSENT_MAC}", "Store-A")]
    # once the device is in the org, the next apply places it and nothing is left
    added = httpx.post(f"{twin.url}/__twin/devices", json=[{**AP, "claim_code": "LATEDEV00000009",
                                                            "mac": ABSENT_MAC, "serial": "A1799999999"}])
    assert added.status_code == 200
    claimed = _as_admin("POST", f"{twin.url}/api/v1/orgs/{os.environ['MIST_ORG_ID']}/inventory", ["LATEDEV00000009"])
    assert claimed.status_code == 200
    assert run("apply", fleet, "--yes")[0] == 0
    assert twin.device(ABSENT_MAC)["site_id"] == sites["Store-A"]
    assert "No changes" in run("plan", fleet)[1]


BATCH = [{"claim_code": f"BATCH{n:010d}", "mac": f"5c5b35e0{n:04x}", "serial": f"A17{n:08d}", "model": "AP45",
          "type": "ap"} for n in range(120)]


@pytest.mark.parametrize("extra_devices", [BATCH])
def test_claims_go_by_fifties(workdir: Path, twin: Twin) -> None:
    fleet = _fleet(workdir, {f"Store-{n}": [{"claim_code": f"BATCH{n:010d}"}] for n in range(120)})
    plan = _plan(fleet)
    batches = [c for c in plan["changes"] if c["kind"] == "claims"]
    assert [len(c["body"]["claim_codes"]) for c in batches] == [50, 50, 20]
    assert run("apply", fleet, "--yes")[0] == 0
    assert twin.routes()["POST /api/v1/orgs/{org_id}/inventory"] == 3
    assert len([d for d in twin.state()["inventory"] if d.get("site_id")]) == 120


def test_hub_profile_is_assigned_to_its_gateways(workdir: Path, twin: Twin) -> None:
    fleet = _fleet(workdir, {"DC-East": [{"claim_code": HUB["claim_code"], "name": "dc-hub-gw"}],
                             "Store-A": [{"claim_code": GW["claim_code"]}]}, hub_gateways=[HUB["mac"].upper()])
    plan = _plan(fleet)
    hubs = [c for c in plan["changes"] if c["kind"] == "hub_gateways"]
    assert [(c["key"], c["body"]["macs"], c["calls"]) for c in hubs] == [("dc-hub", [HUB["mac"]], 1)]
    assert run("apply", fleet, "--yes")[0] == 0
    state = twin.state()
    hub_id = next(p["id"] for p in state["deviceprofiles"] if p["name"] == "dc-hub")
    profiles = {d["mac"]: d["deviceprofile_id"] for d in state["inventory"]}
    assert profiles[HUB["mac"]] == hub_id and profiles[GW["mac"]] is None, "the hub only; spokes keep none"
    assert "No changes" in run("plan", fleet)[1]
    # someone unassigns it: drift names the gateway, and the fix assigns it again
    unassign = f"{twin.url}/api/v1/orgs/{os.environ['MIST_ORG_ID']}/deviceprofiles/{hub_id}/unassign"
    assert _as_admin("POST", unassign, {"macs": [HUB["mac"]]}).status_code == 200
    report = _drift(fleet)
    assert [(d["kind"], d["key"], d["field"], d["what"]) for d in report["differences"]] == [
        ("hub_gateways", "dc-hub", HUB["mac"], "not assigned")]
    code, out = run("drift", fleet, "--fix", "--yes")
    assert code == 0, out
    assert twin.device(HUB["mac"])["deviceprofile_id"] == hub_id


def test_a_hub_gateway_nobody_claims_fails_the_assign_by_name(workdir: Path, twin: Twin) -> None:
    fleet = _fleet(workdir, {"Store-A": [{"claim_code": GW["claim_code"]}]}, hub_gateways=[ABSENT_MAC])
    code, out = run("plan", fleet)
    assert code == 0 and ABSENT_MAC in out, out
    code, out = run("apply", fleet, "--yes")
    assert code != 0 and ABSENT_MAC in out and "dc-hub" in out, out
    assert twin.device(GW["mac"])["deviceprofile_id"] is None


#: An order: one device shipped, two not yet (Mist answers those in `inventory_pending`).
ORDER = [{"claim_code": f"ORDERE000000{n:03d}", "mac": f"5c5b35c200{n:02x}", "serial": f"A1797000{n:03d}",
          "model": "AP45", "type": "ap", "activation_code": "ACFLEET01", "shipped": n == 0} for n in range(3)]


@pytest.mark.parametrize("extra_devices", [ORDER])
def test_an_order_not_shipped_leaves_its_site_pending_until_a_later_apply(workdir: Path, twin: Twin) -> None:
    fleet = _fleet(workdir, {"Store-A": [{"activation_code": "acfleet01"}, {"claim_code": AP["claim_code"]}]})
    code, out = run("apply", fleet, "--yes")
    assert code == 0 and "1 waiting for ordered devices" in out and "not shipped yet" in out, out
    site_id = next(s["id"] for s in twin.state()["sites"] if s["name"] == "Store-A")
    placed = {d["mac"] for d in twin.state()["inventory"] if d.get("site_id") == site_id}
    assert placed == {ORDER[0]["mac"], AP["mac"]}
    code, out = run("status", "--site", "Store-A")
    assert "pending" in out, out
    assert "No changes" not in run("plan", fleet)[1], "the order is claimed again until all of it shipped"
    shipped = httpx.post(f"{twin.url}/__twin/devices/ship", json={"macs": [ORDER[1]["mac"], ORDER[2]["mac"]]})
    assert shipped.status_code == 200
    code, out = run("apply", fleet, "--yes")
    assert code == 0 and "1 sites done, 0 failed" in out, out
    placed = {d["mac"] for d in twin.state()["inventory"] if d.get("site_id") == site_id}
    assert placed == {AP["mac"], *(d["mac"] for d in ORDER)}
    assert "No changes" in run("plan", fleet)[1], "the whole order is recorded: nothing to claim again"
    before = twin.writes()
    assert run("apply", fleet, "--yes")[0] == 0
    assert twin.writes() == before
