"""Deletes on the workers: `mistctl apply --queue --allow-delete` with a real redis-server and `mistctl worker`.

A fleet loses a WLAN and a store with two devices. Queued without consent, nothing is deleted (the run
completes, the objects stay); queued with `--allow-delete --release-devices`, the worker's `finish` job
deletes them in the reverse order of creation, the org equals the fleet, and the store's devices are back
in the org inventory (still claimed).
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from mist_twin.config import TwinConfig
from tests.support.twin import running_twin
from tests.support.workers import DumpedTwin, claim_codes, fleet_data, mistctl_env, run_cli, running_worker, write_fleet

pytestmark = pytest.mark.redis

GONE = "W-00002"


def _fleets(tmp: Path, codes: list[str]) -> tuple[Path, Path, dict[str, Any]]:
    """Three stores (the last with two devices), and the same without that store and the WLAN Store-Guest."""
    a = fleet_data(3, codes[:3])
    a["sites"][2]["devices"].append({"claim_code": codes[3]})
    b = copy.deepcopy(a)
    b["sites"] = [s for s in b["sites"] if s["name"] != GONE]
    b["org"]["wlans"] = [w for w in b["org"]["wlans"] if w["ssid"] != "Store-Guest"]
    b["sites"][0]["address"] = "1 Moved St, Springfield"  # a change the workers make either way
    return write_fleet(tmp / "a.yaml", a), write_fleet(tmp / "b.yaml", b), b


def _routes(url: str) -> Counter[str]:
    return Counter(httpx.get(f"{url}/__twin/counters", timeout=30).json()["by_route"])


def _run_id(out: str) -> str:
    found = re.search(r"run ([0-9a-f]{32}) completed", out)
    assert found, out
    return found.group(1)


def test_queued_deletes_run_on_the_worker_only_with_consent(tmp_path: Path, redis_url: str) -> None:
    with running_twin(TwinConfig(device_count=10)) as (url, org_id, token):
        env = mistctl_env(url, token, org_id, f"{redis_url}?prefix=d-{uuid4().hex[:8]}:")
        a, b, wanted = _fleets(tmp_path, claim_codes(url, 4))
        with running_worker(env, tmp_path, "--concurrency", "2"):
            applied = run_cli(env, tmp_path, "apply", "a.yaml", "--yes", "--queue")
            assert applied.returncode == 0, applied.stdout + applied.stderr
            macs = sorted(d["mac"] for d in DumpedTwin(url).inventory()
                          if d.get("site_id") == next(s["id"] for s in DumpedTwin(url).objects("sites")
                                                      if s["name"] == GONE))
            assert len(macs) == 2
            calls = _routes(url)
            kept = run_cli(env, tmp_path, "apply", "b.yaml", "--yes", "--queue")
            assert kept.returncode == 0 and "--allow-delete" in kept.stdout, kept.stdout + kept.stderr
            _run_id(kept.stdout)  # the workers ran it
            spent = _routes(url) - calls
            assert not [r for r in spent if r.startswith("DELETE")]  # without consent: nothing deleted
            after = DumpedTwin(url)
            assert GONE in {s["name"] for s in after.objects("sites")}
            assert "Store-Guest" in {w["ssid"] for w in after.objects("wlans")}
            assert any(s.get("address") == "1 Moved St, Springfield" for s in after.objects("sites"))

            calls = _routes(url)
            done = run_cli(env, tmp_path, "apply", "b.yaml", "--yes", "--queue", "--allow-delete",
                           "--release-devices")
            assert done.returncode == 0, done.stdout + done.stderr
            run_id = _run_id(done.stdout)
            assert "; 2 deleted" in done.stdout, done.stdout
            spent = _routes(url) - calls
            again = run_cli(env, tmp_path, "plan", "b.yaml", "--json")
            audit = run_cli(env, tmp_path, "audit", "--run", run_id)
            status = run_cli(env, tmp_path, "status", "--site", GONE)
        twin = DumpedTwin(url)

    writes = {route: n for route, n in spent.items() if not route.startswith("GET")}
    assert writes == {"DELETE /api/v1/orgs/{org_id}/wlans/{wlan_id}": 1, "DELETE /api/v1/sites/{site_id}": 1,
                      "PUT /api/v1/orgs/{org_id}/inventory": 1}
    assert sorted(s["name"] for s in twin.objects("sites")) == sorted(s["name"] for s in wanted["sites"])
    assert sorted(w["ssid"] for w in twin.objects("wlans")) == sorted(w["ssid"] for w in wanted["org"]["wlans"])
    released = [d for d in twin.inventory() if d["mac"] in macs]
    assert len(released) == 2 and all(not d.get("site_id") for d in released)  # back in the org inventory
    plan = json.loads(again.stdout[again.stdout.index("{"):])
    assert plan["changes"] == [] and plan["summary"]["delete"] == 0, again.stdout
    assert audit.returncode == 0 and audit.stdout.count("DELETE") == 2, audit.stdout
    assert status.returncode == 0 and "decommissioned" in status.stdout, status.stdout
