"""Deletes end to end: the twin served over HTTP, `python -m mistctl` run as a user runs it (SQLite state).

A fleet loses a WLAN, a WLAN policy, a label, an RF template no site uses and a store with devices.
The plan lists exactly those deletes; apply without --allow-delete changes nothing; with it the org
equals the fleet, the store's devices are back in the org inventory (still claimed), and objects made
directly through the Mist API are untouched. A kill -9 mid-delete, and 5xx / dropped answers, end exact.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from mist_twin.config import TwinConfig
from mistctl.domain import kinds as K
from mistctl.domain.desired import natural_key
from tests.support.engine import EXAMPLE
from tests.support.twin import running_twin

GONE_SITE = "Store-NYC-001"
EXPECTED_DELETES = {
    ("wlan_policies", "store-wifi/2"), ("labels", "store-internal"), ("wlans", "store-wifi/Store-Guest"),
    ("sites", GONE_SITE), ("rf_templates", "spare-rf"),
}
DELETE_ORDER = ["wlan_policies", "labels", "wlans", "sites", "rf_templates"]


def _fleets(tmp: Path) -> tuple[Path, Path]:
    """The example's named stores plus two spare RF templates (A), and A minus the five objects (B)."""
    data = {"name": "retail", **yaml.safe_load(EXAMPLE.read_text())}  # one fleet, two versions: one owner
    data["sites"] = [s for s in data["sites"] if "name" in s]
    data["org"]["rf_templates"] += [{"name": "spare-rf", "country_code": "US"},
                                    {"name": "old-rf", "country_code": "US"}]
    a = tmp / "fleet-a.yaml"
    a.write_text(yaml.safe_dump(data, sort_keys=False))
    org = data["org"]
    org["wlans"] = [w for w in org["wlans"] if w["ssid"] != "Store-Guest"]
    org["wlan_policies"] = [p for p in org["wlan_policies"] if p["order"] != 2]
    org["labels"] = [lb for lb in org["labels"] if lb["name"] != "store-internal"]
    org["rf_templates"] = [t for t in org["rf_templates"] if t["name"] not in ("spare-rf", "old-rf")]
    data["sites"] = [s for s in data["sites"] if s["name"] != GONE_SITE]
    b = tmp / "fleet-b.yaml"
    b.write_text(yaml.safe_dump(data, sort_keys=False))
    return a, b


class Twin:
    """The twin process: its URL, org and token, and a Mist API client for objects mistctl does not manage."""

    def __init__(self, url: str, org_id: str, token: str, tmp: Path) -> None:
        self.url, self.org_id = url, org_id
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=30)
        self.env = {**os.environ, "MIST_HOST": url, "MIST_APITOKEN": token, "MIST_ORG_ID": org_id,
                    "MISTCTL_STATE": f"sqlite:///{tmp / 'state.db'}", "MIST_MAX_ATTEMPTS": "8",
                    "PYTHONUNBUFFERED": "1"}

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.get("/__twin/state").json()
        return data

    def counters(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.get("/__twin/counters").json()
        return data

    def post(self, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.http.post(f"/api/v1/orgs/{self.org_id}/{collection}", json=body)
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data

    def faults(self, **knobs: Any) -> None:
        assert self.http.put("/__twin/faults", json=knobs).status_code == 200

    def cli(self, *args: str, timeout: float = 240) -> tuple[int, str]:
        done = subprocess.run([sys.executable, "-m", "mistctl", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        return done.returncode, done.stdout + done.stderr

    def plan(self, fleet: Path) -> dict[str, Any]:
        code, out = self.cli("plan", str(fleet), "--json")
        assert code == 0, out[-2000:]
        data, _end = json.JSONDecoder().raw_decode(out[out.index("{"):])  # stderr (the banner) follows
        assert isinstance(data, dict)
        return data


@contextmanager
def _twin(tmp: Path, **config: Any) -> Iterator[Twin]:
    with running_twin(TwinConfig(**config)) as (url, org_id, token):
        twin = Twin(url, org_id, token, tmp)
        try:
            yield twin
        finally:
            twin.http.close()


def _setup(tmp: Path, twin: Twin) -> tuple[Path, dict[str, Any]]:
    """Apply fleet A, then add objects through the Mist API; fleet B and what mistctl must leave alone."""
    a, b = _fleets(tmp)
    code, out = twin.cli("apply", str(a), "--yes")
    assert code == 0, out[-3000:]
    state = twin.state()
    old_rf = next(t["id"] for t in state["rftemplates"] if t["name"] == "old-rf")
    wifi = next(t["id"] for t in state["templates"] if t["name"] == "store-wifi")
    gone = next(s["id"] for s in state["sites"] if s["name"] == GONE_SITE)
    extra = {
        "label": twin.post("wxtags", {"name": "manual-label", "type": "match", "match": "ip_range_subnet",
                                      "op": "in", "values": ["192.168.0.0/16"]}),
        "site": twin.post("sites", {"name": "Manual-Store", "rftemplate_id": old_rf}),
        "wlan": twin.post("wlans", {"ssid": "Manual-WLAN", "template_id": wifi}),
        "macs": sorted(d["mac"] for d in state["inventory"] if d.get("site_id") == gone),
    }
    assert len(extra["macs"]) == 4
    return b, extra


def _keys(state: dict[str, Any], kind: K.Kind) -> Counter[str]:
    objs = state.get(kind.collection, [])
    if kind is K.HUB_PROFILES:
        objs = [o for o in objs if o.get("type") == "gateway"]
    templates = {o["id"]: o["name"] for o in state.get("templates", [])}
    return Counter(natural_key(kind, o, templates.get(o.get("template_id"))) for o in objs)


def _assert_exact(state: dict[str, Any], fleet: Path, extra: dict[str, Any]) -> None:
    """Every kind holds exactly the fleet's objects plus those made outside mistctl (and old-rf, still used)."""
    data = yaml.safe_load(fleet.read_text())
    outside = {"labels": ["manual-label"], "wlans": ["store-wifi/Manual-WLAN"], "rf_templates": ["old-rf"]}
    for kind in K.ORG_KINDS:
        wanted = Counter([natural_key(kind, e, e.get("template")) for e in data["org"].get(kind.key, [])]
                         + outside.get(kind.key, []))
        assert _keys(state, kind) == wanted, kind.key
    sites = Counter(s["name"] for s in state["sites"])
    assert sites == Counter([s["name"] for s in data["sites"] if "name" in s] + ["Manual-Store"])
    released = {d["mac"]: d for d in state["inventory"] if d["mac"] in extra["macs"]}
    assert sorted(released) == extra["macs"], "the store's devices stay claimed in the org inventory"
    assert all(not d.get("site_id") for d in released.values()), "unassigned back to the org inventory"


def test_a_fleet_that_loses_objects_deletes_exactly_them_only_with_consent(tmp_path: Path) -> None:
    with _twin(tmp_path) as twin:
        fleet, extra = _setup(tmp_path, twin)
        plan = twin.plan(fleet)
        deletes = [(c["kind"], c["key"]) for c in plan["changes"] if c["action"] == "delete"]
        assert set(deletes) == EXPECTED_DELETES and len(deletes) == 5
        assert [k for k, _ in deletes] == DELETE_ORDER  # policies before labels, sites before their templates
        assert plan["summary"]["delete"] == 5 and plan["by_kind"]["labels"]["delete"] == 1
        assert plan["estimated_calls"] == 6  # one call per object, plus the store's unassign
        kept = [p for p in plan["problems"] if p["key"] == "old-rf"]
        assert kept and "site 'Manual-Store'" in kept[0]["message"]
        code, out = twin.cli("plan", str(fleet), "--detailed-exitcode")
        assert code == 4 and "5 to delete" in out and "kept: still used by site 'Manual-Store'" in out, out

        before = twin.state()
        code, out = twin.cli("apply", str(fleet), "--yes")
        assert code == 0 and "--allow-delete" in out, out[-2000:]
        assert twin.state() == before  # nothing written without consent

        code, out = twin.cli("apply", str(fleet), "--yes", "--allow-delete")
        assert code == 0, out[-2000:]
        assert "--release-devices" in out and f"kept sites {GONE_SITE}" in out
        assert GONE_SITE in {s["name"] for s in twin.state()["sites"]}  # the store with devices stays

        calls = twin.counters()["by_route"]
        code, out = twin.cli("apply", str(fleet), "--yes", "--allow-delete", "--release-devices")
        assert code == 0 and f"deleted sites {GONE_SITE}" in out, out[-2000:]
        spent = Counter(twin.counters()["by_route"]) - Counter(calls)
        writes = {route: n for route, n in spent.items() if not route.startswith("GET")}
        assert writes == {"DELETE /api/v1/sites/{site_id}": 1, "PUT /api/v1/orgs/{org_id}/inventory": 1}

        _assert_exact(twin.state(), fleet, extra)
        final = twin.plan(fleet)
        assert final["changes"] == [] and final["summary"]["delete"] == 0
        code, out = twin.cli("plan", str(fleet), "--detailed-exitcode")
        assert code == 0 and "No changes" in out, out
        code, out = twin.cli("status", "--site", GONE_SITE)
        assert code == 0 and "decommissioned" in out, out
        code, out = twin.cli("audit", "--limit", "50")
        assert code == 0 and "DELETE" in out


def _apply_killed(twin: Twin, fleet: Path, after_calls: int) -> int:
    """`mistctl apply --allow-delete --release-devices`, SIGKILLed once the twin answered that many more calls."""
    return cli_killed(twin, ["apply", str(fleet), "--yes", "--allow-delete", "--release-devices"], after_calls)


def cli_killed(twin: Twin, args: list[str], after_calls: int) -> int:
    """`mistctl ARGS`, SIGKILLed once the twin answered that many more calls; its return code."""
    cmd = [sys.executable, "-m", "mistctl", *args]
    start = twin.counters()["total"]
    proc = subprocess.Popen(cmd, env=twin.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while proc.poll() is None and twin.counters()["total"] - start < after_calls and time.monotonic() < deadline:
        time.sleep(0.003)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return proc.returncode


def test_sigkill_in_the_middle_of_deletes_then_rerun_ends_exact(tmp_path: Path) -> None:
    rng = random.Random(12)
    with _twin(tmp_path, latency_ms=40, jitter_ms=10) as twin:
        fleet, extra = _setup(tmp_path, twin)
        kills, left = 0, []
        for _ in range(3):
            plan = twin.plan(fleet)
            left.append(plan["summary"]["delete"])
            if plan["estimated_calls"] < 2:
                break
            at = plan["read_calls"] + rng.randint(1, plan["estimated_calls"] - 1)
            kills += _apply_killed(twin, fleet, at) == -signal.SIGKILL
        assert kills >= 1 and any(0 < n < 5 for n in left), left  # killed between two deletes at least once
        code, out = twin.cli("apply", str(fleet), "--yes", "--allow-delete", "--release-devices")
        assert code == 0, out[-2000:]
        _assert_exact(twin.state(), fleet, extra)
        assert twin.plan(fleet)["changes"] == []


def test_deletes_under_server_errors_and_dropped_answers_end_exact(tmp_path: Path) -> None:
    with _twin(tmp_path) as twin:
        fleet, extra = _setup(tmp_path, twin)
        twin.faults(fault_rate=0.2, drop_rate=0.5, seed=7)
        for _ in range(5):
            code, out = twin.cli("apply", str(fleet), "--yes", "--allow-delete", "--release-devices")
            if code == 0:
                break
        twin.faults(fault_rate=0.0, drop_rate=0.0)
        counters = twin.counters()
        assert counters["dropped"] > 0, (counters, out)  # deletes performed whose answers were lost, then looked up
        _assert_exact(twin.state(), fleet, extra)
        assert twin.plan(fleet)["changes"] == []
        code, out = twin.cli("status", "--site", GONE_SITE)
        assert "decommissioned" in out
