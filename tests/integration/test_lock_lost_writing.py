"""A lock an apply loses AFTER it began writing (it lapsed, another run took it): the run sends no more writes
for what that lock covers (the org's: the whole run; a site's: that site), lets calls in flight finish, ends
failed naming the lock and the run that took it (CLI: exit 1, no traceback), and a re-run writes exactly what
was left. The store's clock is driven by hand; the twin's received calls are recorded in order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import typer

from mistctl.bootstrap import open_services
from mistctl.cli import deploy_cmds
from mistctl.config import Settings
from mistctl.domain import kinds as K
from mistctl.store import MemoryStore, SqliteStore, StateStore
from mistctl.workflow.runlock import CLI_LOCK_TTL, org_lock, site_lock
from tests.support.engine import example_fleet_for
from tests.support.lock_loss import OTHER, OTHER_HOLDER, LockLoss, Recorder
from tests.support.twin import FakeClock, twin_app

pytestmark = pytest.mark.timeout(120)
SITES = 5


@pytest.fixture(params=["memory", "sqlite"])
async def clocked(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[tuple[StateStore, FakeClock]]:
    clock = FakeClock()
    store: StateStore = MemoryStore(clock=clock) if request.param == "memory" else SqliteStore(
        tmp_path / "state.db", clock=clock)
    async with store:
        yield store, clock


@asynccontextmanager
async def services_on(recorder: Recorder, store: StateStore, **kwargs: Any) -> AsyncIterator[Any]:
    twin = recorder.state.twin
    conf = Settings(mist_host="http://twin", mist_apitoken=twin.token, mist_org_id=twin.org_id,
                    mistctl_state="memory://")
    async with open_services(settings=conf, transport=httpx.ASGITransport(app=recorder), store=store,
                             concurrency=kwargs.get("concurrency")) as svc:
        yield svc


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
    store, clock = clocked
    app = twin_app()
    twin, calls = app.state.twin, Recorder(app)
    fleet = example_fleet_for(twin, sites=SITES)
    names = [s.name for s in fleet.sites]
    lost = names[3]
    monkeypatch.setattr(deploy_cmds, "open_services", lambda **kw: services_on(calls, store, **kw))
    loss = LockLoss(monkeypatch, clock, store, calls, lock_of=lambda org: site_lock(org, lost), after_sites=2,
                    ttl=CLI_LOCK_TTL)

    assert await apply_cli(fleet) == 1

    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    err = " ".join(err.split())  # the console wraps long lines
    assert f"the lock of site '{lost}' of org {twin.org_id} lapsed while this run was writing" in err
    assert f"run {OTHER}" in err and "4 site(s) done, 1 not done" in err and "apply again" in err
    assert loss.mark is not None
    after = calls.writes(since=loss.mark)
    assert site_creates(after, twin.org_id) == 2  # the two sites still to come, not the one whose lock went
    assert sorted(twin_sites(twin)) == sorted(n for n in names if n != lost)  # never sent to Mist
    (run,) = await store.list_runs()
    assert run.status == "failed" and f"the lock of site '{lost}'" in (run.error or "") and OTHER in run.error
    state = await store.get_site_state(twin.org_id, lost)
    assert state is not None and state.status == "failed" and "not sent: the lock of site" in (state.error or "")
    assert (await store.get_lock(site_lock(twin.org_id, lost))).owner == OTHER  # left to the run that took it
    assert await store.get_lock(org_lock(twin.org_id)) is None  # ours are released

    assert await store.release_lock(site_lock(twin.org_id, lost), OTHER)  # that run ends: apply again
    done_ids = twin_sites(twin)
    rerun_from = len(calls.calls)
    assert await apply_cli(fleet) == 0
    rerun = calls.writes(since=rerun_from)
    assert site_creates(rerun, twin.org_id) == 1  # exactly the site left, once
    assert not [c for c in rerun if any(sid in c[1] for sid in done_ids.values())]  # nothing done is rewritten
    assert sorted(twin_sites(twin)) == sorted(names)


async def test_the_org_lock_lost_while_writing_stops_the_whole_run_and_a_rerun_finishes_it(clocked, monkeypatch,
                                                                                           capsys):
    store, clock = clocked
    app = twin_app()
    twin, calls = app.state.twin, Recorder(app)
    fleet = example_fleet_for(twin, sites=SITES)
    names = [s.name for s in fleet.sites]
    monkeypatch.setattr(deploy_cmds, "open_services", lambda **kw: services_on(calls, store, **kw))
    loss = LockLoss(monkeypatch, clock, store, calls, lock_of=org_lock, after_sites=2, ttl=CLI_LOCK_TTL)

    assert await apply_cli(fleet) == 1

    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    err = " ".join(err.split())  # the console wraps long lines
    assert f"the lock of org {twin.org_id} lapsed while this run was writing" in err and f"run {OTHER}" in err
    assert OTHER_HOLDER in err and "2 site(s) done, 3 not done" in err
    assert loss.mark is not None and calls.writes(since=loss.mark) == []  # nothing at all after the loss
    assert sorted(twin_sites(twin)) == sorted(names[:2])
    (run,) = await store.list_runs()
    assert run.status == "failed" and f"the lock of org {twin.org_id}" in (run.error or "")
    assert "2 site(s) done, 3 not done" in (run.error or "")
    assert run.counts.get("sites_done") == 2 and not run.counts.get("sites_failed")
    for name in names[2:]:  # never started: not recorded done
        state = await store.get_site_state(twin.org_id, name)
        assert state is None or state.status != "done"

    assert await store.release_lock(org_lock(twin.org_id), OTHER)
    done_ids = twin_sites(twin)
    rerun_from = len(calls.calls)
    assert await apply_cli(fleet) == 0
    rerun = calls.writes(since=rerun_from)
    assert site_creates(rerun, twin.org_id) == 3
    assert not [c for c in rerun if any(sid in c[1] for sid in done_ids.values())]
    assert sorted(twin_sites(twin)) == sorted(names)
