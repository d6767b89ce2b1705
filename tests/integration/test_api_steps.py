"""The per-step and lifecycle routes against the twin in-process: each converges its objects and says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import mistctl
from mistctl.api.routes_workflow import STEP_PATHS
from tests.integration.test_api_support import Harness, service

#: The Mist collection each step route fills, and how many objects the default design has there.
FILLS = {
    "/wan/applications": ("services", 3),
    "/wired/networks": ("networks", 6),
    "/wan/hub-profiles": ("deviceprofiles", 1),
    "/wan/gateway-templates": ("gatewaytemplates", 1),
    "/wired/templates": ("networktemplates", 1),
    "/wireless/wlan-templates": ("templates", 1),
    "/wireless/rf-templates": ("rftemplates", 1),
    "/wireless/wlans": ("wlans", 3),
    "/wireless/labels": ("wxtags", 3),
    "/wireless/wxrules": ("wxrules", 2),
    "/wireless/org-psks": ("psks", 2),
}
SITE = {"site_name": "Store-X", "zone_id": 2, "site_id": 7}
DEFAULT_DESIGN = Path(mistctl.__file__).parent / "designs" / "default.yaml"


async def _post(svc: Harness, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = await svc.client.post(path, json=body if body is not None else {}, headers=svc.key)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


async def test_each_step_route_in_order_creates_its_objects_then_finds_them_unchanged() -> None:
    async with service() as svc:
        for path, step in STEP_PATHS.items():
            first = await _post(svc, path)
            collection, count = FILLS[path]
            assert first["status"] == "completed" and first["step"] == step, first
            assert len(svc.twin.objects(collection)) == count
            made = {o["name"]: o["mist_id"] for o in first["objects"] if o["action"] == "created"}
            assert set(made.values()) >= {o["id"] for o in svc.twin.objects(collection)}
            assert first["run_id"] is not None
        writes = svc.writes()
        for path in STEP_PATHS:
            again = await _post(svc, path)
            assert again["status"] == "completed" and again["run_id"] is None
            assert {o["action"] for o in again["objects"]} == {"unchanged"}
        assert svc.writes() == writes


async def test_a_step_whose_references_do_not_exist_yet_fails_with_a_hint() -> None:
    async with service() as svc:
        answer = await _post(svc, "/wireless/wlans")
        assert answer["status"] == "failed" and answer["step"] == 10
        assert "store-wifi" in answer["message"] and "earlier steps" in answer["message"]
        assert svc.twin.objects("wlans") == []


async def test_sites_creates_the_site_with_what_it_names_and_topology_answers_its_variables() -> None:
    async with service() as svc:
        made = await _post(svc, "/sites", SITE)
        assert made["status"] == "completed" and made["step"] == 1
        site = next(s for s in svc.twin.objects("sites") if s["name"] == "Store-X")
        template = svc.twin.objects("gatewaytemplates")[0]
        assert site["gatewaytemplate_id"] == template["id"]
        made_site = {"kind": "sites", "name": "Store-X", "mist_id": site["id"], "action": "created"}
        assert made_site in made["objects"]
        topo = await _post(svc, "/topology/site", SITE)
        assert topo["status"] == "completed"
        assert {o["action"] for o in topo["objects"]} == {"unchanged"}
        assert topo["variables"]["zone_name"] == "us-central" and topo["variables"]["site_number"] == "7"
        settings = {s["site_id"]: s for s in svc.twin.objects("site_settings")}
        assert settings[site["id"]]["vars"] == topo["variables"]


async def test_inventory_assign_puts_devices_on_the_site_once() -> None:
    async with service() as svc:
        await _post(svc, "/sites", SITE)
        serials = svc.serials(2)
        body = {"site_name": "Store-X", "device_serials": serials}
        first = await _post(svc, "/inventory/assign", body)
        assert first["status"] == "completed" and len(first["assigned"]) == 2
        on_site = {d["serial"] for d in svc.twin.inventory() if d.get("site_id") == first["site_id"]}
        assert on_site == set(serials)
        again = await _post(svc, "/inventory/assign", body)
        assert again["assigned"] == [] and len(again["already_assigned"]) == 2


async def test_inventory_ztp_claims_codes_and_binds_them_to_the_site() -> None:
    async with service() as svc:
        await _post(svc, "/sites", SITE)
        codes = [d["claim_code"] for d in svc.twin.devices() if not d["claimed"]][:2]
        body = {"site_name": "Store-X", "claim_codes": [*codes, "BADCODE00000001"]}
        answer = await _post(svc, "/inventory/ztp", body)
        assert answer["status"] == "failed" and sorted(answer["claimed"]) == sorted(codes)
        assert any("BADCODE00000001" in e for e in answer["errors"])
        claimed = {d["mac"] for d in svc.twin.devices() if d["claim_code"] in codes}
        assert {d["mac"] for d in svc.twin.inventory() if d.get("site_id") == answer["site_id"]} == claimed


async def test_a_malformed_claim_code_is_a_422_naming_it_and_nothing_is_claimed() -> None:
    async with service() as svc:
        await _post(svc, "/sites", SITE)
        before = svc.writes()
        body = {"site_name": "Store-X", "claim_codes": ["6JG8E-PTFV2"]}
        refused = await svc.client.post("/inventory/ztp", json=body, headers=svc.key)
        assert refused.status_code == 422 and "claim code '6JG8E-PTFV2' is not 15 letters" in refused.text
        assert svc.writes() == before


async def test_devices_for_a_site_that_does_not_exist_is_404() -> None:
    async with service() as svc:
        missing = await svc.client.post("/inventory/assign", json={"site_name": "Nowhere"}, headers=svc.key)
        assert missing.status_code == 404 and "Nowhere" in missing.json()["detail"]


async def test_org_self_probes_the_token_and_answers_its_privileges() -> None:
    async with service() as svc:
        answer = await _post(svc, "/org/self")
        assert answer["ok"] is True and answer["org_id"] == svc.org_id
        assert {"scope": "org", "role": "admin", "org_id": svc.org_id} in [
            {k: p[k] for k in ("scope", "role", "org_id")} for p in answer["privileges"]]
        assert answer["calls_left"] > 0 and svc.twin.token not in str(answer)


async def test_the_hub_profile_step_assigns_the_design_hub_gateways_once(tmp_path: Path) -> None:
    design = yaml.safe_load(DEFAULT_DESIGN.read_text())
    async with service(inventory_count=20, seed=4) as probe:
        hub_mac = next(d["mac"] for d in probe.twin.inventory() if d["type"] == "gateway")
    design["org"]["hub_profiles"][0]["gateways"] = [hub_mac]
    path = tmp_path / "design.yaml"
    path.write_text(yaml.safe_dump(design, sort_keys=False))
    async with service(design=path, inventory_count=20, seed=4) as svc:
        for route in ("/wan/applications", "/wired/networks"):
            await _post(svc, route)
        first = await _post(svc, "/wan/hub-profiles")
        assert first["status"] == "completed", first
        hub = next(p for p in svc.twin.objects("deviceprofiles") if p["name"] == "dc-hub")
        assert next(d for d in svc.twin.inventory() if d["mac"] == hub_mac)["deviceprofile_id"] == hub["id"]
        writes = svc.writes()
        again = await _post(svc, "/wan/hub-profiles")
        assert again["status"] == "completed" and svc.writes() == writes, "assigned once"
        await _post(svc, "/wan/gateway-templates")  # another step never assigns hub gateways
        assert svc.writes().get("POST /api/v1/orgs/{org_id}/deviceprofiles/{deviceprofile_id}/assign") == 1
