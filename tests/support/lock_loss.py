"""Helpers of the lock-loss tests: a recorder of the calls the twin received (in order), and a hook that makes a
run lose one of its locks (its lifetime passes on the store's clock, another run takes it, a beat notices)
once a given number of its sites are done.

    calls = Recorder(twin_app)                      # pass it as the ASGI app of the twin's transport
    loss = LockLoss(monkeypatch, clock, store, lock_of=lambda org: f"site:{org}:Store-3", after_sites=2)
    ...                                              # apply; loss.mark: how many calls the twin had by then
    calls.writes(since=loss.mark)                    # what was sent after the loss
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from mistctl.bootstrap import open_services
from mistctl.config import Settings
from mistctl.store.port import StateStore
from mistctl.workflow import apply
from mistctl.workflow.runlock import RunLease
from tests.support.twin import FakeClock

OTHER = "run-other"
OTHER_HOLDER = "mistctl apply by bob on ci-3 pid 9 since 2026-01-01 00:00:00 UTC"


class Recorder:
    """An ASGI wrapper of the twin recording each API call's method and path as it arrives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state
        self.calls: list[tuple[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            self.calls.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)

    def writes(self, since: int = 0, until: int | None = None) -> list[tuple[str, str]]:
        """The non-GET calls received in [since, until)."""
        return [c for c in self.calls[since:until] if c[0] != "GET"]


class LockLoss:
    """Once `after_sites` site jobs of the run have ended, its lock `lock_of(org_id)` lapses (the store's clock
    moves past the TTL) and another run takes it; the run's next beat is made at once (as its renewal would)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, clock: FakeClock, store: StateStore, recorder: Recorder,
                 *, lock_of: Callable[[str], str], after_sites: int, ttl: float) -> None:
        self.clock, self.store, self.recorder = clock, store, recorder
        self.lock_of, self.after, self.ttl = lock_of, after_sites, ttl
        self.lease: Any = None
        self.mark: int | None = None  # calls the twin had received when the loss was noticed
        self.ended = 0
        attach, run_site_job = RunLease.attach, apply.run_site_job

        async def attaching(lease: RunLease, run: Any) -> None:  # the run's lease, as its run is recorded
            self.lease = lease
            await attach(lease, run)

        async def site_job(mist: Any, records: Any, job: Any) -> Any:
            outcome = await run_site_job(mist, records, job)
            self.ended += 1
            if self.ended == self.after and self.lease is not None:
                await self.lose(records.org_id)
            return outcome

        monkeypatch.setattr(RunLease, "attach", attaching)
        monkeypatch.setattr(apply, "run_site_job", site_job)

    async def lose(self, org_id: str) -> None:
        self.clock.advance(self.ttl + 1)
        assert await self.store.acquire_lock(self.lock_of(org_id), OTHER, self.ttl, holder=OTHER_HOLDER)
        await self.lease.beat()
        self.mark = len(self.recorder.calls)


@asynccontextmanager
async def services_on(app: Any, store: StateStore, **kwargs: Any) -> AsyncIterator[Any]:
    """The CLI's services on a twin app in-process (or a `Recorder` of it) and the given store."""
    twin = app.state.twin
    conf = Settings(mist_host="http://twin", mist_apitoken=twin.token, mist_org_id=twin.org_id,
                    mistctl_state="memory://")
    async with open_services(settings=conf, transport=httpx.ASGITransport(app=app), store=store,
                             concurrency=kwargs.get("concurrency")) as svc:
        yield svc
