"""`plan`, `apply --yes` and `drift` on hostile fleet files (against the built-in twin): exit 2 naming the
problem, no Python message, and nothing written: no twin state, no run in the state store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.cli_support import run

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
CASES = [
    ("huge_int.yaml", "an integer of 5000 digits"),
    ("alias_bomb.yaml", "aliases (*name) expand"),
    ("ssid_int.yaml", "ssid: must be a string"),
    ("auth_type_bogus.yaml", "auth.type: must be one of"),
    ("hide_ssid_yes.yaml", "hide_ssid: must be true or false"),
    ("bands_int.yaml", "bands: must be a list"),
    ("site_group_name_int.yaml", "name: must be a string"),
    ("zone_true.yaml", "zone: must be a number"),
    ("csv_parent.yaml", "is outside the fleet file's folder"),
]


@pytest.mark.parametrize(("fixture", "expected"), CASES)
def test_hostile_fleet_is_refused_by_plan_apply_and_drift(workdir: Path, fixture: str, expected: str) -> None:
    shutil.copy(HOSTILE / fixture, workdir / "fleet.yaml")
    for command in (["plan", "fleet.yaml"], ["apply", "fleet.yaml", "--yes"], ["drift", "fleet.yaml"]):
        code, out = run(*command)
        assert code == 2, (command, out)
        flat = " ".join(out.split())  # Rich wraps long lines off a terminal
        assert expected in flat, (command, out)
        assert "Traceback" not in out and "Exceeds the limit" not in out and "integer string conversion" not in out
    assert not (workdir / ".mistctl" / "twin.db").exists()  # Mist (the built-in twin) was never started
    code, out = run("status")
    assert code == 0 and "planned 0, provisioning 0, done 0, pending 0, failed 0" in out
