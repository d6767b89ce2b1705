"""The plan/apply/status/audit commands as a user runs them, against the built-in twin (cwd-local state)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.cli_support import run


def test_plan_json_then_apply_saved_plan_then_nothing_left(workdir: Path) -> None:
    code, out = run("plan", "examples/fleet.yaml", "--json", "--out", "plan.json")
    assert code == 0, out
    data = json.loads(out[out.index("{"):])
    assert data["summary"]["create"] > 0 and data["estimated_calls"] > 0
    assert {"summary", "estimated_calls", "changes"} <= set(data)
    code, out = run("apply", "plan.json")
    assert code == 0, out
    assert "20 sites done, 0 failed" in out
    code, out = run("plan", "examples/fleet.yaml", "--json")
    again = json.loads(out[out.index("{"):])
    assert again["summary"]["create"] == 0 and again["summary"]["update"] == 0 and again["changes"] == []
    code, out = run("status")
    assert code == 0 and "completed" in out and "done 20" in out
    code, out = run("audit", "--limit", "5")
    assert code == 0 and "POST" in out or "PUT" in out


def test_a_saved_plan_is_refused_once_applied(workdir: Path) -> None:
    assert run("plan", "examples/fleet.yaml", "--out", "plan.json")[0] == 0
    assert run("apply", "examples/fleet.yaml", "--yes")[0] == 0
    code, out = run("apply", "plan.json")
    assert code == 2 and "live org changed" in out


def test_apply_without_yes_off_a_terminal_refuses_and_writes_nothing(workdir: Path) -> None:
    code, out = run("apply", "examples/fleet.yaml")
    assert code == 2 and "--yes" in out
    code, out = run("plan", "examples/fleet.yaml", "--json")
    assert json.loads(out[out.index("{"):])["summary"]["create"] > 0


def test_invalid_fleet_is_exit_2_with_no_traceback(workdir: Path) -> None:
    Path("bad.yaml").write_text("ip_plan: {supernet: 10.0.0.0/33}\nzones: []\n")
    code, out = run("apply", "bad.yaml", "--yes")
    assert code == 2
    assert "Traceback" not in out and "bad.yaml" in out


def test_plan_for_an_unknown_site_names_it(workdir: Path) -> None:
    code, out = run("plan", "examples/fleet.yaml", "--site", "Store-NOPE-999")
    assert code == 2 and "Store-NOPE-999" in out
