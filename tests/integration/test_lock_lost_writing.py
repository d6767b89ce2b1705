"""A lock an apply loses AFTER it began writing (it lapsed, another run took it): the run sends no more writes
for what that lock covers (the org's: the whole run; a site's: that site), lets calls in flight finish, ends
failed naming the lock and the run that took it (CLI: exit 1, no traceback), and a re-run writes exactly what
was left. The store's clock is driven by hand; the twin's received calls are recorded in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import typer

from mistctl.cli import deploy_cmds
from mistctl.domain import kinds as K
from mistctl.store import StateStore
from mistctl.workflow.runlock import CLI_LOCK_TTL, org_lock, site_lock
from tests.support.engine import example_fleet_for
from tests.support.lock_loss import OTHER, OTHER_HOLDER, LockLoss, Recorder, services_on
from tests.support.twin import FakeClock, twin_app

pytestmark = pytest.mark.timeout(120)
SITES = 5


@dataclass
class Apply:
    """An apply of SITES sites on the twin (its calls recorded) and a clocked store; its lock lost midway."""

    store: StateStore
    twin: Any
    calls: Recorder
    fleet: Any
    loss: LockLoss

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.fleet.sites]

    async def rerun_writes_only(self, left: int) -> None:
        """Apply again: exactly the `left` sites are created, nothing done is written again, none is doubled."""
        done_ids = twin_sites(self.twin)
        since = len(self.calls.calls)
        assert await apply_cli(self.fleet) == 0
        rerun = self.calls.writes(since=since)
        assert site_creates(rerun, self.twin.org_id) == left
        assert not [c for c in rerun if any(sid in c[1] for sid in done_ids.values())]
        assert sorted(twin_sites(self.twin)) == sorted(self.names)

    async def failed_with(self, capsys: pytest.CaptureFixture[str], *texts: str) -> str:
        """Apply (one site at a time): exit 1, each text in its message (no traceback); the run's error."""
        assert await apply_cli(self.fleet) == 1
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        said = " ".join(err.split())  # the console wraps long lines
        (run,) = await self.store.list_runs()
        assert run.status == "failed" and run.error is not None
        for text in (*texts, f"run {OTHER}", OTHER_HOLDER, "lapsed while this run was writing", "apply again"):
            assert text in said and text in run.error
        return run.error


def losing(clocked: tuple[StateStore, FakeClock], monkeypatch: pytest.MonkeyPatch, lock_of: Any) -> Apply:
    store, clock = clocked
    app = twin_app()
    calls = Recorder(app)
    fleet = example_fleet_for(app.state.twin, sites=SITES)
    monkeypatch.setattr(deploy_cmds, "open_services", lambda **kw: services_on(calls, store, **kw))
    loss = LockLoss(monkeypatch, clock, store, calls, lock_of=lambda org: lock_of(org, fleet), after_sites=2,
                    ttl=CLI_LOCK_TTL)
    return Apply(store, app.state.twin, calls, fleet, loss)


async def apply_cli(fleet: Any) -> int:
    """`mistctl apply --yes` one site at a time; its exit code."""
    try:
        return await deploy_cmds._apply(fleet, None, yes=True, concurrency=1, org_id=None, mist_host=None)
    except typer.Exit as exited:
        return int(exited.exit_code)


def site_creates(writes: list[tuple[str, str]], org_id: str) -> int:
    return writes.count(("POST", f"/api/v1/orgs/{org_id}/sites"))


def twin_sites(twin: Any) -> dict[str, str]:
    names = [s["name"] for s in twin.objects(K.SITES.key)]
    assert len(names) == len(set(names)), f"duplicate sites: {names}"
    return {s["name"]: s["id"] for s in twin.objects(K.SITES.key)}


async def test_a_site_lock_lost_while_writing_stops_that_site_and_a_rerun_writes_only_it(clocked, monkeypatch,
                                                                                         capsys):
    a = losing(clocked, monkeypatch, lambda org, fleet: site_lock(org, fleet.sites[3].name))
    lost, org_id = a.names[3], a.twin.org_id

    await a.failed_with(capsys, f"the lock of site '{lost}' of org {org_id}", "4 site(s) done, 1 not done")

    assert a.loss.mark is not None
    after = a.calls.writes(since=a.loss.mark)
    assert site_creates(after, org_id) == 2  # the two sites still to come, not the one whose lock went
    assert sorted(twin_sites(a.twin)) == sorted(n for n in a.names if n != lost)  # never sent to Mist
    state = await a.store.get_site_state(org_id, lost)
    assert state is not None and state.status == "failed" and "not sent: the lock of site" in (state.error or "")
    assert (await a.store.get_lock(site_lock(org_id, lost))).owner == OTHER  # left to the run that took it
    assert await a.store.get_lock(org_lock(org_id)) is None  # ours are released

    assert await a.store.release_lock(site_lock(org_id, lost), OTHER)  # that run ends: apply again
    await a.rerun_writes_only(left=1)


async def test_the_org_lock_lost_while_writing_stops_the_whole_run_and_a_rerun_finishes_it(clocked, monkeypatch,
                                                                                           capsys):
    a = losing(clocked, monkeypatch, lambda org, fleet: org_lock(org))
    org_id = a.twin.org_id

    await a.failed_with(capsys, f"the lock of org {org_id}", "2 site(s) done, 3 not done")

    assert a.loss.mark is not None and a.calls.writes(since=a.loss.mark) == []  # nothing at all after the loss
    assert sorted(twin_sites(a.twin)) == sorted(a.names[:2])
    (run,) = await a.store.list_runs()
    assert run.counts.get("sites_done") == 2 and not run.counts.get("sites_failed")
    for name in a.names[2:]:  # never started: not recorded done
        state = await a.store.get_site_state(org_id, name)
        assert state is None or state.status != "done"

    assert await a.store.release_lock(org_lock(org_id), OTHER)
    await a.rerun_writes_only(left=3)
