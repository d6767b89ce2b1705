"""The fleet routes: plans, background deployments, their progress and events, sites; and the org design."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mistctl.api.jobs import site_lock
from mistctl.designs import default_design_text, load_design
from mistctl.domain.errors import FleetInvalid
from mistctl.store.models import Run
from tests.integration.test_api_support import Harness, service

REPO = Path(__file__).resolve().parents[2]


def small_fleet(svc: Harness, sites: int = 2) -> dict[str, Any]:
    """The default design with a few stores (the first with two devices of the twin's inventory)."""
    fleet = yaml.safe_load(default_design_text())
    fleet["sites"] = [{"name": f"Store-{n}", "zone": 1, "number": n} for n in range(1, sites + 1)]
    fleet["sites"][0]["devices"] = [{"serial": s} for s in svc.serials(2)]
    return dict(fleet)


async def _deploy(svc: Harness, body: dict[str, Any]) -> dict[str, Any]:
    accepted = await svc.client.post("/deployments", json=body, headers=svc.key)
    assert accepted.status_code == 202, accepted.text
    run_id = accepted.json()["id"]
    await svc.ctx.deployments.wait(run_id)
    view: dict[str, Any] = (await svc.client.get(f"/deployments/{run_id}", headers=svc.key)).json()
    return view


async def test_plans_take_yaml_text_or_an_object_and_write_nothing() -> None:
    async with service() as svc:
        fleet = small_fleet(svc)
        as_text = await svc.client.post("/plans", json={"fleet": yaml.safe_dump(fleet)}, headers=svc.key)
        as_object = await svc.client.post("/plans", json={"fleet": fleet}, headers=svc.key)
        assert as_text.status_code == 200 and as_object.status_code == 200
        plan = as_text.json()
        assert plan["summary"]["create"] > 0 and plan["org_id"] == svc.org_id and "eta_seconds" in plan
        assert as_object.json()["fleet_hash"] == plan["fleet_hash"]
        assert svc.writes() == {} and await svc.store.list_runs() == []
        assert "scanner-example-pass-01" not in as_text.text  # PSK passphrases are redacted


async def test_a_bad_fleet_is_422_listing_every_problem() -> None:
    async with service() as svc:
        fleet = small_fleet(svc)
        fleet["sites"][1]["zone"] = 9
        fleet["site_defaults"]["country_code"] = "usa"
        answer = await svc.client.post("/plans", json={"fleet": fleet}, headers=svc.key)
        assert answer.status_code == 422
        messages = " ".join(p["message"] for p in answer.json()["problems"])
        assert "zone 9" in messages and "country_code" in messages


async def test_a_deployment_runs_in_the_background_and_reports_progress_per_step_and_site() -> None:
    async with service() as svc:
        view = await _deploy(svc, {"fleet": small_fleet(svc)})
        assert view["run"]["status"] == "completed" and view["run"]["kind"] == "apply"
        assert {s["name"]: s["status"] for s in view["sites"]} == {"Store-1": "done", "Store-2": "done"}
        assert view["run"]["counts"]["sites_total"] == 2 and view["run"]["counts"]["sites_done"] == 2
        assert {s["name"] for s in view["steps"]} >= {"sites", "devices", "wlans"}
        assert sorted(s["name"] for s in svc.twin.objects("sites")) == ["Store-1", "Store-2"]
        events = await svc.client.get(f"/deployments/{view['run']['id']}/events", headers=svc.key)
        assert events.headers["content-type"].startswith("text/event-stream")
        kinds = [line.split(": ", 1)[1] for line in events.text.splitlines() if line.startswith("event: ")]
        assert kinds.count("site_done") == 2 and kinds[-1] == "end" and "step" in kinds
        later = await svc.client.get(f"/deployments/{view['run']['id']}/events",
                                     headers={**svc.key, "Last-Event-ID": "1000"})
        assert [line for line in later.text.splitlines() if line.startswith("event: ")] == ["event: end"]
        site = (await svc.client.get("/sites/Store-1", headers=svc.key)).json()
        assert site["status"] == "done" and site["last_run_id"] == view["run"]["id"]


async def test_a_saved_plan_is_applied_exactly_and_refused_once_the_org_changed() -> None:
    async with service() as svc:
        fleet = small_fleet(svc)
        plan = (await svc.client.post("/plans", json={"fleet": fleet}, headers=svc.key)).json()
        applied = await _deploy(svc, {"fleet": fleet, "plan": plan})
        assert applied["run"]["status"] == "completed"
        stale = await _deploy(svc, {"fleet": fleet, "plan": plan})  # the org changed since: refused
        assert stale["run"]["status"] == "failed" and "changed since the plan" in stale["run"]["error"]


async def test_a_deployment_with_a_busy_site_is_409_and_nothing_starts() -> None:
    async with service() as svc:
        await svc.store.acquire_lock(site_lock(svc.org_id, "Store-2"), "run-elsewhere", 60)
        answer = await svc.client.post("/deployments", json={"fleet": small_fleet(svc)}, headers=svc.key)
        assert answer.status_code == 409 and answer.json()["site"] == "Store-2"
        assert await svc.store.list_runs() == []
        assert await svc.store.acquire_lock(site_lock(svc.org_id, "Store-1"), "probe", 1)  # released again


async def test_the_deployments_list_shows_cli_runs_and_unknown_runs_are_404() -> None:
    async with service() as svc:
        cli_run = await svc.store.create_run(Run(kind="apply", org_id=svc.org_id, requested_by="cli"))
        listed = (await svc.client.get("/deployments", headers=svc.key)).json()
        assert [r["id"] for r in listed] == [cli_run.id] and listed[0]["requested_by"] == "cli"
        missing = await svc.client.get("/deployments/nope", headers=svc.key)
        assert missing.status_code == 404 and "nope" in missing.json()["detail"]
        assert (await svc.client.get("/sites/Nowhere", headers=svc.key)).status_code == 404


async def test_a_design_file_replaces_the_default(tmp_path: Path) -> None:
    design = yaml.safe_load(default_design_text())
    design["zones"].append({"id": 4, "name": "eu-west"})
    path = tmp_path / "design.yaml"
    path.write_text(yaml.safe_dump(design))
    async with service(design=path) as svc:
        body = {"site_name": "Store-AMS-001", "zone_id": 4, "site_id": 1}
        answer = await svc.client.post("/topology/site", json=body, headers=svc.key)
        assert answer.json()["status"] == "completed" and answer.json()["variables"]["zone_name"] == "eu-west"


def test_a_broken_design_is_refused_with_its_problems(tmp_path: Path) -> None:
    path = tmp_path / "design.yaml"
    path.write_text("ip_plan: {scheme: hierarchical}\nzones: []\n")
    with pytest.raises(FleetInvalid) as caught:
        load_design(path)
    assert "design.yaml" in str(caught.value) and "zones" in str(caught.value)
    with pytest.raises(FleetInvalid, match="cannot be read"):
        load_design(tmp_path / "missing.yaml")


def test_the_default_design_is_the_example_fleet_without_its_sites() -> None:
    example = yaml.safe_load((REPO / "examples" / "fleet.yaml").read_text())
    design = load_design()
    for key in ("ip_plan", "zones", "site_defaults"):
        assert design.data[key] == example[key]
    assert json.dumps(design.data["org"]["wlans"]) == json.dumps(example["org"]["wlans"])
    assert "sites" not in design.data and design.fleet().sites == []


async def test_stopping_the_service_cancels_running_deployments_and_says_so() -> None:
    async with service(latency_ms=20) as svc:
        accepted = await svc.client.post("/deployments", json={"fleet": small_fleet(svc)}, headers=svc.key)
        run_id = accepted.json()["id"]
    run = await svc.store.get_run(run_id)
    assert run is not None and run.status == "cancelled" and "start it again" in (run.error or "")
