"""Daily operations of the CLI (#14): confirmation, --json, one form for times, profiles and .env."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from tests.e2e.daily_support import (
    json_fleet,
    on_a_terminal,
    run,
    seed_runs,
    stdout,
    two_sites,
    upgrade_runs,
)


def test_upgrade_asks_with_its_waves_and_a_no_changes_nothing(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = two_sites(workdir)
    args = ("upgrade", fleet, "--version", "0.14.29850", "--device-type", "ap", "--soak", "0s")
    code, out = run(*args)
    assert code == 2 and "pass --yes" in out and "Devices by wave" not in out  # refused before reading anything
    on_a_terminal(monkeypatch)
    code, out = run(*args, stdin="n\n", env={"COLUMNS": "200"})
    assert code == 2 and "Nothing changed" in out, out
    assert "upgrade 3 device(s) at 2 site(s) to 0.14.29850 in 3 wave(s)" in out and "Start this rollout?" in out
    assert "nyc001-ap1" in out and "AP45" in out and "0.14.29543" in out
    assert upgrade_runs() == 0
    code, out = run(*args, "--dry-run", env={"COLUMNS": "200"})  # still on the old version everywhere
    assert code == 0 and out.count("0.14.29543") == 3 and "would be upgraded" in out


def test_psk_rotate_and_finish_ask_first(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    two_sites(workdir)
    code, out = run("psk", "rotate", "--name", "shelf-labels")
    assert code == 2 and "pass --yes" in out
    on_a_terminal(monkeypatch)
    code, out = run("psk", "rotate", "--name", "shelf-labels", "--grace", "86399", stdin="n\n")
    assert code == 2 and "rotate the passphrase of shelf-labels" in out and "23h59m" in out, out
    code, out = run("psk", "list", env={"COLUMNS": "200"})
    assert "shelf-labels" in out and "mistctl" not in out.split("shelf-labels")[1].splitlines()[0]
    code, out = run("psk", "rotate", "--name", "shelf-labels", stdin="y\n", env={"COLUMNS": "200"})
    assert code == 0 and "shown once" in out, out
    code, out = run("psk", "finish", "--all", "--force", stdin="n\n")
    assert code == 2 and "even before their grace period is over" in out and "old passphrase removed" not in out
    code, out = run("psk", "finish", "--all", "--force", stdin="y\n")
    assert code == 0 and "shelf-labels: old passphrase removed" in out, out


def test_off_a_terminal_a_real_process_refuses_without_yes(workdir: Path) -> None:
    import subprocess
    import sys

    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIST")} | {"PYTHONPATH": src}
    done = subprocess.run([sys.executable, "-c", "from mistctl.cli.main import main; main()", "psk", "rotate",
                           "--all"], stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                          cwd=workdir, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "not on a terminal" in done.stderr and "--yes" in done.stderr and "Traceback" not in done.stderr
    assert not (workdir / ".mistctl").exists()  # refused before the store or Mist was opened


def test_status_audit_validate_json(workdir: Path) -> None:
    a, c = "abc12345" + "0" * 24, "def00000" + "2" * 24
    seed_runs([a, c])
    code, out = stdout("status", "--json")
    data = json.loads(out)
    assert code == 0 and {r["id"] for r in data["runs"]} == {a, c} and all("plan" not in r for r in data["runs"])
    code, out = stdout("audit", "--run", "def", "--json")
    entries = json.loads(out)["entries"]
    assert code == 0 and [e["path"] for e in entries] == ["/api/v1/orgs/o-1/w1"] and entries[0]["run_id"] == c
    code, out = stdout("validate", "examples/fleet.yaml", "--json")
    assert code == 0 and json.loads(out) == {"ok": True, "sites": 20, "zones": 3, "org_objects": json.loads(out)[
        "org_objects"], "planless_sites": 0}
    Path("bad.yaml").write_text("ip_plan: {supernet: 10.0.0.0/8}\nzones: []\nsites: []\nsite_defualts: {}\n")
    code, out = stdout("validate", "bad.yaml", "--json")
    verdict = json.loads(out)
    assert code == 2 and verdict["ok"] is False and any("site_defualts" in i["item"] + i["message"]
                                                        for i in verdict["issues"])


def test_probe_and_psk_list_json_hold_no_secret(workdir: Path) -> None:
    fleet = two_sites(workdir)
    secrets = [p["passphrase"] for p in yaml.safe_load(Path(fleet).read_text())["org"]["psks"]]
    code, out = stdout("probe", "--json")
    probe = json.loads(out)
    assert code == 0 and probe["ok"] is True and probe["target"].startswith("built-in Mist twin")
    assert [c["name"] for c in probe["tokens"][0]["checks"]][:2] == ["cloud reachable", "token valid"]
    code, out = stdout("psk", "list", "--json")
    psks = json.loads(out)["psks"]
    assert code == 0 and "shelf-labels" in {p["name"] for p in psks}
    assert not any(secret in out for secret in secrets) and "passphrase\"" not in out


def test_apply_json_streams_one_event_per_line_and_ends_with_the_report(workdir: Path) -> None:
    fleet = json_fleet(workdir, 2)
    code, out = stdout("apply", fleet, "--yes", "--json")
    events = [json.loads(line) for line in out.splitlines()]  # every line is one JSON object
    assert code == 0 and events[0]["type"] == "plan" and events[0]["summary"]["create"] > 0
    assert events[1]["type"] == "run" and events[-1]["type"] == "report"
    report = events[-1]
    assert report["ok"] is True and sorted(report["sites_done"]) == ["Store-BOS-002", "Store-NYC-001"]
    assert report["writes"] > 0 and {"step", "site_done"} <= {e["type"] for e in events}
    code, out = stdout("status", "--run", report["run_id"][:8], "--json")
    assert json.loads(out)["runs"][0]["status"] == "completed"
    code, out = stdout("apply", fleet, "--yes", "--json")
    again = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and again[-1] == again[-1] | {"type": "report", "writes": 0, "run_id": None}


def test_psk_list_shows_times_and_durations_in_one_human_form(workdir: Path) -> None:
    two_sites(workdir)
    assert run("psk", "rotate", "--name", "shelf-labels", "--grace", "24h", "--yes")[0] == 0
    code, out = run("psk", "list", env={"COLUMNS": "200"})
    row = next(line for line in out.splitlines() if "shelf-labels" in line)
    assert code == 0 and re.search(r"│ (23h5\dm|1d) +│", row) and " UTC" in row, out  # 24h less the time since
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", row) and "+00:00" not in row  # no microseconds, one form


PROFILES = """
[profiles.eu]
mistctl_state = "sqlite:///eu.db"
MIST_ORG_ID = "org-eu"

[profiles.typo]
mist_hots = "api.eu.mist.com"
mist_apitoken = "tok-secret-123"
"""


def test_profiles_dotenv_and_environment_in_that_order(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTCTL_PROFILE", raising=False)
    (workdir / ".mistctl").mkdir()
    (workdir / ".mistctl" / "profiles.toml").write_text(PROFILES)
    assert run("--profile", "eu", "status")[0] == 0
    assert (workdir / "eu.db").exists() and not (workdir / ".mistctl" / "state.db").exists()
    (workdir / ".env").write_text("MISTCTL_STATE=sqlite:///dotenv.db\n")
    assert run("--profile", "eu", "status")[0] == 0 and (workdir / "dotenv.db").exists()  # .env before profile
    assert run("--profile", "eu", "status", env={"MISTCTL_STATE": "sqlite:///envvar.db"})[0] == 0
    assert (workdir / "envvar.db").exists()  # the environment before .env
    from mistctl.config import Settings

    assert Settings().mist_org_id is None  # the profile was for that command only


def test_a_user_profile_and_bad_profiles_are_named(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = workdir / "home-config"
    (config / "mistctl").mkdir(parents=True)
    (config / "mistctl" / "profiles.toml").write_text('[profiles.lab]\nmistctl_state = "sqlite:///lab.db"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    assert run("status", env={"MISTCTL_PROFILE": "lab"})[0] == 0 and (workdir / "lab.db").exists()
    code, out = run("--profile", "nope", "status", env={"COLUMNS": "200"})
    assert code == 2 and "no profile 'nope'" in out and "profiles found: lab (" in " ".join(out.split())
    assert "Traceback" not in out
    (workdir / ".mistctl").mkdir(exist_ok=True)
    (workdir / ".mistctl" / "profiles.toml").write_text(PROFILES)
    code, out = run("--profile", "typo", "status", env={"COLUMNS": "200"})
    assert code == 2 and "unknown setting(s) mist_hots" in out and "tok-secret-123" not in out
