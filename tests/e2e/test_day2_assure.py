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
from mistctl.workflow.assure import assess, gate_after_soak
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
        assert only_wan.ok and only_wan.calls == 2
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
    assert "Waves to 0.14.29850" in out and "Devices" not in out
    code, out = run("status")
    assert "upgrade" not in out
    code, out = run("upgrade", "two.yaml", "--version", "0.14.29850", "--waves", "1,lots")
    assert code == 2 and "lots" in out
    code, out = run("upgrade", "two.yaml", "--version", "0.14.29850", "--soak", "forever")
    assert code == 2 and "--soak" in out
