"""Day 2 end to end over HTTP: the twin served as a process (`python -m mist_twin`), mistctl's CLI on it
with a SQLite state file, as a user runs them.

Switches and gateways upgrade with reboot (and stay staged without it); a degrading version halts after
its canary, which is rolled back, then a good version reaches every device; `upgrade --rollback RUN`;
a site without SLE data is no-data in `assure` and holds a canary; a rollout killed with SIGKILL has
its upgrade calls in the audit log, and a re-run finishes it without upgrading anything twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mist_twin.config import TwinConfig
from mistctl.store.sqlite import SqliteStore
from tests.e2e.cli_support import EXAMPLES, run
from tests.support.twin import running_twin

AP_START, AP_GOOD, AP_BAD = "0.14.29543", "0.14.29850", "0.15.30108"
SWITCH_TO, SRX_TO = "23.4R2-S4.11", "23.4R2-S3.9"
SITES = ("Store-NYC-001", "Store-BOS-002")
MODELS = (("gateway", "SRX320"), ("switch", "EX4100-F-12P"), ("ap", "AP45"), ("ap", "AP45"))
FAST = ("--soak", "1s", "--timeout", "2m", "--yes")  # --yes: off a terminal a rollout is not asked about


@dataclass
class Lab:
    url: str
    org_id: str
    tmp: Path
    env: dict[str, str]

    def state(self) -> dict[str, Any]:
        dump: dict[str, Any] = httpx.get(f"{self.url}/__twin/state", timeout=30).json()
        return dump

    def versions(self, kind: str | None = None) -> dict[str, str]:
        return {d["mac"]: d["version"] for d in self.state()["inventory"]
                if d.get("site_id") and (kind is None or d["type"] == kind)}

    def site_id(self, name: str) -> str:
        return next(str(s["id"]) for s in self.state()["sites"] if s["name"] == name)

    def twin(self, method: str, path: str, body: Any) -> None:
        answer = httpx.request(method, f"{self.url}{path}", json=body, timeout=10)
        assert answer.status_code == 200, answer.text

    def upgrade_posts(self) -> int:
        routes = httpx.get(f"{self.url}/__twin/counters", timeout=10).json()["by_route"]
        return sum(n for route, n in routes.items() if route.startswith("POST") and "upgrade" in route)


def _devices() -> list[dict[str, str]]:
    return [{"claim_code": f"HTTPD2{s}{n:03d}XXXXX", "mac": f"5c5b35d2{s:02x}{n:02x}", "serial": f"HD2{s}{n:05d}",
             "model": model, "type": kind}
            for s in range(len(SITES)) for n, (kind, model) in enumerate(MODELS)]


def _fleet(tmp: Path, devices: list[dict[str, str]]) -> Path:
    data = yaml.safe_load((EXAMPLES / "fleet.yaml").read_text())
    data["sites"] = data["sites"][: len(SITES)]
    for i, site in enumerate(data["sites"]):
        site["devices"] = [{"claim_code": d["claim_code"]} for d in devices[i * len(MODELS): (i + 1) * len(MODELS)]]
    path = tmp / "fleet.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    tmp = tmp_path_factory.mktemp("day2http")
    devices = _devices()
    (tmp / "devices.json").write_text(json.dumps(devices))
    _fleet(tmp, devices)
    config = TwinConfig(devices_file=tmp / "devices.json", upgrade_seconds=1, seed=7, device_count=0)
    with running_twin(config) as (url, org_id, token), pytest.MonkeyPatch.context() as mp:
        env = {"MIST_HOST": url, "MIST_APITOKEN": token, "MIST_ORG_ID": org_id,
               "MISTCTL_STATE": f"sqlite:///{tmp / 'state.db'}"}
        for key, value in env.items():
            mp.setenv(key, value)
        mp.chdir(tmp)
        the = Lab(url, org_id, tmp, {**os.environ, **env, "PYTHONUNBUFFERED": "1"})
        the.twin("PUT", "/__twin/sle-interval", {"seconds": 1})  # one SLE interval is a second here
        code, out = run("apply", "fleet.yaml", "--yes")
        assert code == 0, out
        yield the


def test_switches_and_gateways_upgrade_with_reboot_and_stay_staged_without(lab: Lab) -> None:
    before = lab.versions("switch")
    sw = next(iter(before))
    site = next(d["site_id"] for d in lab.state()["inventory"] if d["mac"] == sw)
    raw = httpx.post(f"{lab.url}/api/v1/sites/{site}/devices/00000000-0000-0000-1000-{sw}/upgrade",
                     json={"version": SWITCH_TO}, headers={"Authorization": f"Token {lab.env['MIST_APITOKEN']}"})
    assert raw.status_code == 200, raw.text
    time.sleep(1.5)
    assert lab.versions("switch")[sw] == before[sw], "without reboot the firmware is only staged"

    code, out = run("upgrade", "fleet.yaml", "--version", SWITCH_TO, "--device-type", "switch", "--waves", "1,100%",
                    *FAST)
    assert code == 0, out
    assert set(lab.versions("switch").values()) == {SWITCH_TO}
    code, out = run("upgrade", "fleet.yaml", "--version", SRX_TO, "--device-type", "gateway", "--waves", "100%",
                    *FAST)
    assert code == 0, out
    assert set(lab.versions("gateway").values()) == {SRX_TO}


def test_a_degrading_version_halts_its_canary_is_rolled_back_then_a_good_one_goes_everywhere(lab: Lab) -> None:
    lab.twin("PUT", f"/__twin/firmware/{AP_BAD}", {"effect": "degrade", "sle_drop": 0.3})
    before = lab.versions("ap")
    code, out = run("upgrade", "fleet.yaml", "--version", AP_BAD, "--device-type", "ap", "--json", *FAST)
    report = json.loads(out[out.index("{"): out.rindex("}") + 1])
    assert code == 1 and report["status"] == "halted" and "SLE gate failed" in report["reason"]
    assert [d["status"] for d in report["devices"] if d["wave"] == 1] == ["rolled-back"]
    assert report["rollback"]["rolled_back"] == 1 and report["rollback"]["sle_ok"] is True
    assert lab.versions("ap") == before
    code, out = run("upgrade", "fleet.yaml", "--version", AP_GOOD, "--device-type", "ap", "--waves", "1,100%", *FAST)
    assert code == 0, out
    assert set(lab.versions("ap").values()) == {AP_GOOD}


def test_upgrade_rollback_run_puts_the_devices_back(lab: Lab) -> None:
    before = lab.versions("ap")
    code, out = run("upgrade", "fleet.yaml", "--version", AP_START, "--device-type", "ap", "--waves", "100%",
                    "--json", *FAST)
    forward = json.loads(out[out.index("{"): out.rindex("}") + 1])
    assert code == 0 and set(lab.versions("ap").values()) == {AP_START}
    code, out = run("upgrade", "fleet.yaml", "--rollback", forward["run_id"], "--waves", "1,100%", *FAST)
    assert code == 0, out
    assert lab.versions("ap") == before
    code, out = run("upgrade", "fleet.yaml", "--rollback", "no-such-run", *FAST)
    assert code == 2 and "no-such-run" in out


def test_a_site_without_sle_data_is_no_data_and_holds_a_canary(lab: Lab) -> None:
    quiet = min(SITES)  # waves go by site name: its AP is the canary
    lab.twin("PUT", f"/__twin/sle/{lab.site_id(quiet)}", {"no_data": True})
    code, out = run("assure", "fleet.yaml")
    assert code == 1 and f"no SLE data yet for {quiet}" in out, out
    code, out = run("assure", "fleet.yaml", "--allow-no-data")
    assert code == 0, out
    before = lab.versions("ap")
    code, out = run("upgrade", "fleet.yaml", "--version", AP_START, "--device-type", "ap", "--json", *FAST)
    report = json.loads(out[out.index("{"): out.rindex("}") + 1])
    assert code == 1 and report["status"] == "held" and quiet in report["reason"]
    canary = [d for d in report["devices"] if d["wave"] == 1]
    assert len(canary) == 1 and canary[0]["site"] == quiet and canary[0]["status"] == "upgraded"
    assert sum(lab.versions("ap")[m] != before[m] for m in before) == 1, "held: nothing past the canary"
    lab.twin("PUT", f"/__twin/sle/{lab.site_id(quiet)}", {"no_data": False})


def _audit(lab: Lab) -> list[Any]:
    async def read() -> list[Any]:
        async with SqliteStore(lab.tmp / "state.db") as store:
            return await store.list_audit(limit=1000)

    return asyncio.run(read())


def _befores(lab: Lab, run_id: str) -> dict[str, str | None]:
    async def read() -> dict[str, str | None]:
        async with SqliteStore(lab.tmp / "state.db") as store:
            steps = await store.get_steps(lab.org_id, run_id=run_id)
        return {s.key.split(":")[1]: s.applied_hash for s in steps if s.kind == "firmware_before"}

    return asyncio.run(read())


def test_a_rollout_killed_mid_wave_has_its_upgrades_in_the_audit_and_a_rerun_finishes_it(lab: Lab) -> None:
    lab.twin("PUT", "/__twin/faults", {"upgrade_seconds": 4})
    target = "0.14.29633"  # stable, and run by no AP yet
    before = lab.versions("ap")
    assert target not in before.values()
    cmd = [sys.executable, "-m", "mistctl", "upgrade", "fleet.yaml", "--version", target, "--device-type", "ap",
           "--waves", "100%", *FAST]
    posts = lab.upgrade_posts()
    proc = subprocess.Popen(cmd, env=lab.env, cwd=lab.tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while lab.upgrade_posts() == posts and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    sent = lab.upgrade_posts() - posts
    assert sent >= 1
    upgrades = [e for e in _audit(lab) if e.method == "POST" and e.path.endswith("/upgrade")
                and e.kind == "firmware" and e.run_id is not None]
    killed_run = upgrades[-1].run_id
    assert len({e.name for e in upgrades if e.run_id == killed_run}) >= 1, "the upgrade call is in the audit"
    assert _befores(lab, killed_run) == before, "every AP's version before was stored before the calls"

    code, out = run("upgrade", "fleet.yaml", "--version", target, "--device-type", "ap", "--waves", "100%",
                    "--json", *FAST)
    assert code == 0, out
    rerun_id = json.loads(out[out.index("{"): out.rindex("}") + 1])["run_id"]
    assert set(lab.versions("ap").values()) == {target}
    sent_by: dict[str, set[str]] = {}
    for e in _audit(lab):
        if e.kind == "firmware" and e.status == 0 and e.run_id is not None:  # write-ahead: one per device
            sent_by.setdefault(e.run_id, set()).add(str(e.name))
    again = sent_by.get(rerun_id, set())
    assert not (sent_by[killed_run] & again), "the re-run upgraded nothing twice"
    assert sent_by[killed_run] | again == set(before)
    lab.twin("PUT", "/__twin/faults", {"upgrade_seconds": 1})
