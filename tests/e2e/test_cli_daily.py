"""Daily operations of the CLI (#14): version, completion, help, run ids, apply targets, one concurrency knob."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mistctl import __version__
from mistctl.cli.main import app
from tests.e2e.daily_support import (
    json_fleet,
    record_services,
    run,
    seed_runs,
    stdout,
)


def test_version_flag_and_completion_are_offered() -> None:
    code, out = run("--version")
    assert code == 0 and out.strip() == f"mistctl {__version__}"
    code, out = run("--help", env={"COLUMNS": "120"})
    assert code == 0 and "--install-completion" in out and "--show-completion" in out
    # what the installed completion script asks: the words so far; the commands that fit
    done = CliRunner().invoke(app, [], prog_name="mistctl", env={
        "_MISTCTL_COMPLETE": "complete_bash", "COMP_WORDS": "mistctl psk ro", "COMP_CWORD": "2"})
    assert done.exit_code == 0 and done.output.split() == ["rotate"]


def test_boolean_options_are_shown_as_flags_and_help_wraps_to_the_width() -> None:
    code, out = run("upgrade", "--help", env={"COLUMNS": "200"})
    assert code == 0
    dry = next(line for line in out.splitlines() if "--dry-run" in line)
    assert "<bool>" not in out and "bool" not in dry.lower()
    assert "<str>" in next(line for line in out.splitlines() if "--soak" in line)  # value options keep theirs
    assert "is put back on the versions it ran" in out  # the docstring's line break is gone
    code, out = run("apply", "--help", env={"COLUMNS": "200"})
    assert "Sites at once, and Mist calls in flight (default: MIST_CONCURRENCY, else 8)." in out
    code, narrow = run("upgrade", "--help", env={"COLUMNS": "70"})
    assert code == 0 and max(len(line) for line in narrow.splitlines()) <= 70


def test_workdir_is_untouched_by_help(workdir: Path) -> None:
    assert run("apply", "--help")[0] == 0
    assert not (workdir / ".mistctl").exists()


def test_status_and_audit_take_the_short_id_they_print(workdir: Path) -> None:
    a, b, c = "abc12345" + "0" * 24, "abc19999" + "1" * 24, "def00000" + "2" * 24
    seed_runs([a, b, c])
    code, out = run("status", env={"COLUMNS": "200"})
    assert code == 0 and "abc12345" in out and a not in out  # the short id, which --run takes
    code, out = run("status", "--run", "abc12345", env={"COLUMNS": "200"})
    assert code == 0 and "abc12345" in out and "abc19999" not in out and "def00000" not in out
    code, out = run("audit", "--run", "def0", env={"COLUMNS": "200"})
    assert code == 0 and "/w2" in out and "/w0" not in out and "/w1" not in out


def test_an_ambiguous_or_unknown_run_id_is_an_error(workdir: Path) -> None:
    a, b = "abc12345" + "0" * 24, "abc19999" + "1" * 24
    seed_runs([a, b])
    for command in ("status", "audit"):
        code, out = run(command, "--run", "abc1")
        assert code == 2 and "ambiguous" in out and a in out and b in out, out
        code, out = run(command, "--run", "0ff1ce")
        assert code == 2 and "no run '0ff1ce'" in out and "Traceback" not in out, out


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
    code, out = run("cancel", "feed12")
    assert code == 0 and f"run {running}: cancel requested" in out, out
    assert asyncio.run(seed_and_read(False)) is True
    code, out = run("upgrade", "examples/fleet.yaml", "--rollback", "0ff1ce", "--dry-run")
    assert code == 2 and "no run '0ff1ce'" in out, out


def test_apply_takes_a_json_fleet_file_and_a_plan_saved_under_any_name(workdir: Path) -> None:
    fleet = json_fleet(workdir, 2)
    assert run("validate", fleet)[0] == 0
    code, out = run("apply", fleet, "--yes")
    assert code == 0 and "2 sites done, 0 failed" in out, out
    code, out = run("plan", fleet, "--json")
    assert json.loads(out[out.index("{"):])["summary"]["create"] == 0  # the twin holds what the fleet says
    data = yaml.safe_load(Path(fleet).read_text())
    data["sites"] = yaml.safe_load((workdir / "examples" / "fleet.yaml").read_text())["sites"][:3]
    Path(fleet).write_text(json.dumps(data))
    assert run("plan", fleet, "--out", "saved.plan")[0] == 0
    code, out = run("apply", "saved.plan")  # a saved plan (no --yes needed: it was reviewed), by content
    assert code == 0 and "3 sites done, 0 failed" in out and "Store-PHL-003" in out, out
    code, out = run("plan", fleet, "--json")
    assert json.loads(out[out.index("{"):])["summary"]["create"] == 0


def test_apply_fleet_with_fleet_option_is_refused_naming_both(workdir: Path) -> None:
    fleet = json_fleet(workdir, 1)
    code, out = run("apply", fleet, "--fleet", "examples/fleet.yaml", "--yes")
    assert code == 2 and "--fleet goes with a saved plan" in out
    assert not (workdir / ".mistctl").exists()  # refused before any store or Mist is opened


def test_one_concurrency_knob_sets_sites_and_calls_in_flight(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mistctl.cli import day2_cmds, deploy_cmds

    fleet = json_fleet(workdir, 2)
    seen = record_services(monkeypatch, deploy_cmds)
    code, out = run("apply", fleet, "--yes", "--concurrency", "16", env={"COLUMNS": "200"})
    assert code == 0 and "16 sites and 16 Mist calls at once" in out, out
    assert seen == [(16, 16)]
    seen.clear()
    code, out = run("apply", fleet, "--yes", env={"MIST_CONCURRENCY": "3", "COLUMNS": "200"})
    assert code == 0 and seen == [(3, 3)]  # the variable is the flag's default
    drift_seen = record_services(monkeypatch, day2_cmds)
    code, out = run("drift", fleet, "--concurrency", "5")
    assert code == 0 and drift_seen == [(5, 5)], out
    code, out = run("apply", fleet, "--concurrency", "65")
    assert code == 2 and "--concurrency" in out


def test_validate_reports_an_unknown_top_level_key_at_its_own_line(workdir: Path) -> None:
    text = (workdir / "examples" / "fleet.yaml").read_text().replace("\nsite_defaults:", "\nsite_defualts:")
    (workdir / "examples" / "typo.yaml").write_text(text)
    line = text.splitlines().index("site_defualts:") + 1
    assert line > 100  # far from the top, where it used to be reported
    code, out = run("validate", "examples/typo.yaml", env={"COLUMNS": "200"})
    assert code == 2 and f"examples/typo.yaml:{line}: fleet file: unknown top-level key 'site_defualts'" in out
    assert "did you mean 'site_defaults'" in out
    code, out = stdout("validate", "examples/typo.yaml", "--json")
    assert [i["line"] for i in json.loads(out)["issues"] if "site_defualts" in i["message"]] == [line]
