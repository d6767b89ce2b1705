"""`mistctl serve` (real uvicorn) against a twin process once the service's Mist call budget is spent:
requests answer 503 with Retry-After within MISTCTL_BUDGET_WAIT (no request hangs until the top of the
hour), /readyz answers at once, and a stop releases the locks of a request still waiting."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mist_twin.config import TwinConfig
from mistctl.api.jobs import org_lock, site_lock
from mistctl.store.sqlite import SqliteStore
from tests.e2e.test_api_serve import CLI, SERVICE_KEY, TWIN_TOKEN, _env, _ready_url, running_service
from tests.support.twin import running_twin

ROUTE = "/orchestrator/deploy-full-stack"
KEY = {"Authorization": f"Bearer {SERVICE_KEY}"}


def _body(org_id: str) -> dict[str, Any]:
    return {"org_id": org_id, "site_name": "Branch-NYC-001", "zone_id": 1, "site_id": 5}


async def _locks_free(db: Path, org_id: str) -> bool:
    async with SqliteStore(db) as store:
        names = (org_lock(org_id), site_lock(org_id, "Branch-NYC-001"))
        return all([await store.acquire_lock(name, "after-the-stop", 1) for name in names])


def test_a_spent_budget_answers_503_within_the_bound_and_readyz_at_once(tmp_path: Path) -> None:
    with running_twin(TwinConfig(token=TWIN_TOKEN, device_count=0)) as (twin_url, org_id, _token):
        # The service believes in 30 calls an hour: the example's ~46 calls cannot all be made.
        env = {**_env(tmp_path, twin_url), "MIST_RATE_LIMIT": "30", "MISTCTL_BUDGET_WAIT": "2"}
        # The client's timeout is the bound: the old service gave no answer in 420 s.
        with running_service(env, tmp_path) as (url, _log), httpx.Client(base_url=url, timeout=20) as api:
            first = api.post(ROUTE, json=_body(org_id), headers=KEY)
            again = api.post(ROUTE, json=_body(org_id), headers=KEY)
            ready = api.get("/readyz", headers=KEY, timeout=5)
            twin_calls = httpx.get(f"{twin_url}/__twin/counters").json()
    for answer in (first, again):  # the second is 503 too, not 409: the first freed its locks
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"].isdigit() and int(answer.headers["Retry-After"]) >= 1
        assert answer.json()["budget_resets_at"].endswith("+00:00")
        assert "call budget is spent" in answer.json()["detail"]
    assert ready.status_code == 200 and ready.json()["mist"].startswith("ok")
    assert twin_calls["rate_limited"] == 0 and twin_calls["total"] <= 30
    assert asyncio.run(_locks_free(tmp_path / "state.db", org_id))


@pytest.mark.slow
def test_a_stop_releases_the_locks_of_a_request_waiting_for_the_budget(tmp_path: Path) -> None:
    with running_twin(TwinConfig(token=TWIN_TOKEN, device_count=0)) as (twin_url, org_id, _token):
        # 30 calls an hour, and requests may wait past the top of the hour: the request waits holding its
        # locks (as every request did before the bound), longer than the stop's 10-s grace.
        env = {**_env(tmp_path, twin_url), "MIST_RATE_LIMIT": "30", "MISTCTL_BUDGET_WAIT": "4000"}
        log = tmp_path / "service.log"
        with log.open("w") as errors:
            proc = subprocess.Popen([*CLI, "serve", "--port", "0"], cwd=tmp_path, env=env,
                                    stdout=subprocess.PIPE, stderr=errors, text=True)
            try:
                url = _ready_url(proc, 30, log)
                answers: list[Any] = []

                def call() -> None:
                    try:
                        answers.append(httpx.post(f"{url}{ROUTE}", json=_body(org_id), headers=KEY, timeout=90))
                    except httpx.HTTPError as exc:
                        answers.append(exc)

                waiter = threading.Thread(target=call)
                waiter.start()
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:  # until the service has spent its 29 calls and waits
                    if httpx.get(f"{twin_url}/__twin/counters").json()["total"] >= 29:
                        break
                    time.sleep(0.1)
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=60)
                waiter.join(timeout=90)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                assert proc.stdout is not None
                proc.stdout.close()
    assert code in (0, -signal.SIGTERM), log.read_text()[-2000:]  # uvicorn re-raises the SIGTERM it handled
    assert asyncio.run(_locks_free(tmp_path / "state.db", org_id)), "the stop left a lock behind"
