"""The Redis clients ride out a restarted redis-server: a command sent while it is down waits (backoff)
and goes through once it is back, on the store and on the arq pool alike; a worker's polling loop that
stops on a lost Redis is started again with backoff; the service answers a request made meanwhile."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from mistctl.scaleout.queue import arq_pool
from mistctl.scaleout.worker import poll_reconnecting
from mistctl.store.factory import open_store
from mistctl.store.models import Run
from mistctl.store.redis_retry import backoff
from mistctl.store.redis_store import RedisStore
from tests.integration.test_api_support import full_stack_body, service
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis
DOWN_S = 1.5


def _restart_later(server: RedisServer, after: float) -> threading.Thread:
    def restart() -> None:
        time.sleep(after)
        server.start()

    thread = threading.Thread(target=restart)
    thread.start()
    return thread


@pytest.mark.parametrize("persist", [True, False], ids=["persistent", "no-persistence"])
async def test_store_and_queue_calls_made_while_redis_is_down_go_through_once_it_is_back(persist: bool) -> None:
    server = RedisServer(persist=persist)
    server.start()
    try:
        async with open_store(f"{server.url}?prefix=rc:") as store:
            assert isinstance(store, RedisStore)
            run = await store.create_run(Run(kind="apply", org_id="o1", fleet_hash="h"))
            server.kill()
            thread = _restart_later(server, DOWN_S)
            started = time.monotonic()
            runs, queued = await asyncio.gather(store.list_runs(), _queue_len(store))
            waited = time.monotonic() - started
            thread.join()
            assert waited >= DOWN_S - 0.2
            assert [r.id for r in runs] == ([run.id] if persist else [])
            assert queued == 0
            again = await store.create_run(Run(kind="apply", org_id="o1", fleet_hash="h2"))
            assert await store.get_run(again.id) is not None
    finally:
        server.stop()


async def _queue_len(store: RedisStore) -> int:
    pool = arq_pool(store)
    try:
        return int(await pool.zcard("rc:queue"))
    finally:
        await pool.aclose(close_connection_pool=True)


class FlakyWorker:
    """An arq worker stand-in whose polling loop stops on a lost Redis `failures` times, then ends."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.runs = 0

    async def async_run(self) -> None:
        self.runs += 1
        if self.runs <= self.failures:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379")


async def test_the_worker_polls_again_with_backoff_after_each_lost_redis() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    worker = FlakyWorker(failures=5)
    await poll_reconnecting(worker, "w1", sleep=sleep, monotonic=lambda: 0.0)  # type: ignore[arg-type]
    assert worker.runs == 6
    assert waits == [backoff(n) for n in range(1, 6)] == [0.2, 0.4, 0.8, 1.6, 3.2]


async def test_the_service_answers_a_request_made_while_redis_restarts() -> None:
    server = RedisServer(persist=True)
    server.start()
    try:
        async with open_store(f"{server.url}?prefix=rs:") as store, service(store=store) as svc:
            accepted = await svc.client.post("/orchestrator/deploy-full-stack", json=full_stack_body(svc),
                                             headers=svc.key)
            assert accepted.status_code == 200 and accepted.json()["status"] == "completed", accepted.text
            server.kill()
            thread = _restart_later(server, DOWN_S)
            started = time.monotonic()
            listed = await svc.client.get("/deployments", headers=svc.key)
            ready = await svc.client.get("/readyz", headers=svc.key)
            waited = time.monotonic() - started
            thread.join()
    finally:
        server.stop()
    assert listed.status_code == 200 and [r["id"] for r in listed.json()] == [
        accepted.headers["X-Mistctl-Run"]], listed.text
    assert ready.status_code == 200, ready.text
    assert waited >= DOWN_S - 0.2
