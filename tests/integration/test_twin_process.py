"""The twin as a real process: the CLI ready line, dropped answers over TCP, state kept across a SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mist_twin.config import TwinConfig
from tests.support.twin import parse_ready_line, read_ready_line, running_twin, stop_process, twin_command


def test_cli_serve_generates_org_and_token_and_prints_them() -> None:
    with running_twin(TwinConfig(device_count=3), via_cli=True) as (url, org_id, token):
        assert url.startswith("http://127.0.0.1:") and len(token) > 20
        with httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}) as client:
            me = client.get("/api/v1/self").json()
            pool = client.get("/__twin/devices").json()
    assert me["privileges"][0]["org_id"] == org_id and len(pool) == 3


def test_given_token_is_not_echoed_and_dropped_answers_cut_the_connection() -> None:
    config = TwinConfig(
        token="my-secret-token-123", org_id="a97c1b22-a4e9-411e-9bfd-d8695a0f9e61", drop_rate=1.0
    )
    with running_twin(config) as (url, org_id, token):
        assert org_id == config.org_id and token == config.token
        with httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}) as client:
            with pytest.raises(httpx.TransportError):
                client.post(f"/api/v1/orgs/{org_id}/sitegroups", json={"name": "performed"})
            groups = client.get(f"/api/v1/orgs/{org_id}/sitegroups").json()
            client.put("/__twin/faults", json={"drop_rate": 0, "fault_rate": 1.0})
            fault = client.get("/api/v1/self")
            counters = client.get("/__twin/counters").json()
    assert [g["name"] for g in groups] == ["performed"], "the write happened before the answer was lost"
    assert fault.status_code in (500, 502, 503)
    assert counters["dropped"] == 1


def test_ready_line_hides_a_given_token() -> None:
    command = twin_command(TwinConfig(token="do-not-print-me"), via_cli=False)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = read_ready_line(proc, timeout=30)
    finally:
        stop_process(proc)
        assert proc.stdout is not None
        proc.stdout.close()
    assert line.endswith("token=(as given)") and "do-not-print-me" not in line


def test_state_survives_sigkill_and_restart(tmp_path: Path) -> None:
    state = tmp_path / "twin.sqlite"
    proc = subprocess.Popen(twin_command(TwinConfig(state_file=state, inventory_count=2), via_cli=False),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        url, org_id, token = parse_ready_line(read_ready_line(proc, timeout=30))
        with httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}) as client:
            site = client.post(f"/api/v1/orgs/{org_id}/sites", json={"name": "Brest"}).json()
            client.put(f"/api/v1/sites/{site['id']}/setting", json={"vars": {"N": "1"}})
            macs = [d["mac"] for d in client.get(f"/api/v1/orgs/{org_id}/inventory").json()]
            assign = {"op": "assign", "site_id": site["id"], "macs": macs[:1]}
            assert client.put(f"/api/v1/orgs/{org_id}/inventory", json=assign).status_code == 200
    finally:
        stop_process(proc, signal.SIGKILL)  # no clean shutdown: only what was committed survives
        assert proc.stdout is not None
        proc.stdout.close()
    with running_twin(TwinConfig(state_file=state)) as (url2, org2, token2):
        with httpx.Client(base_url=url2, headers={"Authorization": f"Token {token}"}) as client:
            sites = client.get(f"/api/v1/orgs/{org_id}/sites").json()
            setting = client.get(f"/api/v1/sites/{site['id']}/setting").json()
            inventory = client.get(f"/api/v1/orgs/{org_id}/inventory", params={"site_id": site["id"]}).json()
    assert (org2, token2) == (org_id, token), "org id and admin token persist"
    assert [s["name"] for s in sites] == ["Brest"] and setting["vars"] == {"N": "1"}
    assert [d["mac"] for d in inventory] == macs[:1]


def test_bad_option_gives_a_clear_message() -> None:
    command = [sys.executable, "-m", "mist_twin", "--fault-rate", "3"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert (
        done.returncode == 2
        and done.stderr.startswith("mist twin: --fault-rate:")
        and "Traceback" not in done.stderr
    )
