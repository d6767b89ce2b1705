"""Names that cannot attack a terminal: refused by `validate` and the service, escaped by every CLI table.

A hostile name clears the screen (`ESC[2J`), retitles the terminal (OSC 0) or injects Rich markup. The
records printed here are seeded straight into the SQLite state file (as an older mistctl, or Mist, could
have left them); `status` and `audit` run as real processes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mistctl.cli.main import app
from mistctl.store import AuditEntry, Run, SiteState, StepRecord, open_store
from tests.integration.test_api_support import full_stack_body, service

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;pwned\x07"
HOSTILE = f"Store{CLEAR}X{TITLE}[bold]Y"
ORG = "org-hostile"


def _no_raw_control(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text, repr(text[:400])


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    for name in ("fleet.yaml", "sites.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path / "fleet.yaml"


def test_validate_refuses_control_characters_in_names_and_prints_them_escaped(example: Path) -> None:
    text = example.read_text().replace("name: Store-NYC-001", 'name: "Store-NYC-001\\e[2J"', 1)
    text = text.replace("{name: flagship}", '{name: "flag\\e]0;pwned\\aship"}', 1)
    example.write_text(text)
    result = CliRunner().invoke(app, ["validate", str(example)])
    assert result.exit_code == 2, result.output
    _no_raw_control(result.output)
    assert "site 'Store-NYC-001\\x1b[2J'" in result.output and "\\x1b" in result.output
    assert "org.site_groups[1].name" in result.output and "\\x07" in result.output
    assert "control character" in result.output and "Traceback" not in result.output


def test_validate_refuses_a_bidi_override_in_a_csv_site(example: Path) -> None:
    csv = example.parent / "sites.csv"
    lines = csv.read_text().splitlines()
    lines[1] = lines[1].replace("Store-", "Store-\u202e", 1)
    csv.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["validate", str(example)])
    assert result.exit_code == 2 and "\\u202e" in result.output and "\u202e" not in result.output


async def _seed(state: Path) -> str:
    async with open_store(f"sqlite:///{state}") as store:
        run = await store.create_run(Run(kind="apply", org_id=ORG, status="failed", error=f"site {HOSTILE} broke"))
        await store.put_site_state(SiteState(org_id=ORG, name=HOSTILE, status="failed", failed_step=1,
                                             error=f"Mist said {TITLE}no", last_run_id=run.id))
        await store.record_step(StepRecord(run_id=run.id, org_id=ORG, site=HOSTILE, step=1, kind="sites",
                                           key=HOSTILE, status="failed", error=CLEAR))
        await store.append_audit(AuditEntry(run_id=run.id, method="POST", path=f"/orgs/{ORG}/sites",
                                            kind="sites", name=HOSTILE, status=200))
        return run.id


def test_status_and_audit_escape_hostile_names_read_back(tmp_path: Path) -> None:
    asyncio.run(_seed(tmp_path / "state.db"))
    env = {**os.environ, "MISTCTL_STATE": f"sqlite:///{tmp_path / 'state.db'}", "COLUMNS": "250"}
    for args in (["status"], ["status", "--site", HOSTILE], ["audit"]):
        done = subprocess.run([sys.executable, "-m", "mistctl", *args], env=env, capture_output=True, text=True,
                              timeout=60)
        out = done.stdout + done.stderr
        assert done.returncode == 0, out
        _no_raw_control(out)
        assert "\\x1b[2J" in out.replace("\n", ""), (args, out)
    assert "[bold]Y" in out  # markup shown as written, not applied


async def test_the_service_refuses_a_hostile_site_name_and_writes_nothing() -> None:
    async with service() as svc:
        body = full_stack_body(svc, site_name=f"Branch{CLEAR}")
        answer = await svc.client.post("/orchestrator/deploy-full-stack", json=body, headers=svc.key)
        assert answer.status_code == 422, answer.text
        assert "control character" in answer.text and "\x1b" not in answer.text
        assert svc.twin.objects("sites") == [] and await svc.store.list_runs() == []
