"""SLE assurance against the twin: a degraded site fails the gate (recorded), healthy ones pass, with
one org-wide call per SLE family; the CLI's assure, apply --assure and upgrade --dry-run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from mistctl.bootstrap import open_services
from mistctl.errors import UserError
from mistctl.store.memory import MemoryStore
from mistctl.workflow.assure import assess, failure_summary, gate_after_soak
from tests.e2e.cli_support import cut_example_fleet, run
from tests.support.engine import apply, engine, example_fleet_for
from tests.support.twin import twin_app, twin_client


async def _degrade(app: Any, site_id: str, values: dict[str, float]) -> None:
    async with twin_client(app) as client:
        answer = await client.put(f"/__twin/sle/{site_id}", json=values)
        assert answer.status_code == 200, answer.text


def _site_ids(twin: Any) -> dict[str, str]:
    return {s["name"]: s["id"] for s in twin.objects("sites")}


async def test_a_degraded_site_fails_the_gate_and_is_recorded() -> None:
    app = twin_app(seed=51)
    fleet = example_fleet_for(app.state.twin, sites=3, claim_per_site=6)
    async with engine(app, store=MemoryStore()) as svc:
        await apply(svc, fleet)
        names = [s.name for s in fleet.sites]
        victim = names[1]
        await _degrade(app, _site_ids(app.state.twin)[victim], {"coverage": 0.62, "ap-health": 0.7})
        before = svc.ledger.total
        report = await assess(svc.mist, svc.store, svc.org_id, names)
        assert svc.ledger.total - before == 4  # the site list and one insights call per family
        assert [s.name for s in report.failed] == [victim]
        assert report.failed[0].failing == {"coverage": 0.62, "ap-health": 0.7}
        state = await svc.store.get_site_state(svc.org_id, victim)
        assert state is not None and state.status == "sle_failed"
        assert state.sle is not None and state.sle["coverage"] == 0.62 and "coverage 0.62" in (state.error or "")
        healthy = await svc.store.get_site_state(svc.org_id, names[0])
        assert healthy is not None and healthy.status == "done" and healthy.sle

        async with twin_client(app) as client:
            await client.delete(f"/__twin/sle/{_site_ids(app.state.twin)[victim]}")
        recovered = await assess(svc.mist, svc.store, svc.org_id, [victim], detail=[victim])
        assert recovered.ok and recovered.sites[0].detail["coverage"]["value"] is not None
        state = await svc.store.get_site_state(svc.org_id, victim)
        assert state is not None and state.status == "done" and state.error is None


async def test_metrics_filter_threshold_and_missing_sites() -> None:
    app = twin_app(seed=52)
    fleet = example_fleet_for(app.state.twin, sites=2, claim_per_site=6)
    async with engine(app, store=MemoryStore()) as svc:
        await apply(svc, fleet)
        names = [s.name for s in fleet.sites]
        await _degrade(app, _site_ids(app.state.twin)[names[0]], {"coverage": 0.5})
        only_wan = await assess(svc.mist, svc.store, svc.org_id, names, metrics=["gateway-health"])
        assert not only_wan.failed and only_wan.calls == 2  # a site without gateways has no WAN data
        strict = await assess(svc.mist, svc.store, svc.org_id, names, threshold=0.999)
        assert {s.name for s in strict.failed} == set(names)
        missing = await assess(svc.mist, svc.store, svc.org_id, [*names, "Store-NOPE-1"])
        assert [s.name for s in missing.failed] == [names[0], "Store-NOPE-1"]
        with pytest.raises(UserError, match="unknown SLE metric 'vibes'"):
            await assess(svc.mist, svc.store, svc.org_id, names, metrics=["vibes"])
        with pytest.raises(UserError, match="threshold"):
            await assess(svc.mist, svc.store, svc.org_id, names, threshold=1.5)


async def test_gate_after_soak_waits_then_checks_the_soak_window() -> None:
    app = twin_app(seed=53)
    fleet = example_fleet_for(app.state.twin, sites=2, claim_per_site=6)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with engine(app, store=MemoryStore()) as svc:
        await apply(svc, fleet)
        ids = _site_ids(app.state.twin)
        await _degrade(app, ids[fleet.sites[0].name], {"switch-health": 0.4, "gateway-health": 0.3})
        report = await gate_after_soak(svc.mist, svc.store, svc.org_id, ids, soak=300, sleep=sleep)
    assert slept == [300]
    assert [s.name for s in report.failed] == [fleet.sites[0].name]


@pytest.fixture()
def workdir(workdir: Path) -> Path:
    """The e2e working directory (tests/e2e/conftest.py) with two.yaml, the example fleet's first two sites."""
    cut_example_fleet(workdir, "two.yaml", sites=2)
    return workdir


async def _degrade_builtin(name: str) -> None:
    async with open_services() as svc:
        assert svc.target.app is not None
        site_id = next(s["id"] for s in await svc.mist.list_org(svc.org_id, "sites") if s["name"] == name)
        await _degrade(svc.target.app, site_id, {"coverage": 0.55})


def test_cli_apply_assure_then_assure_names_a_degraded_site(workdir: Path) -> None:
    code, out = run("apply", "two.yaml", "--yes", "--assure", "--soak", "0s")
    assert code == 0 and "SLE gate passed for 2 site(s)" in out, out
    code, out = run("assure", "two.yaml")
    assert code == 0, out
    asyncio.run(_degrade_builtin("Store-BOS-002"))
    code, out = run("assure", "two.yaml")
    assert code == 1 and "Store-BOS-002 (coverage 0.55)" in out
    code, out = run("assure", "two.yaml", "--site", "Store-BOS-002", "--json")
    data = json.loads(out[out.index("{"):out.rindex("}") + 1])
    assert code == 1 and data["failed"] == ["Store-BOS-002"] and data["sites"][0]["detail"]
    code, out = run("status", "--site", "Store-BOS-002")
    assert "sle_failed" in out
    code, out = run("assure", "two.yaml", "--site", "Store-NOPE")
    assert code == 2 and "Store-NOPE" in out


def test_cli_upgrade_dry_run_prints_waves_and_writes_nothing(workdir: Path) -> None:
    assert run("apply", "two.yaml", "--yes")[0] == 0
    code, out = run("upgrade", "two.yaml", "--version", "0.14.29850", "--device-type", "ap", "--dry-run",
                    "--waves", "1,100%")
    assert code == 0, out
    assert "Waves to 0.14.29850" in out and "Devices by wave" in out and "AP34" in out  # each wave's devices
    code, out = run("status")
    assert "upgrade" not in out
    code, out = run("upgrade", "two.yaml", "--version", "0.14.29850", "--waves", "1,lots")
    assert code == 2 and "lots" in out
    code, out = run("upgrade", "two.yaml", "--version", "0.14.29850", "--soak", "forever")
    assert code == 2 and "--soak" in out
    code, out = run("upgrade", "two.yaml")
    assert code == 2 and "--version" in out and "--rollback" in out


async def test_a_site_without_sle_data_is_no_data_never_pass() -> None:
    app = twin_app(seed=54)
    fleet = example_fleet_for(app.state.twin, sites=3, claim_per_site=6)
    async with engine(app, store=MemoryStore()) as svc:
        await apply(svc, fleet)
        names = [s.name for s in fleet.sites]
        await _degrade(app, _site_ids(app.state.twin)[names[2]], {"no_data": True})
        report = await assess(svc.mist, svc.store, svc.org_id, names, detail=[names[2]])
        by_name = {s.name: s for s in report.sites}
        assert by_name[names[2]].status == "no-data" and by_name[names[2]].no_data_families == ["wifi", "wired", "wan"]
        assert all(v is None for v in by_name[names[2]].values.values())
        assert all(d["value"] is None for d in by_name[names[2]].detail.values())
        assert by_name[names[0]].status == "pass" and not report.ok
        assert report.passes(allow_no_data=True) and not report.passes()
        assert report.to_json()["no_data"] == [names[2]]
        # one spelling of each metric name in every output: the insights keys, detail included
        assert set(by_name[names[2]].detail) <= set(by_name[names[2]].values)
        assert "switch-health" in by_name[names[2]].detail and "switch_health" not in by_name[names[2]].detail
        # apply --assure's gate: a site without data is not done either
        gate = await gate_after_soak(svc.mist, svc.store, svc.org_id, _site_ids(app.state.twin), soak=0)
        assert not gate.ok and [s.name for s in gate.no_data] == [names[2]]
        assert f"no SLE data yet for {names[2]}" in failure_summary(gate)


def test_cli_assure_exits_non_zero_on_no_data_unless_allowed(workdir: Path) -> None:
    assert run("apply", "two.yaml", "--yes")[0] == 0

    async def no_data() -> None:
        async with open_services() as svc:
            assert svc.target.app is not None
            site_id = next(s["id"] for s in await svc.mist.list_org(svc.org_id, "sites")
                           if s["name"] == "Store-BOS-002")
            await _degrade(svc.target.app, site_id, {"no_data": True})

    asyncio.run(no_data())
    code, out = run("assure", "two.yaml")
    assert code == 1 and "no SLE data yet for Store-BOS-002" in out and "--allow-no-data" in out, out
    code, out = run("assure", "two.yaml", "--allow-no-data", "--json")
    data = json.loads(out[out.index("{"):out.rindex("}") + 1])
    assert code == 0 and data["no_data"] == ["Store-BOS-002"] and data["failed"] == []
    assert {s["name"]: s["status"] for s in data["sites"]}["Store-BOS-002"] == "no-data"
