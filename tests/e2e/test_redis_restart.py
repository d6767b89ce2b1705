"""redis-server killed (SIGKILL) and started again on the same port in the middle of a queued deployment,
with and without persistence: the `mistctl worker` and the `mistctl apply --queue` following the run ride
it out (reconnecting with backoff) and the run converges: every intended object exactly once in the twin.

Without persistence Redis comes back empty: the run, its book and its jobs are gone. The following CLI
queues the fleet again as a new run (re-planned against the live org, so what was done stays done).
Real processes throughout: the twin served over HTTP, redis-server, the worker, the CLI.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mist_twin.config import TwinConfig
from mistctl.fleetio import load_fleet
from tests.support.engine import assert_twin_matches
from tests.support.redis_server import RedisServer
from tests.support.twin import running_twin
from tests.support.workers import (
    CLI,
    DumpedTwin,
    claim_codes,
    fleet_data,
    mistctl_env,
    run_cli,
    running_worker,
    write_fleet,
)

pytestmark = pytest.mark.redis
SITES = 10
DOWN_S = 1.0  # how long Redis stays dead


def _site_posts(twin_url: str) -> int:
    routes: dict[str, int] = httpx.get(f"{twin_url}/__twin/counters", timeout=10).json()["by_route"]
    return sum(n for route, n in routes.items() if route.startswith("POST") and route.endswith("/sites"))


def _wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.parametrize("persist", [True, False], ids=["persistent", "no-persistence"])
def test_a_redis_restart_mid_run_is_ridden_out_and_the_run_converges(tmp_path: Path, persist: bool) -> None:
    server = RedisServer(persist=persist)
    config = TwinConfig(latency_ms=40, jitter_ms=10, device_count=SITES + 2, seed=5)
    with running_twin(config) as (url, org_id, token):
        server.start()
        try:
            env = mistctl_env(url, token, org_id, f"{server.url}?prefix=rr:")
            fleet_path = write_fleet(tmp_path / "fleet.yaml", fleet_data(SITES, claim_codes(url, SITES)))
            with running_worker(env, tmp_path, "--concurrency", "2", "--lease", "2") as worker, \
                    (tmp_path / "apply.out").open("w") as out, (tmp_path / "apply.err").open("w") as err:
                apply = subprocess.Popen([*CLI, "apply", "fleet.yaml", "--yes", "--queue"], cwd=tmp_path, env=env,
                                         stdout=out, stderr=err, text=True)
                _wait_for(lambda: _site_posts(url) >= 2, 120, "the first sites")
                assert apply.poll() is None and _site_posts(url) < SITES, "the run ended before the restart"
                server.kill()
                time.sleep(DOWN_S)
                server.start()
                code = apply.wait(timeout=300)
                worker_alive = worker.proc.poll() is None
                sites_before_end = _site_posts(url)
            final = run_cli(env, tmp_path, "plan", "fleet.yaml", "--json")
            twin = DumpedTwin(url)
        finally:
            server.stop()
    said, errors = (tmp_path / "apply.out").read_text(), (tmp_path / "apply.err").read_text()
    assert code == 0, said + errors + worker.log.read_text()[-3000:]
    assert "Traceback" not in errors and "Traceback" not in worker.log.read_text()
    assert worker_alive, worker.log.read_text()[-3000:]
    assert re.search(rf"run [0-9a-f]{{32}} completed: {SITES} sites done, 0 failed", said), said
    assert ("queued again as run" in said) is (not persist), said
    assert_twin_matches(twin, load_fleet(fleet_path))  # every intended object exactly once
    assert sites_before_end == SITES  # no site was created twice (a retried POST found it first)
    assert final.returncode == 0, final.stderr
    assert '"create": 0' in final.stdout and '"update": 0' in final.stdout
    assert token not in said + errors + worker.log.read_text()
