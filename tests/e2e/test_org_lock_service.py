"""One run per org across the CLI and the service: `mistctl serve` and `mistctl apply` as real processes on one
SQLite file, the twin over HTTP. A deployment and an apply started together create every object once; a
service killed mid-deployment leaves its run shown `interrupted` (status, the API) until resumed."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from mist_twin.config import TwinConfig
from mistctl.fleetio import load_fleet
from tests.e2e.test_api_serve import SERVICE_KEY, _ready_url
from tests.support.cli_procs import CLI, DumpedTwin, cli_env, example_with_devices, mistctl, start
from tests.support.engine import assert_twin_matches
from tests.support.twin import running_twin, stop_process

pytestmark = pytest.mark.timeout(600)
KEY = {"Authorization": f"Bearer {SERVICE_KEY}"}
TERMINAL = {"completed", "failed", "partial", "cancelled", "interrupted"}


def _serve(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    log = (cwd / "service.log").open("w")
    proc = subprocess.Popen([*CLI, "serve", "--port", "0"], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=log, text=True)
    return proc, _ready_url(proc, 30, cwd / "service.log")


def _wait_run(api: httpx.Client, run_id: str, until: set[str], timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.get(f"/deployments/{run_id}", headers=KEY).json()["run"]
        if run["status"] in until:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not reach {until}")


def _named_sites_only(tmp: Path) -> tuple[Path, Path]:
    """The example with its named sites only (a request body cannot name a CSV file)."""
    fleet, devices = example_with_devices(tmp)
    data = yaml.safe_load(fleet.read_text())
    data["sites"] = [s for s in data["sites"] if "csv" not in s]
    fleet.write_text(yaml.safe_dump(data, sort_keys=False))
    return fleet, devices


def _fleet_body(fleet: Path, org: str) -> dict:
    return {"fleet": fleet.read_text(), "org_id": org}


def test_a_deployment_and_a_cli_apply_started_together_create_every_object_once(tmp_path: Path) -> None:
    fleet, devices = _named_sites_only(tmp_path)
    with running_twin(TwinConfig(devices_file=devices, latency_ms=30, jitter_ms=10)) as (url, org, tok):
        env = cli_env(tmp_path, url, tok, org, MISTCTL_API_KEYS=SERVICE_KEY)
        proc, base = _serve(env, tmp_path)
        try:
            with httpx.Client(base_url=base, timeout=60) as api:
                cli = start(env, "apply", str(fleet), "--yes", "--concurrency", "4")
                accepted = api.post("/deployments", json=_fleet_body(fleet, org), headers=KEY)
                assert accepted.status_code == 202, accepted.text
                out, err = cli.communicate(timeout=300)
                assert cli.returncode == 0, out[-2000:] + err[-2000:]
                run = _wait_run(api, accepted.json()["id"], TERMINAL)
                assert run["status"] == "completed", run
        finally:
            stop_process(proc)
        assert_twin_matches(DumpedTwin(url), load_fleet(fleet))  # every object once


def test_a_service_killed_mid_deployment_shows_the_run_interrupted(tmp_path: Path) -> None:
    fleet, devices = _named_sites_only(tmp_path)
    with running_twin(TwinConfig(devices_file=devices, latency_ms=250)) as (url, org, tok):
        env = cli_env(tmp_path, url, tok, org, MISTCTL_API_KEYS=SERVICE_KEY)
        proc, base = _serve(env, tmp_path)
        try:
            with httpx.Client(base_url=base, timeout=60) as api:
                body = _fleet_body(fleet, org) | {"concurrency": 1}
                run_id = api.post("/deployments", json=body, headers=KEY).json()["id"]
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    view = api.get(f"/deployments/{run_id}", headers=KEY).json()
                    if view["run"]["counts"].get("sites_done", 0) >= 1:
                        break
                    time.sleep(0.05)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                assert view["run"]["status"] == "running", view["run"]
        finally:
            stop_process(proc)
        status = mistctl(env, "status", "--run", run_id)
        assert "interrupted" in status.stdout and "resume" in status.stdout, status.stdout
        proc, base = _serve(env, tmp_path)  # a new service lists it interrupted too
        try:
            with httpx.Client(base_url=base, timeout=60) as api:
                listed = {r["id"]: r["status"] for r in api.get("/deployments", headers=KEY).json()}
                assert listed[run_id] == "interrupted"
        finally:
            stop_process(proc)
        assert mistctl(env, "unlock", org, "--yes").returncode == 0  # its lock would lapse in 2 minutes
        done = mistctl(env, "apply", str(fleet), "--yes")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert_twin_matches(DumpedTwin(url), load_fleet(fleet))
