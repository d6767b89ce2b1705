"""`mistctl import` end to end over HTTP: orgs built straight through the twin's Mist routes (never by
mistctl), imported to fleets that validate, plan to zero changes, and are adopted by apply with 0 writes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from mist_twin.config import TwinConfig
from mistctl.cli.main import app
from mistctl.domain.fleet import IpPlanSpec
from tests.support.brownfield import OCTET, PLAN, SECRETS, Built, build_org
from tests.support.twin import running_twin

pytestmark = pytest.mark.slow


def _cli(env: dict[str, Any], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _counters(base_url: str) -> dict[str, Any]:
    counters: dict[str, Any] = httpx.get(f"{base_url}/__twin/counters").json()
    return counters


def _writes(before: dict[str, Any], after: dict[str, Any]) -> int:
    return sum(n - before["by_route"].get(r, 0) for r, n in after["by_route"].items() if not r.startswith("GET "))


def _build(base_url: str, org_id: str, token: str, sites: int, irregular: int, plan: IpPlanSpec = PLAN) -> Built:
    async def go() -> Built:
        codes = [d["claim_code"] for d in httpx.get(f"{base_url}/__twin/devices").json() if not d.get("claimed")]
        async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Token {token}"}) as client:
            return await build_org(client, org_id, codes, sites=sites, irregular=irregular, plan=plan)

    return asyncio.run(go())


def _round_trip(base_url: str, org_id: str, token: str, workdir: Path) -> tuple[dict[str, Any], str]:
    """import, validate, plan (no change), apply (0 writes, adopted); the fleet data and import's output."""
    env: dict[str, Any] = {"MIST_HOST": base_url, "MIST_APITOKEN": token, "MIST_ORG_ID": org_id,
                           "MISTCTL_STATE": None, **dict.fromkeys(SECRETS)}
    before = _counters(base_url)
    code, out = _cli(env, "import", "--out", "fleet.yaml")
    after = _counters(base_url)
    assert code == 0, out
    assert _writes(before, after) == 0
    assert f"with {after['total'] - before['total']} API calls" in out
    text = (workdir / "fleet.yaml").read_text()
    for secret in SECRETS.values():
        assert secret not in text and secret not in out
    for name in SECRETS:
        assert f"export {name}=..." in out and f"${{{name}}}" in text
    code, out_v = _cli(env, "validate", "fleet.yaml")
    assert code == 2 and "2 problems" in out_v and out_v.count("which is not set: export") == 2
    env.update(SECRETS)
    code, out_v = _cli(env, "validate", "fleet.yaml")
    assert code == 0, out_v
    code, out_p = _cli(env, "plan", "fleet.yaml", "--json")
    assert code == 0, out_p
    plan = json.loads(out_p[out_p.index("{"):])
    assert [c for c in plan["changes"] if c["action"] != "noop"] == []
    before = _counters(base_url)
    code, out_a = _cli(env, "apply", "fleet.yaml", "--yes")
    assert code == 0, out_a
    assert _writes(before, _counters(base_url)) == 0
    assert "No changes" in out_a and "adopted" in out_a
    # adopted: the sites' variables are recorded, so the next plan reads the lists only (no GET per site)
    code, out_p = _cli(env, "plan", "fleet.yaml", "--json")
    plan = json.loads(out_p[out_p.index("{"):])
    assert [c for c in plan["changes"] if c["action"] != "noop"] == [] and plan["read_calls"] <= 14
    code, out_s = _cli(env, "status")
    assert code == 0 and "adopt" in out_s
    return yaml.safe_load(text), out


def test_a_regular_org_imports_with_its_plan_and_round_trips(workdir: Path) -> None:
    with running_twin(TwinConfig(device_count=40)) as (base_url, org_id, token):
        built = _build(base_url, org_id, token, sites=20, irregular=3)
        data, out = _round_trip(base_url, org_id, token, workdir)
    assert data["ip_plan"]["scheme"] == "hierarchical" and data["ip_plan"]["supernet"] == "10.0.0.0/8"
    assert [s["name"] for s in data["ip_plan"]["segments"]] == ["mgmt", "data", "voice"]
    assert data["zones"] == [{"id": 1, "name": "us-east"}, {"id": 2, "name": "us-west"}]
    sites = {s["name"]: s for s in data["sites"]}
    for name in built.regular:
        assert "zone" in sites[name] and set(sites[name]["vars"]) == {"store_manager"}
    for name in built.irregular:
        assert "zone" not in sites[name] and sites[name]["vars"]["mgmt_subnet"].startswith("192.168.")
        assert f"  - {name}: " in out
    assert "3 sites fit no IP plan" in out and "17 of 20 sites fit it" in out
    assert "read lists: 14/14" in out and "read settings: 20/20" in out  # progress
    assert sites["Store-0003"]["zone"] == 1 and sites["Store-0003"]["number"] == 2
    assert data["site_defaults"] == {"country_code": "US", "timezone": "America/New_York", "gateway_template": "spoke",
                                     "switch_template": "access", "rf_template": "rf", "site_groups": ["stores"]}
    assert "gateway_template" not in sites["Store-0001"]
    macs = {d["mac"]: name for name, s in sites.items() for d in s.get("devices", [])}
    assert macs == built.devices
    wlan = data["org"]["wlans"][0]
    assert wlan["template"] == "store-wifi" and "template_id" not in wlan and "enabled" not in wlan
    assert data["org"]["wlan_templates"] == [{"name": "store-wifi", "applies_to": {"site_groups": ["stores"]}}]
    assert data["org"]["wlan_policies"][0]["src_wxtags"] == ["scanners"]
    assert data["ip_plan"]["reserved"] == []  # the dc network's 172.20.0.0/16 is outside the plan


def test_an_irregular_org_imports_planless_and_round_trips(workdir: Path) -> None:
    with running_twin(TwinConfig(device_count=20)) as (base_url, org_id, token):
        _build(base_url, org_id, token, sites=6, irregular=6)
        data, out = _round_trip(base_url, org_id, token, workdir)
    assert "ip_plan" not in data and "zones" not in data
    assert all("zone" not in s and "mgmt_subnet" in s["vars"] for s in data["sites"])
    assert "6 sites fit no IP plan" in out


def test_an_octet_org_imports_with_its_plan_and_round_trips(workdir: Path) -> None:
    with running_twin(TwinConfig(device_count=20)) as (base_url, org_id, token):
        built = _build(base_url, org_id, token, sites=8, irregular=1, plan=OCTET)
        data, out = _round_trip(base_url, org_id, token, workdir)
    assert data["ip_plan"]["scheme"] == "octet"
    assert [s["octet_offset"] for s in data["ip_plan"]["segments"]] == [0, 100, 150]
    sites = {s["name"]: s for s in data["sites"]}
    assert (sites["Store-0004"]["zone"], sites["Store-0004"]["number"]) == (2, 2)
    assert "zone" not in sites[built.irregular[0]] and "7 of 8 sites fit it" in out
