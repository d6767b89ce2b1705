"""`POST /plans` and `POST /deployments` take the fleet file as it is (`application/yaml`), as multipart with
the CSV files it names, or as JSON with `files`; a CSV the fleet names but the request lacks is a 422 naming
it (never a read of the service's disk), another content type a 415."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import yaml

from tests.integration.test_api_support import Harness, service

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FLEET = (EXAMPLES / "fleet.yaml").read_text()
SITES_CSV = (EXAMPLES / "sites.csv").read_text()
CSV_SITES = {row["#name"] for row in csv.DictReader(io.StringIO(SITES_CSV))}
YAML = {"content-type": "application/yaml"}


def _sites_in(plan: dict[str, Any]) -> set[str]:
    return {c["key"] for c in plan["changes"] if c.get("kind") == "sites"}


def _multipart(fleet: str = FLEET, csv_text: str = SITES_CSV) -> dict[str, Any]:
    return {"fleet": ("fleet.yaml", fleet.encode(), "application/yaml"),
            "files": ("sites.csv", csv_text.encode(), "text/csv")}


async def test_a_plan_of_the_fleet_file_as_it_is_with_its_csv_in_each_form() -> None:
    async with service() as svc:
        alone = await svc.client.post(f"/plans?org_id={svc.org_id}", content=FLEET, headers={**svc.key, **YAML})
        parts = await svc.client.post("/plans", files=_multipart(), data={"org_id": svc.org_id}, headers=svc.key)
        as_json = await svc.client.post("/plans", json={"fleet": FLEET, "files": {"sites.csv": SITES_CSV},
                                                        "org_id": svc.org_id}, headers=svc.key)
        writes = svc.writes()
    assert alone.status_code == 422, alone.text
    assert "'sites.csv'" in alone.json()["detail"] and "was not sent with the fleet" in alone.json()["detail"]
    assert parts.status_code == 200 and as_json.status_code == 200, parts.text + as_json.text
    assert len(CSV_SITES) == 15 and CSV_SITES <= _sites_in(parts.json())
    assert parts.json()["fleet_hash"] == as_json.json()["fleet_hash"]
    assert _sites_in(parts.json()) == _sites_in(as_json.json())
    assert writes == {}


async def test_the_yaml_body_alone_plans_a_fleet_without_csv() -> None:
    data = yaml.safe_load(FLEET)
    data["sites"] = [s for s in data["sites"] if "csv" not in s]
    async with service() as svc:
        answer = await svc.client.post(f"/plans?org_id={svc.org_id}", content=yaml.safe_dump(data),
                                       headers={**svc.key, **YAML})
    assert answer.status_code == 200, answer.text
    assert _sites_in(answer.json()) == {s["name"] for s in data["sites"]}


async def test_a_multipart_deployment_creates_the_csv_sites_in_mist(tmp_path: Path) -> None:
    async with service() as svc:
        accepted = await svc.client.post("/deployments", files=_multipart(),
                                         data={"org_id": svc.org_id, "concurrency": "4"}, headers=svc.key)
        assert accepted.status_code == 202, accepted.text
        await svc.ctx.deployments.wait(accepted.json()["id"])
        view = (await svc.client.get(f"/deployments/{accepted.json()['id']}", headers=svc.key)).json()
        made = {s["name"] for s in _twin_sites(svc)}
    assert view["run"]["status"] == "completed", view["run"]
    assert CSV_SITES <= made


def _twin_sites(svc: Harness) -> list[dict[str, Any]]:
    return list(svc.twin.objects("sites"))


async def test_bad_fleet_bodies_are_refused_naming_the_fix() -> None:
    async with service() as svc:
        other = await svc.client.post("/plans", content=FLEET, headers={**svc.key, "content-type": "text/plain"})
        not_utf8 = await svc.client.post("/plans", content=b"\xff\xfe\x00bad", headers={**svc.key, **YAML})
        no_fleet = await svc.client.post("/plans", files={"files": ("sites.csv", b"x", "text/csv")},
                                         headers=svc.key)
        bad_concurrency = await svc.client.post("/deployments?concurrency=0", content=FLEET,
                                                headers={**svc.key, **YAML})
        runs = await svc.store.list_runs()
        writes = svc.writes()
    assert other.status_code == 415 and "application/yaml" in other.json()["detail"]
    assert not_utf8.status_code == 422 and "UTF-8" in not_utf8.json()["detail"]
    assert no_fleet.status_code == 422 and "fleet" in no_fleet.text
    assert bad_concurrency.status_code == 422 and "concurrency" in bad_concurrency.text
    assert runs == [] and writes == {}


async def test_drift_reads_the_csv_files_sent_with_the_fleet() -> None:
    async with service() as svc:
        without = await svc.client.post("/drift", json={"fleet": FLEET, "org_id": svc.org_id}, headers=svc.key)
        with_csv = await svc.client.post("/drift", json={"fleet": FLEET, "files": {"sites.csv": SITES_CSV},
                                                         "org_id": svc.org_id}, headers=svc.key)
    assert without.status_code == 422 and "'sites.csv'" in without.json()["detail"]
    assert with_csv.status_code == 200, with_csv.text
    assert CSV_SITES <= set(with_csv.text.split('"')), "the CSV's sites are part of the drift report"
