"""`mistctl conformance` end to end against a real twin over HTTP: as modelled, then with quirks.

The twin is the judge: its own state says nothing was left behind, and its own counters say how many
calls the run spent (which must be what the report prints).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from mist_twin.config import TwinConfig
from mistctl.cli.main import app
from tests.support.twin import running_twin

pytestmark = pytest.mark.slow


def conformance(base_url: str, token: str, org_id: str, *args: str) -> tuple[int, str]:
    env = {"MIST_HOST": base_url, "MIST_APITOKEN": token, "MIST_ORG_ID": org_id, "MISTCTL_STATE": None}
    result = CliRunner().invoke(app, ["conformance", *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {a["assumption"]: a["outcome"] for a in report["assumptions"]}


def assert_nothing_left(base_url: str) -> None:
    state = httpx.get(f"{base_url}/__twin/state").json()
    assert state["sites"] == [] and state["sitegroups"] == [] and state["psks"] == []
    assert state["site_settings"] == []


def api_calls(base_url: str) -> int:
    total: int = httpx.get(f"{base_url}/__twin/counters").json()["total"]
    return total


def test_every_assumption_holds_on_the_twin_and_nothing_is_left_behind() -> None:
    with running_twin(TwinConfig(device_count=0)) as (base_url, org_id, token):
        code, out = conformance(base_url, token, org_id, "--json")
        report = json.loads(out)
        assert code == 0, out
        assert set(outcomes(report).values()) == {"holds"}
        assert report["ok"] is True and report["error"] is None and report["left_behind"] == []
        assert report["calls"] <= 40 and report["calls"] == api_calls(base_url)
        assert [m["collection"] for m in report["created"]] == ["sitegroups", "sites", "psks"]
        assert all(m["name"].startswith("mistctl-conformance-") and m["id"] for m in report["created"])
        assert_nothing_left(base_url)
        code, table = conformance(base_url, token, org_id)
        assert code == 0 and "conformance ok" in table and "calls spent:" in table and token not in table
        assert_nothing_left(base_url)


def test_a_twin_that_merges_vars_and_omits_page_totals_is_reported_and_still_cleaned_up() -> None:
    with running_twin(TwinConfig(device_count=0)) as (base_url, org_id, token):
        quirks = {"vars_merge": True, "no_page_total": True, "psk_copies_old": True}
        assert httpx.put(f"{base_url}/__twin/quirks", json=quirks).status_code == 200
        code, out = conformance(base_url, token, org_id, "--json")
        report = json.loads(out)
        assert code == 1, out
        seen = outcomes(report)
        assert (seen["vars_replace"], seen["page_headers"], seen["psk_no_copy_old"]) == ("differs",) * 3
        assert seen["site_create"] == seen["psk_keeps_sent_old"] == seen["psk_delete_old"] == "holds"
        by_key = {a["assumption"]: a for a in report["assumptions"]}
        assert by_key["vars_replace"]["saw"].startswith("merged")
        assert "complete map" in by_key["vars_replace"]["mistctl_does"]
        assert "no x-page-total" in by_key["page_headers"]["saw"]
        assert report["ok"] is False and report["calls"] <= 40
        assert_nothing_left(base_url)
        code, table = conformance(base_url, token, org_id)
        assert code == 1 and "differs" in table and "conformance FAILED" in table
        assert_nothing_left(base_url)


def test_a_read_only_token_stops_before_creating_anything() -> None:
    with running_twin(TwinConfig(device_count=0)) as (base_url, org_id, _token):
        reader = httpx.post(f"{base_url}/__twin/tokens", json={"role": "read"}).json()["token"]
        code, out = conformance(base_url, reader, org_id, "--json")
        report = json.loads(out)
        assert code == 1
        assert outcomes(report)["token_owner"] == "differs" and "cannot write" in report["error"]
        assert report["created"] == [] and report["calls"] == 2  # GET /self for the budget owner, then the check
        assert_nothing_left(base_url)


def test_ctrl_c_mid_run_deletes_what_was_made_and_exits_130() -> None:
    with running_twin(TwinConfig(device_count=0, latency_ms=150)) as (base_url, org_id, token):
        env = {**os.environ, "MIST_HOST": base_url, "MIST_APITOKEN": token, "MIST_ORG_ID": org_id}
        env.pop("MISTCTL_STATE", None)
        command = [sys.executable, "-c", "from mistctl.cli.main import main; main()", "conformance", "--json"]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not httpx.get(f"{base_url}/__twin/state").json()["sites"]:
            assert proc.poll() is None and time.monotonic() < deadline, "the run ended before making its site"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        report = json.loads(out)
        assert proc.returncode == 130, err
        assert report["interrupted"] is True and report["left_behind"] == []
        assert [m["collection"] for m in report["created"]][:2] == ["sitegroups", "sites"]
        assert "Traceback" not in err
        assert_nothing_left(base_url)
