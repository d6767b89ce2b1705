"""One run per org: `mistctl apply` processes started together on one SQLite file against one twin over HTTP.

Real processes (the twin served over HTTP, `python -m mistctl`), as two operators (or two CI jobs) run them.
What the twin holds afterwards is checked object by object: every object of the fleet exactly once.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from mist_twin.config import TwinConfig
from mistctl.fleetio import load_fleet
from mistctl.store import open_store
from tests.support.cli_procs import DumpedTwin, cli_env, example_with_devices, mistctl, start
from tests.support.engine import assert_twin_matches
from tests.support.twin import running_twin

pytestmark = pytest.mark.timeout(600)


def _calls(url: str) -> int:
    return int(httpx.get(f"{url}/__twin/counters", timeout=10).json()["total"])


def _apply_under_way(env: dict[str, str], url: str, fleet: Path) -> subprocess.Popen[str]:
    """An apply started in the background, handed back once it made 60 calls (or ended, or 120 s passed)."""
    start_calls = _calls(url)
    proc = start(env, "apply", str(fleet), "--yes", "--concurrency", "2")
    deadline = time.monotonic() + 120
    while proc.poll() is None and _calls(url) - start_calls < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    return proc


@pytest.mark.parametrize("trial", [1, 2, 3])
def test_two_applies_started_together_create_every_object_once(tmp_path: Path, trial: int) -> None:
    fleet, devices = example_with_devices(tmp_path)
    with running_twin(TwinConfig(devices_file=devices, latency_ms=30, jitter_ms=10, seed=trial)) as (url, org, tok):
        env = cli_env(tmp_path, url, tok, org)
        procs = [start(env, "apply", str(fleet), "--yes", "--concurrency", "4") for _ in range(2)]
        outs = [p.communicate(timeout=300) for p in procs]
        for proc, (out, err) in zip(procs, outs, strict=True):
            assert proc.returncode == 0, out[-2000:] + err[-2000:]
        assert_twin_matches(DumpedTwin(url), load_fleet(fleet))  # every object once
        waited = [out for out, _ in outs if "waiting for the lock of org" in out]
        assert len(waited) == 1, [o[-800:] for o, _ in outs]  # the other one said for whom it waited
        assert "held by run " in waited[0] and "mistctl apply by cli on " in waited[0]
        assert "No changes: the org matches the fleet" in waited[0]  # it planned after the first had ended
        plan = mistctl(env, "plan", str(fleet))
        assert plan.returncode == 0 and "No changes" in plan.stdout, plan.stdout + plan.stderr


def test_two_applies_on_one_redis_store_like_two_ci_jobs_create_every_object_once(tmp_path: Path,
                                                                                    redis_url: str) -> None:
    fleet, devices = example_with_devices(tmp_path)
    with running_twin(TwinConfig(devices_file=devices, latency_ms=30, jitter_ms=10)) as (url, org, tok):
        env = cli_env(tmp_path, url, tok, org, MISTCTL_STATE=f"{redis_url}?prefix=ci-{uuid4().hex[:8]}:")
        procs = [start(env, "apply", str(fleet), "--yes", "--concurrency", "4") for _ in range(2)]
        outs = [p.communicate(timeout=300) for p in procs]
        for proc, (out, err) in zip(procs, outs, strict=True):
            assert proc.returncode == 0, out[-2000:] + err[-2000:]
        assert_twin_matches(DumpedTwin(url), load_fleet(fleet))
        assert sum("waiting for the lock of org" in out for out, _ in outs) == 1


async def _hold(state: Path, org: str, owner: str, holder: str) -> None:
    async with open_store(f"sqlite:///{state}") as store:
        assert await store.acquire_lock(f"org:{org}", owner, 600, holder=holder)


async def _holder(state: Path, org: str) -> str | None:
    async with open_store(f"sqlite:///{state}") as store:
        info = await store.get_lock(f"org:{org}")
        return info.owner if info else None


async def _statuses(state: Path) -> list[str]:
    async with open_store(f"sqlite:///{state}") as store:
        return [r.status for r in await store.list_runs()]


def test_lock_timeout_0_refuses_naming_the_holder_and_unlock_frees_it(tmp_path: Path) -> None:
    import asyncio

    fleet, devices = example_with_devices(tmp_path)
    with running_twin(TwinConfig(devices_file=devices)) as (url, org, tok):
        env = cli_env(tmp_path, url, tok, org)
        asyncio.run(_hold(tmp_path / "state.db", org, "run-elsewhere", "mistctl apply by alice on ci-7 pid 42"))
        refused = mistctl(env, "apply", str(fleet), "--yes", "--lock-timeout", "0")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "run-elsewhere" in refused.stderr and "alice on ci-7 pid 42" in refused.stderr
        assert "mistctl unlock" in refused.stderr
        assert DumpedTwin(url).objects("sites") == []  # nothing was read into a plan, nothing written
        unlock = mistctl(env, "unlock", org)  # off a terminal, without --yes: refused
        assert unlock.returncode == 2 and "--yes" in unlock.stderr
        assert asyncio.run(_holder(tmp_path / "state.db", org)) == "run-elsewhere"
        unlock = mistctl(env, "unlock", org, "--yes")
        assert unlock.returncode == 0 and "run-elsewhere" in unlock.stdout, unlock.stdout + unlock.stderr
        assert asyncio.run(_holder(tmp_path / "state.db", org)) is None
        done = mistctl(env, "apply", str(fleet), "--yes", "--lock-timeout", "0")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert asyncio.run(_holder(tmp_path / "state.db", org)) is None  # released at the end


def test_a_killed_apply_shows_interrupted_and_unlock_recovers(tmp_path: Path) -> None:
    import asyncio

    fleet, devices = example_with_devices(tmp_path)
    with running_twin(TwinConfig(devices_file=devices, latency_ms=20)) as (url, org, tok):
        env = cli_env(tmp_path, url, tok, org)
        proc = _apply_under_way(env, url, fleet)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        holder = asyncio.run(_holder(tmp_path / "state.db", org))
        assert holder is not None  # the dead run's lock is left until it lapses
        status = mistctl(env, "status")
        assert "interrupted" in status.stdout and "resume" in status.stdout, status.stdout
        refused = mistctl(env, "apply", str(fleet), "--yes", "--lock-timeout", "0")
        assert refused.returncode == 1 and holder in refused.stderr
        assert mistctl(env, "unlock", org, "--yes").returncode == 0
        done = mistctl(env, "apply", str(fleet), "--yes")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert_twin_matches(DumpedTwin(url), load_fleet(fleet))
        status = mistctl(env, "status", "--run", holder)
        assert "interrupted" in status.stdout, status.stdout


def test_ctrl_c_records_interrupted_and_releases_the_lock(tmp_path: Path) -> None:
    import asyncio

    fleet, devices = example_with_devices(tmp_path)
    with running_twin(TwinConfig(devices_file=devices, latency_ms=20)) as (url, org, tok):
        env = cli_env(tmp_path, url, tok, org)
        proc = _apply_under_way(env, url, fleet)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err[-2000:]
        assert asyncio.run(_holder(tmp_path / "state.db", org)) is None  # released on the way out
        assert asyncio.run(_statuses(tmp_path / "state.db")) == ["interrupted"]  # recorded, not only shown
        assert "interrupted" in mistctl(env, "status").stdout
        done = mistctl(env, "apply", str(fleet), "--yes", "--lock-timeout", "0")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert_twin_matches(DumpedTwin(url), load_fleet(fleet))
