"""The scale-out commands as a user runs them: `mistctl apply --queue` following a run a `mistctl worker`
process executes, and the clear refusals (wrong store, no shareable Mist, unknown run, flag misuse)."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import uuid4

import pytest

from mist_twin.config import TwinConfig
from tests.support.twin import running_twin
from tests.support.workers import claim_codes, fleet_data, mistctl_env, run_cli, running_worker, write_fleet

pytestmark = pytest.mark.redis


def test_apply_queue_follows_the_run_the_worker_executes(tmp_path: Path, redis_url: str) -> None:
    with running_twin(TwinConfig(latency_ms=5, device_count=10)) as (url, org_id, token):
        env = mistctl_env(url, token, org_id, f"{redis_url}?prefix=c-{uuid4().hex[:8]}:")
        write_fleet(tmp_path / "fleet.yaml", fleet_data(3, claim_codes(url, 3)))
        with running_worker(env, tmp_path, "--concurrency", "2") as worker:
            applied = run_cli(env, tmp_path, "apply", "fleet.yaml", "--yes", "--queue")
            again = run_cli(env, tmp_path, "plan", "fleet.yaml", "--json")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        found = re.search(r"run ([0-9a-f]{32}) completed: 3 sites done, 0 failed", applied.stdout)
        assert found, applied.stdout
        assert "(no worker is running" not in applied.stdout
        status = run_cli(env, tmp_path, "status", "--run", found.group(1))
        cancel = run_cli(env, tmp_path, "cancel", found.group(1))
    assert '"create": 0' in again.stdout and '"update": 0' in again.stdout
    assert status.returncode == 0 and "completed" in status.stdout, status.stdout + status.stderr
    assert cancel.returncode == 2 and "already ended (completed)" in cancel.stderr
    assert token not in worker.log.read_text()


def test_the_queue_commands_refuse_clearly(tmp_path: Path, redis_url: str) -> None:
    with running_twin(TwinConfig(device_count=2)) as (url, org_id, token):
        sqlite = mistctl_env(url, token, org_id, f"sqlite:///{tmp_path / 'state.db'}")
        redis = mistctl_env(url, token, org_id, f"{redis_url}?prefix=c-{uuid4().hex[:8]}:")
        write_fleet(tmp_path / "fleet.yaml", fleet_data(1, claim_codes(url, 1)))
        queued = run_cli(sqlite, tmp_path, "apply", "fleet.yaml", "--yes", "--queue")
        detached = run_cli(redis, tmp_path, "apply", "fleet.yaml", "--yes", "--detach")
        worker_sqlite = run_cli(sqlite, tmp_path, "worker", "--burst")
    no_mist = {k: v for k, v in redis.items() if k not in ("MIST_HOST", "MIST_APITOKEN")}
    worker_twin = run_cli(no_mist, tmp_path, "worker", "--burst")
    unknown = run_cli(redis, tmp_path, "cancel", "0" * 32)
    expected = [(queued, "queued deployments need a Redis state store"),
                (detached, "--detach goes with --queue"),
                (worker_sqlite, "a worker takes its jobs from Redis"),
                (worker_twin, "a worker needs a Mist it can share"),
                (unknown, "no run '00000000")]
    for done, message in expected:
        assert done.returncode == 2, (message, done.stdout, done.stderr)
        assert message in " ".join(done.stderr.split()), done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / ".mistctl").exists()  # no built-in twin was started by the worker
