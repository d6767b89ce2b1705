"""Daily operations of the CLI (#14): version, completion, help, run ids, confirmation, --json, profiles."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from mistctl import __version__
from mistctl.cli.main import app


def _run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env, input=stdin)
    return result.exit_code, result.output


def test_version_flag_and_completion_are_offered() -> None:
    code, out = _run("--version")
    assert code == 0 and out.strip() == f"mistctl {__version__}"
    code, out = _run("--help", env={"COLUMNS": "120"})
    assert code == 0 and "--install-completion" in out and "--show-completion" in out
    # what the installed completion script asks: the words so far; the commands that fit
    done = CliRunner().invoke(app, [], prog_name="mistctl", env={
        "_MISTCTL_COMPLETE": "complete_bash", "COMP_WORDS": "mistctl psk ro", "COMP_CWORD": "2"})
    assert done.exit_code == 0 and done.output.split() == ["rotate"]


def test_boolean_options_are_shown_as_flags_and_help_wraps_to_the_width() -> None:
    code, out = _run("upgrade", "--help", env={"COLUMNS": "200"})
    assert code == 0
    dry = next(line for line in out.splitlines() if "--dry-run" in line)
    assert "<bool>" not in out and "bool" not in dry.lower()
    assert "<str>" in next(line for line in out.splitlines() if "--soak" in line)  # value options keep theirs
    assert "is put back on the versions it ran" in out  # the docstring's line break is gone
    code, narrow = _run("upgrade", "--help", env={"COLUMNS": "70"})
    assert code == 0 and max(len(line) for line in narrow.splitlines()) <= 70


def test_workdir_is_untouched_by_help(workdir: Path) -> None:
    assert _run("apply", "--help")[0] == 0
    assert not (workdir / ".mistctl").exists()


def _seed_runs(ids: list[str]) -> None:
    """Runs and one audited write each in the working directory's state store (as an apply leaves them)."""
    from mistctl.bootstrap import open_store_from_env
    from mistctl.store.models import AuditEntry, Run

    async def seed() -> None:
        async with open_store_from_env() as store:
            for n, run_id in enumerate(ids):
                await store.create_run(Run(id=run_id, kind="apply", org_id="o-1", status="completed"))
                await store.append_audit(AuditEntry(run_id=run_id, method="POST", path=f"/api/v1/orgs/o-1/w{n}",
                                                    kind="networks", name=f"net-{n}", status=200))

    asyncio.run(seed())


def test_status_and_audit_take_the_short_id_they_print(workdir: Path) -> None:
    a, b, c = "abc12345" + "0" * 24, "abc19999" + "1" * 24, "def00000" + "2" * 24
    _seed_runs([a, b, c])
    code, out = _run("status", env={"COLUMNS": "200"})
    assert code == 0 and "abc12345" in out and a not in out  # the short id, which --run takes
    code, out = _run("status", "--run", "abc12345", env={"COLUMNS": "200"})
    assert code == 0 and "abc12345" in out and "abc19999" not in out and "def00000" not in out
    code, out = _run("audit", "--run", "def0", env={"COLUMNS": "200"})
    assert code == 0 and "/w2" in out and "/w0" not in out and "/w1" not in out


def test_an_ambiguous_or_unknown_run_id_is_an_error(workdir: Path) -> None:
    a, b = "abc12345" + "0" * 24, "abc19999" + "1" * 24
    _seed_runs([a, b])
    for command in ("status", "audit"):
        code, out = _run(command, "--run", "abc1")
        assert code == 2 and "ambiguous" in out and a in out and b in out, out
        code, out = _run(command, "--run", "0ff1ce")
        assert code == 2 and "no run '0ff1ce'" in out and "Traceback" not in out, out


def _json_fleet(workdir: Path, sites: int) -> str:
    data = yaml.safe_load((workdir / "examples" / "fleet.yaml").read_text())
    data["sites"] = data["sites"][:sites]
    path = workdir / "examples" / "fleet.json"
    path.write_text(json.dumps(data, indent=2))
    return str(path)


def test_apply_takes_a_json_fleet_file_and_a_plan_saved_under_any_name(workdir: Path) -> None:
    fleet = _json_fleet(workdir, 2)
    assert _run("validate", fleet)[0] == 0
    code, out = _run("apply", fleet, "--yes")
    assert code == 0 and "2 sites done, 0 failed" in out, out
    code, out = _run("plan", fleet, "--json")
    assert json.loads(out[out.index("{"):])["summary"]["create"] == 0  # the twin holds what the fleet says
    data = yaml.safe_load(Path(fleet).read_text())
    data["sites"] = yaml.safe_load((workdir / "examples" / "fleet.yaml").read_text())["sites"][:3]
    Path(fleet).write_text(json.dumps(data))
    assert _run("plan", fleet, "--out", "saved.plan")[0] == 0
    code, out = _run("apply", "saved.plan")  # a saved plan (no --yes needed: it was reviewed), by content
    assert code == 0 and "3 sites done, 0 failed" in out and "Store-PHL-003" in out, out
    code, out = _run("plan", fleet, "--json")
    assert json.loads(out[out.index("{"):])["summary"]["create"] == 0


def test_apply_fleet_with_fleet_option_is_refused_naming_both(workdir: Path) -> None:
    fleet = _json_fleet(workdir, 1)
    code, out = _run("apply", fleet, "--fleet", "examples/fleet.yaml", "--yes")
    assert code == 2 and "--fleet goes with a saved plan" in out
    assert not (workdir / ".mistctl").exists()  # refused before any store or Mist is opened


def _record_services(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[tuple[int, int]]:
    """(sites at once, the Mist client's call slots) of every command's services, as opened."""
    from contextlib import asynccontextmanager

    from mistctl import bootstrap

    seen: list[tuple[int, int]] = []

    @asynccontextmanager
    async def recording(**kwargs: Any) -> Any:
        async with bootstrap.open_services(**kwargs) as svc:
            seen.append((svc.concurrency, svc.mist._session._slots._value))
            yield svc

    monkeypatch.setattr(module, "open_services", recording)
    return seen


def test_one_concurrency_knob_sets_sites_and_calls_in_flight(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mistctl.cli import day2_cmds, deploy_cmds

    fleet = _json_fleet(workdir, 2)
    seen = _record_services(monkeypatch, deploy_cmds)
    code, out = _run("apply", fleet, "--yes", "--concurrency", "16", env={"COLUMNS": "200"})
    assert code == 0 and "16 sites and 16 Mist calls at once" in out, out
    assert seen == [(16, 16)]
    seen.clear()
    code, out = _run("apply", fleet, "--yes", env={"MIST_CONCURRENCY": "3", "COLUMNS": "200"})
    assert code == 0 and seen == [(3, 3)]  # the variable is the flag's default
    drift_seen = _record_services(monkeypatch, day2_cmds)
    code, out = _run("drift", fleet, "--concurrency", "5")
    assert code == 0 and drift_seen == [(5, 5)], out
    code, out = _run("apply", fleet, "--concurrency", "65")
    assert code == 2 and "--concurrency" in out


def _two_sites(workdir: Path) -> str:
    fleet = _json_fleet(workdir, 2)
    assert _run("apply", fleet, "--yes")[0] == 0
    return fleet


def _on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from mistctl.cli import confirm

    monkeypatch.setattr(confirm, "interactive", lambda: True)


def _upgrade_runs() -> int:
    from mistctl.bootstrap import open_store_from_env

    async def count() -> int:
        async with open_store_from_env() as store:
            return sum(r.kind == "upgrade" for r in await store.list_runs(limit=100))

    return asyncio.run(count())


def test_upgrade_asks_with_its_waves_and_a_no_changes_nothing(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = _two_sites(workdir)
    args = ("upgrade", fleet, "--version", "0.14.29850", "--device-type", "ap", "--soak", "0s")
    code, out = _run(*args)
    assert code == 2 and "pass --yes" in out and "Devices by wave" not in out  # refused before reading anything
    _on_a_terminal(monkeypatch)
    code, out = _run(*args, stdin="n\n", env={"COLUMNS": "200"})
    assert code == 2 and "Nothing changed" in out, out
    assert "upgrade 3 device(s) at 2 site(s) to 0.14.29850 in 3 wave(s)" in out and "Start this rollout?" in out
    assert "nyc001-ap1" in out and "AP45" in out and "0.14.29543" in out
    assert _upgrade_runs() == 0
    code, out = _run(*args, "--dry-run", env={"COLUMNS": "200"})  # still on the old version everywhere
    assert code == 0 and out.count("0.14.29543") == 3 and "would be upgraded" in out


def test_psk_rotate_and_finish_ask_first(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _two_sites(workdir)
    code, out = _run("psk", "rotate", "--name", "shelf-labels")
    assert code == 2 and "pass --yes" in out
    _on_a_terminal(monkeypatch)
    code, out = _run("psk", "rotate", "--name", "shelf-labels", "--grace", "86399", stdin="n\n")
    assert code == 2 and "rotate the passphrase of shelf-labels" in out and "23h59m" in out, out
    code, out = _run("psk", "list", env={"COLUMNS": "200"})
    assert "shelf-labels" in out and "mistctl" not in out.split("shelf-labels")[1].splitlines()[0]
    code, out = _run("psk", "rotate", "--name", "shelf-labels", stdin="y\n", env={"COLUMNS": "200"})
    assert code == 0 and "shown once" in out, out
    code, out = _run("psk", "finish", "--all", "--force", stdin="n\n")
    assert code == 2 and "even before their grace period is over" in out and "old passphrase removed" not in out
    code, out = _run("psk", "finish", "--all", "--force", stdin="y\n")
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


def _stdout(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Exit code and stdout alone (what a pipeline reads; banners and prompts go to stderr)."""
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout


def test_status_audit_validate_json(workdir: Path) -> None:
    a, c = "abc12345" + "0" * 24, "def00000" + "2" * 24
    _seed_runs([a, c])
    code, out = _stdout("status", "--json")
    data = json.loads(out)
    assert code == 0 and {r["id"] for r in data["runs"]} == {a, c} and all("plan" not in r for r in data["runs"])
    code, out = _stdout("audit", "--run", "def", "--json")
    entries = json.loads(out)["entries"]
    assert code == 0 and [e["path"] for e in entries] == ["/api/v1/orgs/o-1/w1"] and entries[0]["run_id"] == c
    code, out = _stdout("validate", "examples/fleet.yaml", "--json")
    assert code == 0 and json.loads(out) == {"ok": True, "sites": 20, "zones": 3, "org_objects": json.loads(out)[
        "org_objects"], "planless_sites": 0}
    Path("bad.yaml").write_text("ip_plan: {supernet: 10.0.0.0/8}\nzones: []\nsites: []\nsite_defualts: {}\n")
    code, out = _stdout("validate", "bad.yaml", "--json")
    verdict = json.loads(out)
    assert code == 2 and verdict["ok"] is False and any("site_defualts" in i["item"] + i["message"]
                                                        for i in verdict["issues"])


def test_probe_and_psk_list_json_hold_no_secret(workdir: Path) -> None:
    fleet = _two_sites(workdir)
    secrets = [p["passphrase"] for p in yaml.safe_load(Path(fleet).read_text())["org"]["psks"]]
    code, out = _stdout("probe", "--json")
    probe = json.loads(out)
    assert code == 0 and probe["ok"] is True and probe["target"].startswith("built-in Mist twin")
    assert [c["name"] for c in probe["tokens"][0]["checks"]][:2] == ["cloud reachable", "token valid"]
    code, out = _stdout("psk", "list", "--json")
    psks = json.loads(out)["psks"]
    assert code == 0 and "shelf-labels" in {p["name"] for p in psks}
    assert not any(secret in out for secret in secrets) and "passphrase\"" not in out


def test_apply_json_streams_one_event_per_line_and_ends_with_the_report(workdir: Path) -> None:
    fleet = _json_fleet(workdir, 2)
    code, out = _stdout("apply", fleet, "--yes", "--json")
    events = [json.loads(line) for line in out.splitlines()]  # every line is one JSON object
    assert code == 0 and events[0]["type"] == "plan" and events[0]["summary"]["create"] > 0
    assert events[1]["type"] == "run" and events[-1]["type"] == "report"
    report = events[-1]
    assert report["ok"] is True and sorted(report["sites_done"]) == ["Store-BOS-002", "Store-NYC-001"]
    assert report["writes"] > 0 and {"step", "site_done"} <= {e["type"] for e in events}
    code, out = _stdout("status", "--run", report["run_id"][:8], "--json")
    assert json.loads(out)["runs"][0]["status"] == "completed"
    code, out = _stdout("apply", fleet, "--yes", "--json")
    again = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and again[-1] == again[-1] | {"type": "report", "writes": 0, "run_id": None}


def test_psk_list_shows_times_and_durations_in_one_human_form(workdir: Path) -> None:
    _two_sites(workdir)
    assert _run("psk", "rotate", "--name", "shelf-labels", "--grace", "24h", "--yes")[0] == 0
    code, out = _run("psk", "list", env={"COLUMNS": "200"})
    row = next(line for line in out.splitlines() if "shelf-labels" in line)
    assert code == 0 and re.search(r"│ (23h5\dm|1d) +│", row) and " UTC" in row, out  # 24h less the time since
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", row) and "+00:00" not in row  # no microseconds, one form


def test_validate_reports_an_unknown_top_level_key_at_its_own_line(workdir: Path) -> None:
    text = (workdir / "examples" / "fleet.yaml").read_text().replace("\nsite_defaults:", "\nsite_defualts:")
    (workdir / "examples" / "typo.yaml").write_text(text)
    line = text.splitlines().index("site_defualts:") + 1
    assert line > 100  # far from the top, where it used to be reported
    code, out = _run("validate", "examples/typo.yaml", env={"COLUMNS": "200"})
    assert code == 2 and f"examples/typo.yaml:{line}: fleet file: unknown top-level key 'site_defualts'" in out
    assert "did you mean 'site_defaults'" in out
    code, out = _stdout("validate", "examples/typo.yaml", "--json")
    assert [i["line"] for i in json.loads(out)["issues"] if "site_defualts" in i["message"]] == [line]


PROFILES = """
[profiles.eu]
mistctl_state = "sqlite:///eu.db"
MIST_ORG_ID = "org-eu"

[profiles.typo]
mist_hots = "api.eu.mist.com"
"""


def test_profiles_dotenv_and_environment_in_that_order(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTCTL_PROFILE", raising=False)
    (workdir / ".mistctl").mkdir()
    (workdir / ".mistctl" / "profiles.toml").write_text(PROFILES)
    assert _run("--profile", "eu", "status")[0] == 0
    assert (workdir / "eu.db").exists() and not (workdir / ".mistctl" / "state.db").exists()
    (workdir / ".env").write_text("MISTCTL_STATE=sqlite:///dotenv.db\n")
    assert _run("--profile", "eu", "status")[0] == 0 and (workdir / "dotenv.db").exists()  # .env before profile
    assert _run("--profile", "eu", "status", env={"MISTCTL_STATE": "sqlite:///envvar.db"})[0] == 0
    assert (workdir / "envvar.db").exists()  # the environment before .env
    from mistctl.config import Settings

    assert Settings().mist_org_id is None  # the profile was for that command only


def test_a_user_profile_and_bad_profiles_are_named(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = workdir / "home-config"
    (config / "mistctl").mkdir(parents=True)
    (config / "mistctl" / "profiles.toml").write_text('[profiles.lab]\nmistctl_state = "sqlite:///lab.db"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    assert _run("status", env={"MISTCTL_PROFILE": "lab"})[0] == 0 and (workdir / "lab.db").exists()
    code, out = _run("--profile", "nope", "status", env={"COLUMNS": "200"})
    assert code == 2 and "no profile 'nope'" in out and "profiles found: lab (" in " ".join(out.split())
    assert "Traceback" not in out
    (workdir / ".mistctl").mkdir(exist_ok=True)
    (workdir / ".mistctl" / "profiles.toml").write_text(PROFILES)
    code, out = _run("--profile", "typo", "status", env={"COLUMNS": "200"})
    assert code == 2 and "unknown setting(s) mist_hots" in out


def test_cancel_and_upgrade_rollback_take_a_short_id_too(workdir: Path) -> None:
    from mistctl.bootstrap import open_store_from_env
    from mistctl.store.models import Run

    running = "feed1234" + "3" * 24

    async def seed_and_read(seed: bool) -> bool:
        async with open_store_from_env() as store:
            if seed:
                await store.create_run(Run(id=running, kind="apply", org_id="o-1", status="running"))
            run = await store.get_run(running)
            return bool(run and run.cancel_requested)

    assert asyncio.run(seed_and_read(True)) is False
    code, out = _run("cancel", "feed12")
    assert code == 0 and f"run {running}: cancel requested" in out, out
    assert asyncio.run(seed_and_read(False)) is True
    code, out = _run("upgrade", "examples/fleet.yaml", "--rollback", "0ff1ce", "--dry-run")
    assert code == 2 and "no run '0ff1ce'" in out, out
