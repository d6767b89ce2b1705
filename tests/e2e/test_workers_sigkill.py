"""Two `mistctl worker` processes share a deployment; one is killed with SIGKILL in the middle of its site
jobs. The other retries them (after their lease expires) and the run ends complete, with every intended
object exactly once in the twin.

Real processes throughout: the twin served over HTTP, redis-server, `mistctl apply --queue --detach`, the
workers. Worker A runs alone first; it is frozen (SIGSTOP) at a moment when it holds site jobs in progress,
so the kill lands mid-site for certain, then killed; worker B starts and finishes the run.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path
from uuid import uuid4

import pytest
import redis

from mist_twin.config import TwinConfig
from mistctl.fleetio import load_fleet
from mistctl.scaleout.queue import RunBook
from mistctl.store.factory import open_store
from mistctl.store.models import Run
from tests.support.engine import assert_twin_matches
from tests.support.twin import running_twin
from tests.support.workers import (
    DumpedTwin,
    claim_codes,
    fleet_data,
    mistctl_env,
    run_cli,
    running_worker,
    write_fleet,
)

pytestmark = pytest.mark.redis
SITES = 24
WORKER = ("--concurrency", "3", "--lease", "1.5")


async def _run_and_workers(state_url: str, run_id: str) -> tuple[Run | None, dict[str, str]]:
    async with open_store(state_url) as store:
        return await store.get_run(run_id), await RunBook(store, run_id).workers()  # type: ignore[arg-type]


def _wait_run(state_url: str, run_id: str, timeout: float) -> tuple[Run, dict[str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        run, workers = asyncio.run(_run_and_workers(state_url, run_id))
        assert run is not None
        if run.is_terminal or time.monotonic() > deadline:
            return run, workers
        time.sleep(0.3)


def _freeze_mid_site(pid: int, r: redis.Redis, prefix: str, run_id: str) -> list[str]:
    """SIGSTOP the worker once it has done a few sites and is in the middle of others; those sites."""
    done_key = f"{prefix}qrun:{run_id}:done"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if r.scard(done_key) >= 4:
            os.kill(pid, signal.SIGSTOP)
            started = {k.decode().rsplit(":", 1)[1] for k in r.scan_iter(f"arq:in-progress:site:{run_id}:*")}
            flying = sorted(started - {m.decode() for m in r.smembers(done_key)})  # started, not finished
            if flying:
                return flying
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.005)
    raise AssertionError("worker A never held a site job in progress")


def test_a_worker_killed_mid_site_leaves_jobs_another_worker_converges(tmp_path: Path, redis_url: str):
    prefix = f"k-{uuid4().hex[:8]}:"
    state_url = f"{redis_url}?prefix={prefix}"
    config = TwinConfig(latency_ms=30, jitter_ms=10, device_count=SITES + 5, seed=4)
    with running_twin(config) as (url, org_id, token), redis.Redis.from_url(redis_url) as r:
        env = mistctl_env(url, token, org_id, state_url)
        fleet_path = write_fleet(tmp_path / "fleet.yaml", fleet_data(SITES, claim_codes(url, SITES)))
        with running_worker(env, tmp_path, *WORKER, label="a") as a:
            queued = run_cli(env, tmp_path, "apply", "fleet.yaml", "--yes", "--queue", "--detach")
            assert queued.returncode == 0, queued.stdout + queued.stderr
            found = re.search(r"run ([0-9a-f]{32}): queued", queued.stdout)
            assert found, queued.stdout
            run_id = found.group(1)
            in_flight = _freeze_mid_site(a.proc.pid, r, prefix, run_id)
            a.proc.send_signal(signal.SIGKILL)
            assert a.proc.wait(timeout=10) == -signal.SIGKILL
        with running_worker(env, tmp_path, *WORKER, label="b") as b:
            run, workers = _wait_run(state_url, run_id, timeout=120)
        assert run.status == "completed", (run.status, run.error, b.log.read_text()[-3000:])
        assert run.counts["sites_done"] == SITES and not run.counts.get("sites_failed")
        twin = DumpedTwin(url)
        final = run_cli(env, tmp_path, "plan", "fleet.yaml", "--json")
    assert set(workers) == {f"W-{i:05d}" for i in range(SITES)}
    assert {a.name, b.name} == set(workers.values())  # both workers did site jobs
    retried = b.log.read_text()
    for name in in_flight:  # A held these when it froze: B ran them (again) and finished them
        # try=1 when A was frozen after arq leased the job but before it counted the try, else try=2
        assert re.search(rf"site:{run_id}:{name}:site\(.*try=[12]", retried), name
        assert workers[name] == b.name, name
    assert_twin_matches(twin, load_fleet(fleet_path))  # every object once: no duplicate site
    assert final.returncode == 0, final.stderr
    assert '"create": 0' in final.stdout and '"update": 0' in final.stdout
