"""A worker killed with SIGKILL in the middle of a queued run's deletes; another worker finishes them.

Real processes: the twin over HTTP (slow calls, so the kill lands between two deletes), redis-server,
`mistctl apply --queue --detach --allow-delete --release-devices`, two `mistctl worker`s. Worker A is
frozen as the twin takes its first DELETE (the WLAN's: its answer never reaches A), before the store's,
then killed; worker B retries the `finish` job, which re-plans: each object is deleted once, and the org
ends equal to the fleet.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections import Counter
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from mist_twin.config import TwinConfig
from mistctl.store.factory import open_store
from tests.e2e.test_workers_deletes import GONE, _fleets
from tests.e2e.test_workers_sigkill import _wait_run
from tests.support.twin import running_twin
from tests.support.workers import DumpedTwin, claim_codes, mistctl_env, run_cli, running_worker

pytestmark = pytest.mark.redis
WORKER = ("--concurrency", "2", "--lease", "1.5")
DELETES = ("DELETE /api/v1/orgs/{org_id}/wlans/{wlan_id}", "DELETE /api/v1/sites/{site_id}")


def _deletes(url: str) -> Counter[str]:
    routes = httpx.get(f"{url}/__twin/counters", timeout=30).json()["by_route"]
    return Counter({r: n for r, n in routes.items() if r in DELETES})


async def _steps(state_url: str, org_id: str) -> list[tuple[str, str, str]]:
    async with open_store(state_url) as store:
        return [(s.kind, s.status, s.updated_at.isoformat()) for s in await store.get_steps(org_id)
                if s.kind.startswith("delete:")]


def _freeze_at_the_first_delete(pid: int, url: str) -> None:
    """SIGSTOP worker A as the twin takes its first DELETE (the WLAN's; the store's comes two slow calls later)."""
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=url, timeout=30) as twin:
        while time.monotonic() < deadline:
            routes = twin.get("/__twin/counters").json()["by_route"]
            if routes.get(DELETES[0]):
                os.kill(pid, signal.SIGSTOP)
                return
            time.sleep(0.005)
    raise AssertionError("worker A never sent a DELETE")


def test_a_worker_killed_mid_deletes_leaves_them_to_another(tmp_path: Path, redis_url: str) -> None:
    state_url = f"{redis_url}?prefix=kd-{uuid4().hex[:8]}:"
    with running_twin(TwinConfig(device_count=10, latency_ms=400)) as (url, org_id, token):
        env = mistctl_env(url, token, org_id, state_url)
        _a, _b, wanted = _fleets(tmp_path, claim_codes(url, 4))
        with running_worker(env, tmp_path, *WORKER, label="a") as a:
            applied = run_cli(env, tmp_path, "apply", "a.yaml", "--yes", "--queue")
            assert applied.returncode == 0, applied.stdout + applied.stderr
            queued = run_cli(env, tmp_path, "apply", "b.yaml", "--yes", "--queue", "--detach", "--allow-delete",
                             "--release-devices")
            assert queued.returncode == 0, queued.stdout + queued.stderr
            found = re.search(r"run ([0-9a-f]{32}): queued", queued.stdout)
            assert found, queued.stdout
            _freeze_at_the_first_delete(a.proc.pid, url)
            a.proc.send_signal(signal.SIGKILL)
            assert a.proc.wait(timeout=10) == -signal.SIGKILL
            at_kill = _deletes(url)
            steps = asyncio.run(_steps(state_url, org_id))
            assert at_kill[DELETES[1]] == 0, (at_kill, steps)  # killed between the WLAN's DELETE and the site's
        with running_worker(env, tmp_path, *WORKER, label="b") as b:
            run, _workers = _wait_run(state_url, found.group(1), timeout=120)
        assert run.status == "completed", (run.status, run.error, b.log.read_text()[-3000:])
        assert "finish" in b.log.read_text()  # B ran the finish job again
        deletes = _deletes(url)
        twin = DumpedTwin(url)
        final = run_cli(env, tmp_path, "plan", "b.yaml", "--json")
    assert deletes == Counter(dict.fromkeys(DELETES, 1))  # each object deleted once: re-planned, not replayed
    assert sorted(s["name"] for s in twin.objects("sites")) == sorted(s["name"] for s in wanted["sites"])
    assert GONE not in {s["name"] for s in twin.objects("sites")}
    assert sorted(w["ssid"] for w in twin.objects("wlans")) == sorted(w["ssid"] for w in wanted["org"]["wlans"])
    assert '"delete": 0' in final.stdout and '"create": 0' in final.stdout, final.stdout
