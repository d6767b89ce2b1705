"""One owner per org object: the service's design and a CLI fleet that differ on `store-access`.

Real processes on loopback: `mistctl twin serve`, `mistctl serve` (the shipped design) and the CLI, one
SQLite state file between them. The second owner's plan names the conflict, its apply refuses and writes
nothing to the twin, `--take-ownership` changes the template and records the new owner; same-owner runs
have no conflict; `status --json`, drift and the HTTP API show the owners.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import yaml

from mist_twin.config import TwinConfig
from mistctl.designs import default_design_text
from tests.e2e.test_api_serve import CLI, SERVICE_KEY, TWIN_TOKEN, _env, _non_get_calls, running_service
from tests.support.twin import running_twin

DEPLOY = "/orchestrator/deploy-full-stack"
KEY = {"Authorization": f"Bearer {SERVICE_KEY}"}
FLEET_DESK = "branch desks"
DESIGN_DESK = "{{store_code}} desks"
CONFLICT = "switch template store-access is owned by design 'default'; pass --take-ownership to change it"


def _fleet(tmp_path: Path) -> dict[str, Any]:
    """The design with a name, one site of its own and another desk description on `store-access`."""
    fleet: dict[str, Any] = {"name": "branch-east", **yaml.safe_load(default_design_text())}
    template = next(t for t in fleet["org"]["switch_templates"] if t["name"] == "store-access")
    template["port_usages"]["desk"]["description"] = FLEET_DESK
    fleet["sites"] = [{"name": "Store-East-001", "zone": 2, "number": 1}]
    (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(fleet, sort_keys=False))
    return fleet


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


def _desk(twin: httpx.Client, org_id: str) -> str:
    found = [t for t in twin.get(f"/api/v1/orgs/{org_id}/networktemplates").json() if t["name"] == "store-access"]
    assert len(found) == 1, found
    return str(found[0]["port_usages"]["desk"]["description"])


def _owners(env: dict[str, str], cwd: Path) -> dict[tuple[str, str], str | None]:
    shown = _cli(env, cwd, "status", "--json")
    assert shown.returncode == 0, shown.stderr
    return {(o["kind"], o["key"]): o["owner"] for o in json.loads(shown.stdout)["owners"]}


def _deploy(api: httpx.Client, org_id: str, name: str, number: int, **extra: Any) -> dict[str, Any]:
    body = {"org_id": org_id, "site_name": name, "zone_id": 1, "site_id": number, **extra}
    answer = api.post(DEPLOY, json=body, headers=KEY)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_the_cli_fleet_refuses_the_designs_template_until_it_takes_it_over(tmp_path: Path) -> None:
    with running_twin(TwinConfig(token=TWIN_TOKEN, inventory_count=0), via_cli=True) as (twin_url, org_id, _), \
            httpx.Client(base_url=twin_url, headers={"Authorization": f"Token {TWIN_TOKEN}"}) as twin:
        env = {**_env(tmp_path, twin_url), "MIST_ORG_ID": org_id}
        with running_service(env, tmp_path) as (url, _log), httpx.Client(base_url=url, timeout=60) as api:
            assert _deploy(api, org_id, "Branch-NYC-001", 5)["status"] == "completed"
            again = _non_get_calls(twin)
            assert _deploy(api, org_id, "Branch-NYC-001", 5)["status"] == "completed"  # same owner: no conflict
            assert _non_get_calls(twin) == again
        assert _owners(env, tmp_path)[("switch_templates", "store-access")] == "design:default"
        _fleet(tmp_path)

        plan = _cli(env, tmp_path, "plan", "fleet.yaml")
        assert plan.returncode == 1, plan.stdout + plan.stderr
        assert "owner: fleet 'branch-east'" in plan.stdout and CONFLICT in plan.stdout, plan.stdout
        assert "No changes" not in plan.stdout
        as_json = json.loads(_cli(env, tmp_path, "plan", "fleet.yaml", "--json").stdout)
        assert as_json["owner"] == "fleet:branch-east"
        assert sorted((p["kind"], p["key"], p["owner"], p["fatal"]) for p in as_json["problems"]) == [
            ("owner", "design:default", "design:default", False),  # the design's site: kept, not this fleet's
            ("switch_templates", "store-access", "design:default", True)]
        assert "kept: 1 object(s) design 'default' owns are not in this fleet (site Branch-NYC-001)" in plan.stdout

        before = _non_get_calls(twin)
        refused = _cli(env, tmp_path, "apply", "fleet.yaml", "--yes")
        assert refused.returncode == 2 and CONFLICT in refused.stderr, refused.stdout + refused.stderr
        assert _non_get_calls(twin) == before  # nothing written: not the template, not the fleet's site
        assert _desk(twin, org_id) == DESIGN_DESK
        assert "Store-East-001" not in {s["name"] for s in twin.get(f"/api/v1/orgs/{org_id}/sites").json()}

        taken = _cli(env, tmp_path, "apply", "fleet.yaml", "--yes", "--take-ownership")
        assert taken.returncode == 0, taken.stdout + taken.stderr
        assert "--take-ownership given, this run changes it and takes it over" in taken.stdout
        assert _desk(twin, org_id) == FLEET_DESK
        owners = _owners(env, tmp_path)
        assert owners[("switch_templates", "store-access")] == "fleet:branch-east"
        assert owners[("wlan_templates", "store-wifi")] == "design:default"  # unchanged: still the design's

        rerun = _cli(env, tmp_path, "plan", "fleet.yaml", "--detailed-exitcode")
        assert rerun.returncode == 0 and "conflict" not in rerun.stdout, rerun.stdout  # same owner: none
        status = _cli(env, tmp_path, "status")
        assert "org objects by owner" in status.stdout and "fleet 'branch-east'" in status.stdout, status.stdout

        with running_service(env, tmp_path) as (url, _log), httpx.Client(base_url=url, timeout=60) as api:
            before = _non_get_calls(twin)
            blocked = _deploy(api, org_id, "Branch-NYC-002", 6)
            assert blocked["status"] == "failed", blocked
            assert "switch template store-access is owned by fleet 'branch-east'" in blocked["message"]
            assert _non_get_calls(twin) == before and _desk(twin, org_id) == FLEET_DESK
            drift = api.get("/drift", params={"org_id": org_id}, headers=KEY).json()
            assert drift["owner"] == "design:default"
            desk = [d for d in drift["differences"] if d["key"] == "store-access" and d["what"] == "changed"]
            assert desk and {d["owner"] for d in desk} == {"fleet:branch-east"}, drift["differences"]
            back = _deploy(api, org_id, "Branch-NYC-002", 6, take_ownership=True)
            assert back["status"] == "completed", back
        assert _desk(twin, org_id) == DESIGN_DESK
        assert _owners(env, tmp_path)[("switch_templates", "store-access")] == "design:default"
        drift_cli = _cli(env, tmp_path, "drift", "fleet.yaml", "--json")
        report = json.loads(drift_cli.stdout)
        assert report["owner"] == "fleet:branch-east"
        assert [d["what"] for d in report["differences"] if d["key"] == "store-access"] == ["changed"]
        assert {d["owner"] for d in report["differences"] if d["key"] == "store-access"} == {"design:default"}
        assert [c.split(";")[0] for c in report["owner_conflicts"]] == [
            "switch template store-access is owned by design 'default'"]


def test_plans_and_deployments_over_http_name_the_conflict_and_take_it_with_the_flag(tmp_path: Path) -> None:
    with running_twin(TwinConfig(token=TWIN_TOKEN, inventory_count=0), via_cli=True) as (twin_url, org_id, _), \
            httpx.Client(base_url=twin_url, headers={"Authorization": f"Token {TWIN_TOKEN}"}) as twin:
        env = _env(tmp_path, twin_url)
        fleet = _fleet(tmp_path)
        with running_service(env, tmp_path) as (url, _log), httpx.Client(base_url=url, timeout=60) as api:
            assert _deploy(api, org_id, "Branch-NYC-001", 5)["status"] == "completed"
            plan = api.post("/plans", json={"fleet": fleet, "org_id": org_id}, headers=KEY)
            assert plan.status_code == 200, plan.text
            assert plan.json()["owner"] == "fleet:branch-east"
            assert [(p["key"], p["owner"]) for p in plan.json()["problems"] if p["fatal"]] == [
                ("store-access", "design:default")]
            before = _non_get_calls(twin)
            refused = _run(api, {"fleet": fleet, "org_id": org_id})
            assert refused["status"] == "failed" and "owned by design 'default'" in refused["error"], refused
            assert _non_get_calls(twin) == before and _desk(twin, org_id) == DESIGN_DESK
            taken = _run(api, {"fleet": fleet, "org_id": org_id, "take_ownership": True})
            assert taken["status"] == "completed", taken
            assert _desk(twin, org_id) == FLEET_DESK
            again = api.post("/plans", json={"fleet": fleet, "org_id": org_id}, headers=KEY).json()
            assert not [p for p in again["problems"] if p["fatal"]] and again["summary"]["update"] == 0  # same owner
            assert [p["key"] for p in again["problems"]] == ["design:default"]  # the design's site: kept
        assert _owners({**env, "MIST_ORG_ID": org_id}, tmp_path)[("switch_templates", "store-access")] == \
            "fleet:branch-east"


def _run(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    accepted = api.post("/deployments", json=body, headers=KEY)
    assert accepted.status_code == 202, accepted.text
    api.get(accepted.json()["links"]["events"], headers=KEY)  # streams until the run ends
    run: dict[str, Any] = api.get(accepted.json()["links"]["self"], headers=KEY).json()["run"]
    return run
