"""Queued deployments end to end in one process: a real redis-server, arq's real `Worker` (burst mode), the
twin in-process. What the twin holds afterwards is checked object by object; what Redis holds, for secrets.

The job functions are also called directly with an arq-shaped context (`job_try` 2 for a retried job), to
pin down what a retry after a killed worker must do.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from mistctl.api.jobs import site_lock
from mistctl.config import Settings
from mistctl.domain.fleet import Fleet
from mistctl.domain.owners import Ownership, fleet_ownership
from mistctl.scaleout.jobs import deploy, site
from mistctl.scaleout.queue import RunBook, arq_pool, open_queue, queue_deployment, queue_name
from mistctl.scaleout.seal import SealError, seal, unseal
from mistctl.scaleout.worker import WorkerState, create_worker, open_worker_state
from mistctl.store.memory import MemoryStore
from mistctl.store.models import Run
from mistctl.store.redis_store import RedisStore
from mistctl.workflow.delete import DeleteConsent
from mistctl.workflow.deploy import CallLedger, fleet_hash, plan_fleet
from tests.support.engine import assert_twin_matches, example_fleet_for
from tests.support.twin import twin_app

pytestmark = pytest.mark.redis
PASSPHRASES = ("corp-example-passphrase-rotate-me", "scanner-example-pass-01", "labels-example-pass-02")


@dataclass
class Harness:
    app: Any
    state: WorkerState
    redis_url: str
    prefix: str

    @property
    def twin(self) -> Any:
        return self.app.state.twin

    @property
    def store(self) -> RedisStore:
        return self.state.store

    async def submit(self, fleet: Fleet, tokens: list[SecretStr] | None = None, *,
                     queued: bool = True, ownership: Ownership | None = None) -> Run:
        """Record a run and queue it (`queued=False`: only its book, for calling `deploy` by hand)."""
        run = Run(kind="apply", org_id=self.twin.org_id, fleet_hash=fleet_hash(fleet))
        run = await self.store.create_run(run)
        if not queued:
            await RunBook(self.store, run.id).create(fleet, self.state.tokens, saved=None, concurrency=4)
            return run
        async with open_queue(self.store) as queue:
            await queue.submit(run, fleet, tokens or self.state.tokens, concurrency=4, ownership=ownership)
        return run

    async def drain(self, jobs: int = 4) -> None:
        """One worker in burst mode: runs every queued job, then stops."""
        worker = create_worker(self.state, jobs=jobs, burst=True, handle_signals=False)
        try:
            await worker.async_run()
        finally:
            await worker.close()

    @asynccontextmanager
    async def ctx(self, job_id: str, job_try: int = 1) -> AsyncIterator[dict[str, Any]]:
        """An arq job context, as the worker hands one to a job function."""
        pool = arq_pool(self.store)
        try:
            yield {"mistctl": self.state, "redis": pool, "job_id": job_id, "job_try": job_try}
        finally:
            await pool.aclose(close_connection_pool=True)


@pytest.fixture
async def harness(redis_url: str) -> AsyncIterator[Harness]:
    app = twin_app(device_count=40)
    twin = app.state.twin
    prefix = f"w-{uuid4().hex[:10]}:"
    settings = Settings(mist_host="http://twin", mist_apitoken=twin.token, mist_org_id=twin.org_id,
                        mistctl_state=f"{redis_url}?prefix={prefix}")
    async with (app.router.lifespan_context(app),
                open_worker_state(settings, lease=2.0, transport=httpx.ASGITransport(app=app)) as state):
        yield Harness(app, state, redis_url, prefix)


async def test_a_queued_deployment_converges_the_fleet_and_leaves_no_secret_in_redis(harness: Harness):
    fleet = example_fleet_for(harness.twin, sites=6)
    run = await harness.submit(fleet)
    await harness.drain()
    done = await harness.store.get_run(run.id)
    assert done is not None and done.status == "completed", done
    assert (done.counts["sites_total"], done.counts["sites_done"]) == (6, 6)
    assert done.counts["calls"] == harness.twin.counters.snapshot()["total"]
    assert_twin_matches(harness.twin, fleet)
    book = RunBook(harness.store, run.id)
    assert set((await book.workers()).values()) == {harness.state.name}
    assert await harness.store.acquire_lock(site_lock(harness.twin.org_id, fleet.sites[0].name), "next", 1)
    await _assert_no_secret_in_redis(harness)


async def _scan(r: Redis, pattern: str) -> list[bytes]:
    return [k async for k in r.scan_iter(match=pattern, count=1000)]


async def _assert_no_secret_in_redis(harness: Harness, at_least: int = 20) -> None:
    r = Redis.from_url(harness.redis_url)
    try:
        blobs = []
        keys = [k for p in (f"{harness.prefix}*", "arq:*") for k in await _scan(r, p)]
        for key in keys:
            kind = (await r.type(key)).decode()
            if kind == "string":
                blobs.append(await r.get(key) or b"")
            elif kind == "hash":
                blobs.append(json.dumps({k.decode(): v.decode("latin-1") for k, v in
                                         (await r.hgetall(key)).items()}).encode())
            elif kind == "stream":
                blobs.append(repr(await r.xrange(key)).encode())
            elif kind in ("list", "set", "zset"):
                blobs.append(repr(await r.dump(key)).encode())
    finally:
        await r.aclose()
    everything = b"\n".join(blobs)
    assert len(blobs) >= at_least
    for secret in (*PASSPHRASES, harness.twin.token):
        assert secret.encode() not in everything, f"{secret[:6]}... is in Redis"


async def test_a_retried_site_job_updates_the_site_its_first_try_created(harness: Harness):
    """The first try POSTed the site and died before recording it: the retry must not POST a second one."""
    fleet = example_fleet_for(harness.twin, sites=3)
    run = await harness.submit(fleet, queued=False)
    async with harness.ctx(f"deploy:{run.id}") as ctx:
        await deploy(ctx, run.id)
    name = fleet.sites[1].name
    job = await _queued_site_job(harness, run.id, name)
    assert job["action"] == "create"
    harness.twin.store.put("sites", "pre", {"id": "pre", "org_id": harness.twin.org_id, "name": name})
    async with harness.ctx(f"site:{run.id}:{name}", job_try=2) as ctx:
        await site(ctx, run.id, job)
    held = [s for s in harness.twin.objects("sites") if s["name"] == name]
    assert [s["id"] for s in held] == ["pre"]
    assert await RunBook(harness.store, run.id).is_done(name)
    state = await harness.store.get_site_state(harness.twin.org_id, name)
    assert state is not None and (state.status, state.site_id) == ("done", "pre")


async def test_a_site_job_interrupted_too_often_fails_its_site_only(harness: Harness):
    fleet = example_fleet_for(harness.twin, sites=2)
    run = await harness.submit(fleet, queued=False)
    async with harness.ctx(f"deploy:{run.id}") as ctx:
        await deploy(ctx, run.id)
    name = fleet.sites[0].name
    job = await _queued_site_job(harness, run.id, name)
    async with harness.ctx(f"site:{run.id}:{name}", job_try=6) as ctx:
        await site(ctx, run.id, job)
    state = await harness.store.get_site_state(harness.twin.org_id, name)
    assert state is not None and state.status == "failed" and "interrupted 5 times" in (state.error or "")
    alive = await harness.store.get_run(run.id)
    assert alive is not None and alive.status == "running"
    assert [s["name"] for s in harness.twin.objects("sites")] == []


async def test_a_site_job_queued_again_after_it_finished_does_nothing(harness: Harness):
    """Site jobs keep no arq result, so a retried deploy job queues a finished site's job again: it finds its
    site done in the run's book and makes no call; the run ends with every site counted once."""
    fleet = example_fleet_for(harness.twin, sites=3)
    run = await harness.submit(fleet, queued=False)
    async with harness.ctx(f"deploy:{run.id}") as ctx:
        await deploy(ctx, run.id)
    name = fleet.sites[0].name
    job_id = f"site:{run.id}:{name}"
    job = await _queued_site_job(harness, run.id, name)
    async with harness.ctx(job_id) as ctx:
        await site(ctx, run.id, job)
        await ctx["redis"].delete(f"arq:job:{job_id}")  # as arq finishes it (no result kept)
        await ctx["redis"].zrem(queue_name(harness.store), job_id)
    async with harness.ctx(f"deploy:{run.id}", job_try=2) as ctx:  # its worker died after queueing: again
        await deploy(ctx, run.id)
    again = await _queued_site_job(harness, run.id, name)
    assert again["site"] == name
    calls = harness.twin.counters.snapshot()["total"]
    async with harness.ctx(job_id) as ctx:
        await site(ctx, run.id, again)
    assert harness.twin.counters.snapshot()["total"] == calls  # nothing sent for a site done
    await harness.drain()
    done = await harness.store.get_run(run.id)
    assert done is not None and done.status == "completed", done
    assert (done.counts["sites_total"], done.counts["sites_done"]) == (3, 3)
    assert [s["name"] for s in harness.twin.objects("sites")].count(name) == 1
    async with harness.ctx("peek") as ctx:  # the worker kept no result of a site job, one of its finish job
        kept = [bool(await ctx["redis"].exists(f"arq:result:{j}"))
                for j in (f"site:{run.id}:{fleet.sites[1].name}", f"finish:{run.id}")]
    assert kept == [False, True]


async def _queued_site_job(harness: Harness, run_id: str, name: str) -> dict[str, Any]:
    async with harness.ctx("peek") as ctx:
        raw = await ctx["redis"].get(f"arq:job:site:{run_id}:{name}")
        ttl = await ctx["redis"].pttl(f"arq:job:site:{run_id}:{name}")
    assert ttl > 2 * 86400 * 1000  # a site waiting for rate windows is not dropped after arq's default day
    args: list[Any] = json.loads(raw)["a"]
    assert args[0] == run_id
    job: dict[str, Any] = args[1]
    return job


async def test_a_retried_deploy_job_does_not_refuse_its_own_first_tries_writes(harness: Harness):
    """The run carries the confirmed plan's identity; the retry sees the org its first try changed."""
    fleet = example_fleet_for(harness.twin, sites=3)
    run = await harness.submit(fleet, queued=False)
    saved = await _plan_identity(harness, fleet)
    await harness.store.r.hset(RunBook(harness.store, run.id).meta, "saved", json.dumps(saved))
    for job_try in (1, 2):  # the first try wrote the org level, then its worker died
        async with harness.ctx(f"deploy:{run.id}", job_try=job_try) as ctx:
            await deploy(ctx, run.id)
    await harness.drain()
    ended = await harness.store.get_run(run.id)
    assert ended is not None and ended.status == "completed", ended
    assert_twin_matches(harness.twin, fleet)


async def _plan_identity(harness: Harness, fleet: Fleet) -> dict[str, Any]:
    ledger = CallLedger()
    planned = await plan_fleet(harness.state.client(ledger), harness.store, fleet, harness.twin.org_id)
    plan = planned.plan
    return {"org_id": plan.org_id, "fleet_hash": plan.fleet_hash, "live_fingerprint": plan.live_fingerprint}


async def test_a_saved_plan_the_org_no_longer_matches_is_refused(harness: Harness):
    fleet = example_fleet_for(harness.twin, sites=2)
    run = await harness.submit(fleet, queued=False)
    saved = await _plan_identity(harness, fleet)
    other = {"id": "x", "org_id": harness.twin.org_id, "name": "someone-else"}
    harness.twin.store.put("sitegroups", "x", other)  # the org changed after the plan was confirmed
    await harness.store.r.hset(RunBook(harness.store, run.id).meta, "saved", json.dumps(saved))
    async with harness.ctx(f"deploy:{run.id}") as ctx:
        await deploy(ctx, run.id)
    ended = await harness.store.get_run(run.id)
    assert ended is not None and ended.status == "failed" and "live org changed" in (ended.error or "")
    assert harness.twin.objects("sites") == []


async def test_a_cancelled_run_skips_the_sites_not_started_and_ends_cancelled(harness: Harness):
    fleet = example_fleet_for(harness.twin, sites=4)
    run = await harness.submit(fleet, queued=False)
    async with harness.ctx(f"deploy:{run.id}") as ctx:
        await deploy(ctx, run.id)  # the org level is done; four site jobs wait in the queue
    await harness.store.request_cancel(run.id)
    await harness.drain()
    ended = await harness.store.get_run(run.id)
    assert ended is not None and ended.status == "cancelled"
    assert ended.counts.get("sites_cancelled") == 4 and not ended.counts.get("sites_done")
    assert harness.twin.objects("sites") == []
    events = [e["type"] for _, e in await harness.store.events_since(run.id)]
    assert events.count("site_cancelled") == 4 and events[-1] == "finished"


async def test_a_worker_with_other_tokens_cannot_open_the_fleet(harness: Harness):
    fleet = example_fleet_for(harness.twin, sites=2)
    run = await harness.submit(fleet, tokens=[SecretStr("another-mist-token-0123456789")])
    await harness.drain()
    ended = await harness.store.get_run(run.id)
    assert ended is not None and ended.status == "failed"
    assert "same MIST_APITOKEN" in (ended.error or "")
    assert harness.twin.counters.snapshot()["total"] == 0  # nothing was read or written


async def test_a_busy_site_fails_the_queued_run_and_names_the_site(harness: Harness):
    fleet = example_fleet_for(harness.twin, sites=2)
    busy = fleet.sites[1].name
    assert await harness.store.acquire_lock(site_lock(harness.twin.org_id, busy), "other-run", 60)
    run = await harness.submit(fleet)
    await harness.drain()
    ended = await harness.store.get_run(run.id)
    assert ended is not None and ended.status == "failed" and busy in (ended.error or "")
    assert harness.twin.objects("sites") == []
    first = site_lock(harness.twin.org_id, fleet.sites[0].name)  # what it had taken is released
    assert await harness.store.acquire_lock(first, "next", 1)


async def test_an_empty_fleet_of_sites_still_finishes(harness: Harness):
    fleet = example_fleet_for(harness.twin, sites=0)
    run = await harness.submit(fleet)
    await harness.drain()
    ended = await harness.store.get_run(run.id)
    assert ended is not None and ended.status == "completed" and ended.counts.get("sites_total", 0) == 0
    assert_twin_matches(harness.twin, fleet)


def test_the_seal_opens_only_with_the_same_tokens_and_run():
    tokens = [SecretStr("token-one-0123456789"), SecretStr("token-two-0123456789")]
    sealed = seal(b"passphrase: hunter2", tokens, "run-1")
    assert b"hunter2" not in sealed.encode()
    assert unseal(sealed, list(reversed(tokens)), "run-1") == b"passphrase: hunter2"
    for other_tokens, run_id in ((tokens[:1], "run-1"), (tokens, "run-2")):
        with pytest.raises(SealError, match="same MIST_APITOKEN"):
            unseal(sealed, other_tokens, run_id)


async def test_the_fleet_comes_back_from_the_book_with_the_same_hash(harness: Harness):
    fleet = example_fleet_for(harness.twin, sites=5)
    run = await harness.submit(fleet)
    back = await RunBook(harness.store, run.id).fleet(harness.state.tokens)
    assert fleet_hash(back) == fleet_hash(fleet)
    await _assert_no_secret_in_redis(harness, at_least=2)  # the queued fleet is there, sealed


async def test_only_a_redis_store_and_the_services_own_tokens_are_queued(harness: Harness):
    fleet = example_fleet_for(harness.twin, sites=1)
    run = Run(kind="apply", org_id=harness.twin.org_id)
    mine = harness.state.tokens
    assert not await queue_deployment(MemoryStore(), run, fleet, mine, mine)
    callers = [SecretStr("a-callers-own-token-0123456789")]
    assert not await queue_deployment(harness.store, run, fleet, callers, mine)
    assert await RunBook(harness.store, run.id).options() == {
        "saved": None, "concurrency": 8, "locks": [], "binds": [], "tokens": "", "checked": False,
        "consent": DeleteConsent(), "ownership": None}  # no consent to delete unless queued with one


async def test_two_runs_of_one_fleet_queued_together_take_turns_and_create_every_object_once(harness: Harness):
    fleet = example_fleet_for(harness.twin, sites=6)
    runs = await asyncio.gather(harness.submit(fleet), harness.submit(fleet))
    await asyncio.gather(harness.drain(), harness.drain())  # two workers
    ended = [await harness.store.get_run(r.id) for r in runs]
    assert [r.status for r in ended if r is not None] == ["completed", "completed"], ended
    assert_twin_matches(harness.twin, fleet)  # every object once
    assert sorted(r.counts.get("writes", 0) for r in ended if r is not None)[0] == 0  # the second found it done
    assert await harness.store.get_lock(f"org:{harness.twin.org_id}") is None


async def test_a_queued_run_records_its_owner_and_refuses_another_owners_object(harness: Harness):
    fleet = example_fleet_for(harness.twin, sites=2)
    await harness.submit(fleet, ownership=fleet_ownership("queued-east"))
    await harness.drain()
    org = harness.twin.org_id
    assert {r.owner for r in (await harness.store.get_objects(org, "switch_templates")).values()} == {
        "fleet:queued-east"}
    assert {r.owner for r in (await harness.store.get_objects(org, "sites")).values()} == {"fleet:queued-east"}
    templates = [dict(t) for t in fleet.org.switch_templates]
    pos = {"mode": "access", "description": "west tills"}
    templates[0] = {**templates[0], "port_usages": {**templates[0]["port_usages"], "pos": pos}}
    other = fleet.model_copy(update={"org": fleet.org.model_copy(update={"switch_templates": templates})})
    before = harness.twin.objects("networktemplates")
    refused = await harness.submit(other, ownership=fleet_ownership("queued-west"))
    await harness.drain()
    ended = await harness.store.get_run(refused.id)
    assert ended is not None and ended.status == "failed" and "owned by fleet 'queued-east'" in str(ended.error)
    assert harness.twin.objects("networktemplates") == before  # nothing written


async def test_a_queued_run_waits_for_the_org_lock_another_process_holds(harness: Harness):
    org_lock = f"org:{harness.twin.org_id}"
    assert await harness.store.acquire_lock(org_lock, "cli-run", 60, holder="mistctl apply by ops on h pid 1")
    fleet = example_fleet_for(harness.twin, sites=2)
    run = await harness.submit(fleet)
    worker = asyncio.create_task(harness.drain())
    await asyncio.sleep(2.0)
    assert harness.twin.objects("sites") == [] and not worker.done()  # it has not read a plan, nor written
    assert (await harness.store.get_lock(org_lock)).owner == "cli-run"
    said = [e for _, e in await harness.store.events_since(run.id) if e["type"] == "waiting_for_lock"]
    assert said == [{"type": "waiting_for_lock", "lock": org_lock, "run_id": "cli-run",
                     "holder": "mistctl apply by ops on h pid 1"}]
    assert await harness.store.release_lock(org_lock, "cli-run")
    await asyncio.wait_for(worker, 120)
    done = await harness.store.get_run(run.id)
    assert done is not None and done.status == "completed", done
    assert_twin_matches(harness.twin, fleet)
