"""Helpers for the scale-out tests and benchmarks: `mistctl worker` processes, big fleets, waiting on runs.

    env = mistctl_env(twin_url, token, org_id, redis_url + "?prefix=x:")
    with running_worker(env, tmp, "--concurrency", "4") as worker:   # waits for its ready line
        ...                                                          # worker.proc, worker.name
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet.yaml"
CLI = [sys.executable, "-c", "from mistctl.cli.main import main; main()"]
READY = "mistctl worker ready: "


def mistctl_env(twin_url: str, token: str, org_id: str, state_url: str, **extra: str) -> dict[str, str]:
    """The environment of a mistctl process against a served twin and a Redis state store."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("MIST_", "MISTCTL_"))}
    return {**keep, "MIST_HOST": twin_url, "MIST_APITOKEN": token, "MIST_ORG_ID": org_id,
            "MISTCTL_STATE": state_url, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **extra}


@dataclass
class WorkerProcess:
    """A running `mistctl worker`: its process, the name it records in runs (host:pid), its log file."""

    proc: subprocess.Popen[str]
    name: str
    log: Path


@contextmanager
def running_worker(env: dict[str, str], cwd: Path, *args: str, label: str = "worker",
                   timeout: float = 30.0, cli: Sequence[str] = CLI) -> Iterator[WorkerProcess]:
    """`mistctl worker ARGS`, ready to take jobs; stopped (SIGTERM) on exit unless already dead.

    `cli`: the command that starts mistctl (a benchmark passes `python -m cProfile -o FILE -m mistctl`)."""
    log = cwd / f"{label}.log"
    with log.open("w") as errors:
        proc = subprocess.Popen([*cli, "worker", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=errors, text=True)
        try:
            yield WorkerProcess(proc, _ready_name(proc, timeout, log), log)
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()


def _ready_name(proc: subprocess.Popen[str], timeout: float, log: Path) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if select.select([proc.stdout], [], [], 0.1)[0]:
            line = proc.stdout.readline()
            if line.startswith(READY):
                return line.rsplit(" as ", 1)[1].strip()
    raise RuntimeError(f"mistctl worker did not start:\n{log.read_text()[-3000:]}")


def claim_codes(twin_url: str, n: int) -> list[str]:
    """`n` claim codes of the served twin's device pool."""
    pool = httpx.get(f"{twin_url}/__twin/devices", timeout=30).json()
    codes = [d["claim_code"] for d in (pool["devices"] if isinstance(pool, dict) else pool)]
    assert len(codes) >= n, f"the twin has {len(codes)} devices, {n} wanted"
    return codes[:n]


def fleet_data(sites: int, codes: list[str], prefix: str = "W", zones: int = 3) -> dict[str, Any]:
    """The example's org design with `sites` generated stores over `zones` zones, one claim code each.

    The example's plan has eight /11 zones of 2,048 /22 stores (zone 8 loses its last 64 to the reserved
    10.255.0.0/16): 3 zones hold 6,000 stores, 8 zones 10,000 and more.
    """
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    data.pop("org_id", None)
    if zones > len(data["zones"]):
        data["zones"] = [{"id": z, "name": f"zone-{z}"} for z in range(1, zones + 1)]
    data["sites"] = [
        {"name": f"{prefix}-{i:05d}", "zone": 1 + i % zones, "number": 1 + i // zones,
         "site_groups": ["retail-stores"], "vars": {"store_code": f"{prefix}{i:05d}"},
         "devices": [{"claim_code": codes[i]}] if i < len(codes) else []}
        for i in range(sites)
    ]
    return data


def write_fleet(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_cli(env: dict[str, str], cwd: Path, *args: str,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """A mistctl command to its end."""
    return subprocess.run([*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


class DumpedTwin:
    """The served twin's state (`GET /__twin/state`) with the in-process twin's read methods."""

    def __init__(self, twin_url: str) -> None:
        self.dump: dict[str, Any] = httpx.get(f"{twin_url}/__twin/state", timeout=60).json()

    def objects(self, collection: str) -> list[dict[str, Any]]:
        return list(self.dump.get(collection, []))

    def inventory(self) -> list[dict[str, Any]]:
        return self.objects("inventory")
