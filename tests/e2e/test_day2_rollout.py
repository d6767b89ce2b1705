"""Canary firmware rollouts against the twin: a bad version halts after its canary with the rest
untouched, a good one reaches every device, a re-run resumes, a failing upgrade halts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from mistctl.bootstrap import Services
from mistctl.errors import UserError
from mistctl.store.memory import MemoryStore
from mistctl.workflow.rollout import RolloutOptions, run_rollout
from mistctl.workflow.rollout_io import Polling
from tests.support.day2 import SSR, SWITCH, add_site
from tests.support.engine import apply, engine, example_fleet_for
from tests.support.twin import FakeClock, twin_app, twin_client

BAD = "0.15.30108"  # in the twin's AP catalogue (beta)
GOOD = "0.14.29850"  # stable


@dataclass
class Lab:
    app: Any
    clock: FakeClock
    svc: Services
    sites: list[str]

    @property
    def twin(self) -> Any:
        return self.app.state.twin

    def aps(self) -> dict[str, str]:
        """MAC -> version of every AP assigned to a site."""
        return {d["mac"]: d.get("version") for d in self.twin.inventory() if d.get("site_id") and d["type"] == "ap"}

    async def sleep(self, seconds: float) -> None:
        self.clock.advance(seconds)

    async def mark(self, version: str, effect: str) -> None:
        async with twin_client(self.app) as client:
            answer = await client.put(f"/__twin/firmware/{version}", json={"effect": effect, "sle_drop": 0.3})
            assert answer.status_code == 200, answer.text

    async def unmark(self, version: str) -> None:
        async with twin_client(self.app) as client:
            assert (await client.delete(f"/__twin/firmware/{version}")).status_code == 200

    async def roll(self, version: str, **options: Any) -> Any:
        opts = RolloutOptions(version=version, device_type="ap", soak=300, polling=Polling(5, 60, 900),
                              **options)
        return await run_rollout(self.svc.mist, self.svc.store, self.svc.org_id, self.sites, opts,
                                 ledger=self.svc.ledger, sleep=self.sleep)


@asynccontextmanager
async def lab(seed: int, sites: int = 3, per_site: int = 4) -> AsyncIterator[Lab]:
    clock = FakeClock()
    app = twin_app(seed=seed, clock=clock, upgrade_seconds=120)
    fleet = example_fleet_for(app.state.twin, sites=sites, claim_per_site=per_site)
    async with engine(app, store=MemoryStore()) as svc:
        _planned, result = await apply(svc, fleet)
        assert result.ok
        yield Lab(app, clock, svc, [s.name for s in fleet.sites])


async def test_bad_version_halts_after_the_canary_and_leaves_the_rest_untouched() -> None:
    async with lab(41) as the:
        await the.mark(BAD, "degrade")
        before = the.aps()
        report = await the.roll(BAD, rollback=False)
        after = the.aps()
        changed = {m for m in after if after[m] != before[m]}
        assert len(changed) == 1 and after[changed.pop()] == BAD
        assert report.status == "halted" and report.waves_done == 0
        assert "wave 1: SLE gate failed" in (report.reason or "")
        canary = next(d for d in report.devices.values() if d.status == "upgraded")
        assert canary.wave == 1 and canary.target.site in (report.reason or "")
        untouched = [d for d in report.devices.values() if d.status == "untouched"]
        assert len(untouched) == len(before) - 1 - report.count("already")
        state = await the.svc.store.get_site_state(the.svc.org_id, canary.target.site)
        assert state is not None and state.status == "sle_failed" and state.sle
        run = await the.svc.store.get_run(report.run_id or "")
        assert run is not None and run.status == "failed" and "SLE gate" in (run.error or "")

        # a re-run does not push the bad version on: the sites running it fail the resume gate
        again = await the.roll(BAD, rollback=False)
        assert again.status == "halted" and "already running" in (again.reason or "")
        assert the.aps() == after


async def test_good_version_reaches_every_device_in_waves() -> None:
    async with lab(42) as the:
        await the.mark(BAD, "degrade")  # marked, but not the version rolled out
        report = await the.roll(GOOD, waves="1,25%,100%")
        assert report.status == "completed", report.reason
        assert set(the.aps().values()) == {GOOD}
        assert [w.number for w in report.waves] == [1, 2, 3] and len(report.waves[0].targets) == 1
        assert report.count("upgraded") + report.count("already") == len(the.aps())
        steps = [r for r in await the.svc.store.get_steps(the.svc.org_id) if r.kind == "firmware"]
        assert {r.status for r in steps} == {"done"} and {r.applied_hash for r in steps} == {GOOD}
        assert all(g.to_json()["passed"] for g in report.gates)

        # resumable: everything is on the version now, so a re-run upgrades nothing
        calls_before = the.svc.ledger.total
        again = await the.roll(GOOD)
        assert again.status == "completed" and again.count("upgraded") == 0 and again.waves == []
        assert the.svc.ledger.total - calls_before <= len(the.sites) + 3


async def test_a_fixed_version_resumes_from_the_halt_without_upgrading_the_canary_again() -> None:
    async with lab(43) as the:
        await the.mark(BAD, "degrade")
        first = await the.roll(BAD, rollback=False)
        assert first.status == "halted"
        await the.unmark(BAD)  # the vendor fixed the build: the canary site recovers
        second = await the.roll(BAD)
        assert second.status == "completed", second.reason
        assert set(the.aps().values()) == {BAD}
        assert second.count("already") >= 1 and second.count("upgraded") == first.count("untouched")


async def test_a_failing_upgrade_halts_the_wave_and_names_the_device() -> None:
    async with lab(44) as the:
        await the.mark(BAD, "fail")
        before = the.aps()
        report = await the.roll(BAD, by="site")
        assert report.status == "halted" and "not upgraded" in (report.reason or "")
        assert the.aps() == before
        first_site = report.waves[0].sites
        assert report.waves[0].whole_sites == set(first_site) and len(first_site) == 1
        assert the.twin.objects("site_upgrades"), "a whole site in a wave is one site-level upgrade"
        failed = [d for d in report.devices.values() if d.status == "failed"]
        assert failed and all(d.target.site == first_site[0] for d in failed)


async def test_dry_run_writes_nothing_and_unknown_versions_are_refused() -> None:
    async with lab(45, sites=2) as the:
        before = the.aps()
        report = await the.roll(GOOD, dry_run=True)
        assert report.status == "dry-run" and report.waves and report.run_id is None
        assert the.aps() == before and not await the.svc.store.list_runs(limit=5, status="running")
        with pytest.raises(UserError, match="not offered"):
            await the.roll("9.9.9")
        with pytest.raises(UserError, match="exact firmware version"):
            await the.roll("stable")


async def test_a_halted_canary_is_rolled_back_then_a_good_version_reaches_every_device() -> None:
    async with lab(46) as the:
        await the.mark(BAD, "degrade")
        before = the.aps()
        report = await the.roll(BAD)
        assert report.status == "halted" and "SLE gate failed" in (report.reason or "")
        assert the.aps() == before, "the canary is back on the version it ran before"
        canary = next(d for d in report.devices.values() if d.wave == 1)
        assert canary.status == "rolled-back" and canary.after == before[canary.target.mac]
        assert report.rollback is not None and report.rollback["rolled_back"] == 1 and report.rollback["sle_ok"]
        befores = [r for r in await the.svc.store.get_steps(the.svc.org_id, run_id=report.run_id)
                   if r.kind == "firmware_before"]
        assert [(r.key.split(":")[1], r.applied_hash) for r in befores] == [(canary.target.mac,
                                                                             before[canary.target.mac])]
        state = await the.svc.store.get_site_state(the.svc.org_id, canary.target.site)
        assert state is not None and state.status == "done", "the site recovered after the rollback"

        good = await the.roll(GOOD)
        assert good.status == "completed", good.reason
        assert set(the.aps().values()) == {GOOD}


async def test_the_previous_version_may_go_where_mistctl_s_own_canary_degraded_the_site() -> None:
    async with lab(47, sites=2) as the:
        await the.mark(BAD, "degrade")
        halted = await the.roll(BAD, rollback=False)  # the canary stays on the bad version
        canary = next(d for d in halted.devices.values() if d.status == "upgraded")
        old = canary.target.version or ""
        remedy = await the.roll(old, waves="100%")  # the README's remedy: roll the previous version out
        assert remedy.status == "completed", remedy.reason
        assert the.aps()[canary.target.mac] == old, "the remedy reached the canary"
        assert any("because of devices mistctl upgraded" in n for n in remedy.notes), remedy.notes


async def test_a_site_degraded_by_something_else_is_skipped_and_named() -> None:
    async with lab(49, sites=2) as the:
        victim = the.sites[0]
        site_ids = {s["name"]: s["id"] for s in the.twin.objects("sites")}
        async with twin_client(the.app) as client:
            await client.put(f"/__twin/sle/{site_ids[victim]}", json={"coverage": 0.5})
        before = the.aps()
        report = await the.roll(GOOD, waves="100%")
        skipped = [d for d in report.devices.values() if d.status == "skipped"]
        assert skipped and {d.target.site for d in skipped} == {victim}
        assert all(the.aps()[d.target.mac] == before[d.target.mac] for d in skipped)
        assert report.count("upgraded") == len(before) - len(skipped) - report.count("already")
        assert report.status == "incomplete" and victim in (report.reason or "")
        assert "outside this rollout" in (report.reason or "")


async def test_upgrade_rollback_run_puts_every_device_back() -> None:
    async with lab(48, sites=2, per_site=3) as the:
        before = the.aps()
        done = await the.roll(GOOD, waves="1,100%")
        assert done.status == "completed" and set(the.aps().values()) == {GOOD}
        back = await the.roll("", rollback_of=done.run_id, waves="1,100%")
        assert back.status == "completed", back.reason
        assert the.aps() == before and back.rollback_of == done.run_id
        assert back.count("upgraded") == done.count("upgraded")
        with pytest.raises(UserError, match="no rollout"):
            await the.roll("", rollback_of="no-such-run")
        with pytest.raises(UserError, match="leave out --version"):
            await the.roll(GOOD, rollback_of=done.run_id)


async def test_ssr_gateways_roll_out_through_their_own_upgrade_and_switches_with_reboot() -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0, upgrade_seconds=60)

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    async with engine(app, store=MemoryStore()) as svc:
        async with twin_client(app) as client:
            await add_site(client, svc.org_id, "Albi", [SSR, SWITCH, SWITCH], tag=9)
        opts = RolloutOptions(version="6.3.0-107.r1", device_type="gateway", soak=600, polling=Polling(5, 60, 900))
        report = await run_rollout(svc.mist, svc.store, svc.org_id, ["Albi"], opts, ledger=svc.ledger, sleep=sleep)
        assert report.status == "completed", report.reason
        switches = RolloutOptions(version="23.4R2-S4.11", device_type="switch", soak=600, waves="100%",
                                  polling=Polling(5, 60, 900))
        assert (await run_rollout(svc.mist, svc.store, svc.org_id, ["Albi"], switches, ledger=svc.ledger,
                                  sleep=sleep)).status == "completed"
        versions = {d["model"]: d["version"] for d in app.state.twin.inventory()}
        assert versions == {"SSR120": "6.3.0-107.r1", "EX4100-F-12P": "23.4R2-S4.11"}
        routes = app.state.twin.counters.snapshot()["by_route"]
        assert routes.get("POST /api/v1/sites/{site_id}/ssr/{device_id}/upgrade") == 1
        audit = await svc.store.list_audit(limit=100)
        assert {e.status for e in audit if e.kind == "firmware"} >= {0, 200}  # write-ahead, then the answer
