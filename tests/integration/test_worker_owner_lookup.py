"""A worker asks Mist who owns its token once (``GET /self``, one per token per process), even when the
first jobs of a fresh worker start together: the others wait for that answer instead of each asking."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import httpx
import pytest

from mistctl.config import Settings
from mistctl.scaleout.state import open_worker_state
from mistctl.workflow.deploy import CallLedger
from tests.support.twin import twin_app

pytestmark = pytest.mark.redis


async def test_jobs_started_together_ask_for_the_owner_once(redis_url: str) -> None:
    app = twin_app()
    twin = app.state.twin
    settings = Settings(mist_host="http://twin", mist_apitoken=twin.token, mist_org_id=twin.org_id,
                        mistctl_state=f"{redis_url}?prefix=ol-{uuid4().hex[:8]}:")
    async with (app.router.lifespan_context(app),
                open_worker_state(settings, transport=httpx.ASGITransport(app=app)) as state):
        ledgers = [CallLedger() for _ in range(16)]
        clients = await asyncio.gather(*(state.ready_client(ledger) for ledger in ledgers))
        counts = twin.counters.snapshot()
        assert counts["total"] == 1, counts["by_route"]  # the one GET /self
        assert sum(ledger.total for ledger in ledgers) == 1  # counted in the job that asked
        assert len(state.owners) == 1
        assert all(len(c.token_groups) == 1 for c in clients)
        await clients[5].list_org(str(twin.org_id), "sites")
        assert twin.counters.snapshot()["total"] == 2  # the call itself, no second GET /self
