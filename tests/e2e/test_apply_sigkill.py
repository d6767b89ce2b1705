"""`mistctl apply` killed with SIGKILL at random points, then re-run: exactly the intended objects.

Real processes: the twin served over HTTP (`python -m mist_twin`) and `python -m mistctl apply` with a
SQLite state file, as a user runs them.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from mist_twin.config import TwinConfig
from mistctl.fleetio import load_fleet
from tests.support.engine import EXAMPLE, assert_twin_matches
from tests.support.twin import running_twin


class DumpedTwin:
    """The twin's state as `GET /__twin/state` answers it, with the in-process twin's read methods."""

    def __init__(self, dump: dict[str, Any]) -> None:
        self.dump = dump

    def objects(self, collection: str) -> list[dict[str, Any]]:
        return list(self.dump.get(collection, []))

    def inventory(self) -> list[dict[str, Any]]:
        return self.objects("inventory")


def _devices(n: int) -> list[dict[str, str]]:
    return [
        {"claim_code": f"KILL{i:011d}", "mac": f"5c5b35ee{i:04x}", "serial": f"KS{i:08d}", "model": "AP45",
         "type": "ap"}
        for i in range(n)
    ]


#: A hub gateway: claimed at the first site, and the example's hub profile is assigned to it.
HUB = {"claim_code": "KILLHUB00000001", "mac": "5c5b35ef0001", "serial": "TH0100000001", "model": "SSR120",
       "type": "gateway"}


def _fleet_file(tmp: Path, devices: list[dict[str, str]]) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    shutil.copy(EXAMPLE.parent / "sites.csv", tmp / "sites.csv")  # the example's sites listed by CSV
    named = [s for s in data["sites"] if "name" in s]
    for i, site in enumerate(named):
        site["devices"] = [{"claim_code": d["claim_code"], "name": f"ap-{d['serial']}"}
                           for d in devices[2 * i : 2 * i + 2] if d is not HUB]
    named[0]["devices"].append({"claim_code": HUB["claim_code"], "name": "hub-gw"})
    data["org"]["hub_profiles"][0]["gateways"] = [HUB["mac"]]
    path = tmp / "fleet.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _calls(url: str) -> int:
    return int(httpx.get(f"{url}/__twin/counters", timeout=10).json()["total"])


def _apply(env: dict[str, str], fleet: Path, url: str, kill_after_calls: int | None) -> int:
    """Run `mistctl apply`; with `kill_after_calls`, SIGKILL it once the twin has answered that many more calls."""
    cmd = [sys.executable, "-m", "mistctl", "apply", str(fleet), "--yes", "--concurrency", "4"]
    start = _calls(url)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if kill_after_calls is None:
        _out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-3000:]
        return proc.returncode
    deadline = time.monotonic() + 120
    with httpx.Client(timeout=10) as poll:  # one kept-alive connection: a poll costs about a millisecond, so the
        # kill lands within a few calls of its mark (a new client per poll overshot by a dozen: a fast apply
        # could then end before a second kill)
        def made() -> int:
            return int(poll.get(f"{url}/__twin/counters").json()["total"]) - start

        while proc.poll() is None and made() < kill_after_calls and time.monotonic() < deadline:
            time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return proc.returncode


def _plan(env: dict[str, str], fleet: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "mistctl", "plan", str(fleet), "--json"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def test_sigkill_at_random_points_then_rerun_converges(tmp_path: Path) -> None:
    devices = [*_devices(60), HUB]
    dev_file = tmp_path / "devices.json"
    dev_file.write_text(json.dumps(devices))
    fleet_path = _fleet_file(tmp_path, devices)
    rng = random.Random(1234)
    config = TwinConfig(devices_file=dev_file, latency_ms=15, jitter_ms=10, seed=5)
    with running_twin(config) as (url, org_id, token):
        env = {**os.environ, "MIST_HOST": url, "MIST_APITOKEN": token, "MIST_ORG_ID": org_id,
               "MISTCTL_STATE": f"sqlite:///{tmp_path / 'state.db'}", "PYTHONUNBUFFERED": "1"}
        kills = 0
        for _ in range(3):  # kill each run at a random call of what is left to write
            plan = _plan(env, fleet_path)
            if plan["estimated_calls"] < 2:
                break
            at = plan["read_calls"] + rng.randint(1, plan["estimated_calls"] - 1)
            kills += _apply(env, fleet_path, url, kill_after_calls=at) == -signal.SIGKILL
        assert kills >= 2
        assert _apply(env, fleet_path, url, kill_after_calls=None) == 0
        dump = httpx.get(f"{url}/__twin/state", timeout=30).json()
        # a last plan is empty: nothing duplicated, nothing missing
        final = _plan(env, fleet_path)
        assert final["summary"]["create"] == 0 and final["summary"]["update"] == 0, final["changes"]
    assert_twin_matches(DumpedTwin(dump), load_fleet(fleet_path))
    names = {d["magic"]: d["name"] for d in dump["inventory"]}
    assert all(names[d["claim_code"]] == f"ap-{d['serial']}" for d in devices[:10]), "named once converged"
    hub_id = next(p["id"] for p in dump["deviceprofiles"] if p["name"] == "dc-hub")
    assert next(d for d in dump["inventory"] if d["mac"] == HUB["mac"])["deviceprofile_id"] == hub_id
