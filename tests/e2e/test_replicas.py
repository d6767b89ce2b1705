"""Two `mistctl serve` replicas on one Redis, one `mistctl worker`, the twin served over HTTP: a deployment
started on one replica is visible, identical and cancellable on the other.

All real processes on loopback; the replicas share nothing but Redis (state, queue, call budget).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import pytest

from mist_twin.config import TwinConfig
from tests.e2e.test_api_serve import running_service
from tests.support.twin import running_twin
from tests.support.workers import WorkerProcess, claim_codes, fleet_data, mistctl_env, running_worker

pytestmark = pytest.mark.redis
SERVICE_KEY = "replica-service-key-0123456789abcdef"
KEY = {"Authorization": f"Bearer {SERVICE_KEY}"}


@dataclass
class Replicas:
    a: httpx.Client
    b: httpx.Client
    org_id: str
    codes: list[str]
    worker: WorkerProcess
    twin_url: str

    def deploy(self, on: httpx.Client, sites: int, prefix: str, codes: list[str]) -> str:
        body = {"fleet": fleet_data(sites, codes, prefix=prefix), "org_id": self.org_id}
        accepted = on.post("/deployments", json=body, headers=KEY)
        assert accepted.status_code == 202, accepted.text
        run_id: str = accepted.json()["id"]
        return run_id


@pytest.fixture(scope="module")
def replicas(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    tmp = tmp_path_factory.mktemp("replicas")
    config = TwinConfig(latency_ms=40, device_count=40, seed=6)
    with ExitStack() as stack:
        url, org_id, token = stack.enter_context(running_twin(config))
        env = mistctl_env(url, token, org_id, f"{redis_url}?prefix=r-{uuid4().hex[:8]}:",
                          MISTCTL_API_KEYS=SERVICE_KEY)
        urls = []
        for name in ("a", "b"):
            cwd = tmp / name
            cwd.mkdir()
            urls.append(stack.enter_context(running_service(env, cwd))[0])
        worker = stack.enter_context(running_worker(env, tmp, "--concurrency", "1", "--lease", "2"))
        a, b = (stack.enter_context(httpx.Client(base_url=u, timeout=30)) for u in urls)
        yield Replicas(a, b, org_id, claim_codes(url, 30), worker, url)


def _view(api: httpx.Client, run_id: str) -> dict[str, Any]:
    answer = api.get(f"/deployments/{run_id}", headers=KEY)
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


def _until_ended(api: httpx.Client, run_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view = _view(api, run_id)
        if view["run"]["finished_at"] or time.monotonic() > deadline:
            return view
        time.sleep(0.2)


def test_both_replicas_show_the_same_deployment_started_on_one(replicas: Replicas) -> None:
    run_id = replicas.deploy(replicas.a, 4, "R", replicas.codes[:4])
    seen = _view(replicas.b, run_id)  # at once on the other replica
    assert seen["run"]["id"] == run_id and seen["run"]["status"] in ("pending", "running")
    ended = _until_ended(replicas.b, run_id)
    assert ended["run"]["status"] == "completed", ended["run"]
    assert ended == _view(replicas.a, run_id)
    assert ended["run"]["counts"]["sites_done"] == 4
    assert sorted(s["name"] for s in ended["sites"]) == [f"R-{i:05d}" for i in range(4)]
    listed = [[r["id"] for r in api.get("/deployments", headers=KEY).json()]
              for api in (replicas.a, replicas.b)]
    assert run_id in listed[0] and listed[0] == listed[1]
    events = replicas.b.get(f"/deployments/{run_id}/events", headers=KEY).text
    assert events.count("event: site_done") == 4 and '"status": "completed"' in events


def test_a_deployment_started_on_one_replica_is_cancelled_from_the_other(replicas: Replicas) -> None:
    sites = 20
    run_id = replicas.deploy(replicas.a, sites, "C", replicas.codes[4:4 + sites])
    deadline = time.monotonic() + 60
    while _view(replicas.b, run_id)["run"]["counts"].get("sites_done", 0) < 1:
        assert time.monotonic() < deadline, "no site was done in time"
        time.sleep(0.05)
    cancelled = replicas.b.post(f"/deployments/{run_id}/cancel", headers=KEY)
    assert cancelled.status_code == 202, cancelled.text
    ended = _until_ended(replicas.a, run_id)
    counts = ended["run"]["counts"]
    assert ended["run"]["status"] == "cancelled", ended["run"]
    assert counts["sites_cancelled"] >= 1 and counts.get("sites_done", 0) + counts["sites_cancelled"] == sites
    assert ended == _view(replicas.b, run_id)
    again = replicas.a.post(f"/deployments/{run_id}/cancel", headers=KEY)
    assert again.status_code == 409 and "already ended" in again.json()["detail"]
    made = {s["name"] for s in httpx.get(f"{replicas.twin_url}/__twin/state", timeout=30).json()["sites"]}
    assert len({n for n in made if n.startswith("C-")}) == counts.get("sites_done", 0)  # skipped: not created


def test_the_replicas_share_one_call_budget(replicas: Replicas) -> None:
    metrics = [api.get("/metrics", headers=KEY).text for api in (replicas.a, replicas.b)]
    left = [_gauge(m, "mistctl_mist_budget_remaining") for m in metrics]
    assert left[0] == left[1] and left[0] is not None and left[0] < 5000 - 50  # the worker's calls count too
    assert replicas.worker.proc.poll() is None


def _gauge(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None
