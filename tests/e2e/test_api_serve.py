"""End to end: `mistctl twin serve` and `mistctl serve` as real processes on loopback, one SQLite state file
shared with the CLI: the example request twice over HTTP, runs visible both ways, no token anywhere."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from mist_twin.config import TwinConfig
from mistctl.cli.serve_cmds import READY_PREFIX
from mistctl.designs import default_design_text
from tests.support.twin import running_twin, stop_process

CLI = [sys.executable, "-c", "from mistctl.cli.main import main; main()"]
ROUTE = "/orchestrator/deploy-full-stack"
DONE = {"site_id": "1-5", "status": "completed", "current_step": 13, "total_steps": 13,
        "message": "13-Step Workflow Executed Successfully for Branch-NYC-001"}
TWIN_TOKEN = "e2e-twin-admin-token-0123456789abcdefghijklmnop"
SERVICE_KEY = "e2e-service-key-0123456789abcdef0123"


@contextmanager
def running_service(env: dict[str, str], cwd: Path, timeout: float = 30.0,
                    args: tuple[str, ...] = ("serve", "--port", "0")) -> Iterator[tuple[str, Path]]:
    """`mistctl serve --port 0` (or `mistctl ARGS`); yields its base URL and the file its logs go to."""
    log = cwd / "service.log"
    with log.open("w") as errors:
        proc = subprocess.Popen([*CLI, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=errors, text=True)
        try:
            yield _ready_url(proc, timeout, log), log
        finally:
            stop_process(proc)
            assert proc.stdout is not None
            proc.stdout.close()


def _ready_url(proc: subprocess.Popen[str], timeout: float, log: Path) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if select.select([proc.stdout], [], [], 0.1)[0]:
            line = proc.stdout.readline()
            if line.startswith(READY_PREFIX):
                return line[len(READY_PREFIX):].split()[0]
    raise RuntimeError(f"mistctl serve did not start:\n{log.read_text()[-3000:]}")


def _env(tmp_path: Path, twin_url: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("MIST_", "MISTCTL_"))}
    return {**keep, "MIST_HOST": twin_url, "MIST_APITOKEN": TWIN_TOKEN, "MISTCTL_API_KEYS": SERVICE_KEY,
            "MISTCTL_STATE": f"sqlite:///{tmp_path / 'state.db'}", "PYTHONUNBUFFERED": "1", "COLUMNS": "250"}


def _non_get_calls(twin: httpx.Client) -> dict[str, Any]:
    routes = twin.get("/__twin/counters").json()["by_route"]
    return {r: n for r, n in routes.items() if not r.startswith("GET ")}


def test_the_example_over_http_twice_shows_in_status_and_leaves_no_token(tmp_path: Path) -> None:
    config = TwinConfig(token=TWIN_TOKEN, inventory_count=3)
    with running_twin(config, via_cli=True) as (twin_url, org_id, _token), \
            httpx.Client(base_url=twin_url, headers={"Authorization": f"Token {TWIN_TOKEN}"}) as twin:
        serials = [d["serial"] for d in twin.get(f"/api/v1/orgs/{org_id}/inventory").json()][:2]
        env = _env(tmp_path, twin_url)
        body = {"org_id": org_id, "site_name": "Branch-NYC-001", "zone_id": 1, "site_id": 5,
                "device_serials": serials}
        key = {"Authorization": f"Bearer {SERVICE_KEY}"}
        with running_service(env, tmp_path) as (url, log), httpx.Client(base_url=url, timeout=60) as api:
            assert api.get("/healthz").status_code == 200
            first = api.post(ROUTE, json=body, headers={"X-Mist-API-Key": TWIN_TOKEN})
            writes = _non_get_calls(twin)
            second = api.post(ROUTE, json=body, headers=key)
            assert _non_get_calls(twin) == writes  # the second call created nothing
            ready = api.get("/readyz", headers=key)
            assert ready.status_code == 200, ready.text
        assert first.json() == DONE and second.json() == DONE
        sites = twin.get(f"/api/v1/orgs/{org_id}/sites").json()
        assert [s["name"] for s in sites] == ["Branch-NYC-001"]
    status = subprocess.run([*CLI, "status"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60)
    assert status.returncode == 0, status.stderr
    for answer in (first, second):
        assert answer.headers["X-Mistctl-Run"][:8] in status.stdout  # status prints the short id
    logs = log.read_text()
    assert '"request_id"' in logs and ROUTE in logs
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("state.db*"))
    for where in (logs.encode(), stored, first.content, second.content):
        assert TWIN_TOKEN.encode() not in where and SERVICE_KEY.encode() not in where


def test_a_cli_apply_shows_in_the_api_and_a_deployment_started_over_http_runs(tmp_path: Path) -> None:
    config = TwinConfig(token=TWIN_TOKEN, inventory_count=0)
    with running_twin(config, via_cli=True) as (twin_url, org_id, _token):
        env = _env(tmp_path, twin_url)
        fleet = yaml.safe_load(default_design_text())
        fleet["sites"] = [{"name": "Store-CLI-001", "zone": 1, "number": 1}]
        (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(fleet))
        applied = subprocess.run([*CLI, "apply", "fleet.yaml", "--yes"], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=120)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        key = {"Authorization": f"Bearer {SERVICE_KEY}"}
        with running_service(env, tmp_path) as (url, _log), httpx.Client(base_url=url, timeout=60) as api:
            runs = api.get("/deployments", headers=key).json()
            assert [(r["kind"], r["requested_by"], r["status"]) for r in runs] == [
                ("apply", "cli", "completed")]
            fleet["sites"].append({"name": "Store-API-002", "zone": 1, "number": 2})
            accepted = api.post("/deployments", json={"fleet": fleet, "org_id": org_id}, headers=key)
            assert accepted.status_code == 202, accepted.text
            events = api.get(accepted.json()["links"]["events"], headers=key)  # streams until the run ends
            assert "event: end" in events.text and "event: site_done" in events.text
            view = api.get(accepted.json()["links"]["self"], headers=key).json()
            assert view["run"]["status"] == "completed"
            done = {s["name"]: s["status"] for s in view["sites"]}
            assert done == {"Store-API-002": "done", "Store-CLI-001": "done"}
