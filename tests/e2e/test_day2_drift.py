"""Drift against the twin: none on an untouched org; changes behind mistctl's back found and fixed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from mistctl.bootstrap import open_services
from mistctl.store.memory import MemoryStore
from mistctl.workflow.drift import detect_drift, fix_drift
from tests.e2e.cli_support import cut_example_fleet, run
from tests.support.engine import apply, assert_twin_matches, engine, example_fleet_for
from tests.support.twin import twin_app


def _site_id(twin: Any, name: str) -> str:
    return next(s["id"] for s in twin.objects("sites") if s["name"] == name)


async def test_untouched_org_has_no_drift_and_reads_every_site_setting() -> None:
    app = twin_app(seed=21)
    fleet = example_fleet_for(app.state.twin, sites=3)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        await apply(svc, fleet)
    async with engine(app, store=store) as svc:
        report = await detect_drift(svc.mist, svc.store, fleet, svc.org_id)
        settings_gets = svc.mist.calls.total - report.read_calls
    assert report.differences == [] and not report.drifted
    assert report.settings_read == 3  # recorded hashes are not trusted: every site's setting is read
    assert settings_gets == 0  # the reads are all counted in the report


async def test_changes_behind_mistctls_back_are_reported_by_field_and_fixed() -> None:
    app = twin_app(seed=22)
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=3)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        await apply(svc, fleet)
        victim = fleet.sites[1]
        site_id = _site_id(twin, victim.name)
        setting = await svc.mist.get_site_setting(site_id)
        tampered = {**setting["vars"], "store_manager": "Mallory"}
        await svc.mist.update_site_setting(site_id, {"vars": tampered})
        wlan = next(w for w in twin.objects("wlans") if w["ssid"] == "Store-IoT")
        await svc.mist.update_org(svc.org_id, "wlans", wlan["id"], {"hide_ssid": False})
        group = next(g for g in twin.objects("sitegroups"))
        await svc.mist.delete_org(svc.org_id, "sitegroups", group["id"])

    async with engine(app, store=store) as svc:
        report = await detect_drift(svc.mist, svc.store, fleet, svc.org_id)
        found = {(d.kind, d.key, d.field, d.what) for d in report.differences}
        assert ("site_vars", victim.name, "vars.store_manager", "changed") in found
        assert ("wlans", "store-wifi/Store-IoT", "hide_ssid", "changed") in found
        assert ("site_groups", group["name"], "(object)", "missing") in found
        var = next(d for d in report.differences if d.field == "vars.store_manager")
        assert var.live == "Mallory" and var.site == victim.name
        result = await fix_drift(svc.mist, svc.store, report, ledger=svc.ledger)
        assert result.ok, (result.sites_failed, result.org_failed)
        runs = await svc.store.list_runs()
        assert runs[0].kind == "drift-fix" and runs[0].status == "completed"

    assert_twin_matches(twin, fleet)
    async with engine(app, store=store) as svc:
        again = await detect_drift(svc.mist, svc.store, fleet, svc.org_id)
    assert again.differences == []


async def test_secret_differences_are_redacted() -> None:
    app = twin_app(seed=23)
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=1)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        await apply(svc, fleet)
        psk = next(p for p in twin.objects("psks") if p["name"] == "shelf-labels")
        await svc.mist.update_psk(svc.org_id, psk["id"], {"passphrase": "someone-elses-passphrase"})
        report = await detect_drift(svc.mist, svc.store, fleet, svc.org_id)
    diff = next(d for d in report.differences if d.kind == "psks")
    assert diff.field == "passphrase" and diff.live == diff.desired == "<redacted>"
    text = json.dumps(report.to_json())
    assert "someone-elses-passphrase" not in text and "labels-example-pass-02" not in text


def test_cli_drift_exit_codes_and_json(workdir: Path) -> None:
    """`mistctl drift` exits 0 on an untouched org, 3 with drift (JSON on stdout), and 0 after `--fix`."""
    fleet = cut_example_fleet(workdir, "small.yaml", sites=2)
    assert run("apply", fleet, "--yes")[0] == 0
    code, out = run("drift", fleet)
    assert code == 0 and "no drift" in out.lower(), out
    asyncio.run(_delete_a_site_group())
    code, out = run("drift", fleet, "--json")
    assert code == 3, out
    data = json.loads(out[out.index("{"):])
    missing = [d for d in data["differences"] if d["what"] == "missing"]
    assert data["drift"] and [d["kind"] for d in missing] == ["site_groups"]
    code, out = run("drift", fleet)
    assert code == 3 and "site_groups" in out and "missing" in out
    code, out = run("drift", fleet, "--fix", "--yes")
    assert code == 0, out
    code, out = run("drift", fleet)
    assert code == 0, out
    code, out = run("status")
    assert "drift-fix" in out


async def _delete_a_site_group() -> None:
    """What a colleague in the Mist UI might do: delete a site group of the built-in twin's org."""
    async with open_services() as svc:
        group = (await svc.mist.list_org(svc.org_id, "sitegroups"))[0]
        await svc.mist.delete_org(svc.org_id, "sitegroups", group["id"])
