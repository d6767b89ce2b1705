"""compose.yaml's stack outside containers: the commands it runs (`redis-server` with its persistence flags,
`mistctl serve`, `mistctl worker`), the environment from `.env.example` (Mist pointed at a served twin) and
the design `deploy/design.yaml`, deploying a small fleet through the service and the worker.

Only the addresses change (loopback, free ports, a temporary data directory): the flags are the file's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import yaml

from mist_twin.config import TwinConfig
from tests.e2e.test_api_serve import running_service
from tests.support.redis_server import redis_with_args
from tests.support.twin import running_twin
from tests.support.workers import DumpedTwin, claim_codes, fleet_data, mistctl_env, run_cli, running_worker

pytestmark = pytest.mark.redis
REPO = Path(__file__).resolve().parents[2]
SERVICE_KEY = "compose-stack-service-key-0123456789"


def _compose() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    return services


def _env_example() -> dict[str, str]:
    lines = (REPO / ".env.example").read_text().splitlines()
    return dict(ln.split("=", 1) for ln in lines if ln and not ln.startswith("#"))


def _local(command: list[str], **replace: str) -> tuple[str, ...]:
    """The compose command with its container addresses (host, port, data dir) swapped for local ones."""
    out = list(command)
    for flag, value in replace.items():
        out[out.index(flag) + 1] = value
    return tuple(out)


def _probe_paths() -> list[str]:
    """The readiness and liveness paths of the Kubernetes service manifest."""
    docs = [d for d in yaml.safe_load_all((REPO / "deploy" / "k8s" / "service.yaml").read_text()) if d]
    container = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]
    return [container[probe]["httpGet"]["path"] for probe in ("readinessProbe", "livenessProbe")]


def _healthcheck(url: str) -> list[str]:
    """The Dockerfile's HEALTHCHECK command, aimed at the running service."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    found = re.search(r"HEALTHCHECK .*? CMD (\[.*\])", text)
    assert found, "the Dockerfile has no HEALTHCHECK ... CMD [...]"
    command = json.loads(found.group(1))
    assert command[0] == "python"
    return [sys.executable, *(arg.replace("http://127.0.0.1:8000", url) for arg in command[1:])]


def _until_ended(api: httpx.Client, run_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view: dict[str, Any] = api.get(f"/deployments/{run_id}").json()
        if view["run"]["finished_at"] or time.monotonic() > deadline:
            return view
        time.sleep(0.2)


def test_the_compose_commands_deploy_a_fleet_and_redis_keeps_the_runs(tmp_path: Path) -> None:
    compose, dotenv = _compose(), _env_example()
    data = tmp_path / "data"
    data.mkdir()
    redis_args = _local(compose["redis"]["command"][1:], **{"--dir": str(data)})
    with ExitStack() as stack:
        twin_url, org_id, token = stack.enter_context(running_twin(TwinConfig(latency_ms=2, device_count=6)))
        redis_url, redis_proc = stack.enter_context(redis_with_args(list(redis_args), data))
        prefix = f"?prefix=s-{uuid4().hex[:8]}:"
        env = mistctl_env(twin_url, token, org_id, redis_url + prefix, **{
            **{k: v for k, v in dotenv.items() if not k.startswith("MIST")}, "MISTCTL_API_KEYS": SERVICE_KEY,
            "MISTCTL_DESIGN": str(REPO / "deploy" / "design.yaml")})
        serve = _local(compose["service"]["command"], **{"--host": "127.0.0.1", "--port": "0"})
        url, log = stack.enter_context(running_service(env, tmp_path, args=serve))
        worker = stack.enter_context(running_worker(env, tmp_path, *compose["worker"]["command"][1:]))
        api = stack.enter_context(httpx.Client(base_url=url, timeout=30,
                                               headers={"Authorization": f"Bearer {SERVICE_KEY}"}))
        accepted = api.post("/deployments", json={"fleet": fleet_data(3, claim_codes(twin_url, 3), "K"),
                                                  "org_id": org_id})
        assert accepted.status_code == 202, accepted.text
        ended = _until_ended(api, accepted.json()["id"])
        branch = {"site_name": "Branch-K-9", "zone_id": 2, "site_id": 9}
        refused = api.post("/orchestrator/deploy-full-stack", json=branch)  # the fleet owns the shared objects
        single = api.post("/orchestrator/deploy-full-stack", json={**branch, "take_ownership": True})
        probes = [httpx.get(url + path, timeout=30) for path in _probe_paths()]  # as Kubernetes: no credentials
        healthcheck = subprocess.run(_healthcheck(url), capture_output=True, text=True, timeout=30)
        twin = DumpedTwin(twin_url)
        worker_alive = worker.proc.poll() is None
        redis_proc.terminate()  # a restart on the same directory: the append-only file brings the runs back
        redis_proc.wait(timeout=10)
        assert (data / "appendonlydir").is_dir()
        again_url, _proc = stack.enter_context(redis_with_args(list(redis_args), data))
        restarted = run_cli({**env, "MISTCTL_STATE": again_url + prefix}, tmp_path, "status", "--run",
                            accepted.json()["id"])
    assert ended["run"]["status"] == "completed" and ended["run"]["counts"]["sites_done"] == 3, ended["run"]
    assert worker_alive
    assert [p.status_code for p in probes] == [200, 200], [p.text for p in probes]
    assert probes[0].json()["checked"]["store"] == "ping (RedisStore)"
    assert healthcheck.returncode == 0, healthcheck.stderr
    assert restarted.returncode == 0 and "completed" in restarted.stdout, restarted.stdout + restarted.stderr
    assert refused.json()["status"] == "failed" and "owned by fleet 'retail'" in refused.text, refused.text
    assert single.status_code == 200 and single.json()["status"] == "completed", single.text
    sites = {s["name"] for s in twin.objects("sites")}
    assert {"K-00000", "K-00001", "K-00002", "Branch-K-9"} <= sites
    passphrases = {p["name"]: p.get("passphrase") for p in twin.objects("psks")}
    assert passphrases["shelf-labels"] == dotenv["PSK_SHELF_LABELS"]  # the design's ${NAME} from the env file
    assert token not in log.read_text() and token not in worker.log.read_text()
    assert SERVICE_KEY not in log.read_text()
