"""Helpers of the daily-operations CLI tests (#14): run mistctl in-process, seed the store, cut fleets."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from mistctl.cli.main import app


def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env, input=stdin)
    return result.exit_code, result.output


def stdout(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Exit code and stdout alone (what a pipeline reads; banners and prompts go to stderr)."""
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout


def seed_runs(ids: list[str]) -> None:
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


def json_fleet(workdir: Path, sites: int) -> str:
    data = yaml.safe_load((workdir / "examples" / "fleet.yaml").read_text())
    data["sites"] = data["sites"][:sites]
    path = workdir / "examples" / "fleet.json"
    path.write_text(json.dumps(data, indent=2))
    return str(path)


def record_services(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[tuple[int, int]]:
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


def two_sites(workdir: Path) -> str:
    fleet = json_fleet(workdir, 2)
    assert run("apply", fleet, "--yes")[0] == 0
    return fleet


def on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from mistctl.cli import confirm

    monkeypatch.setattr(confirm, "interactive", lambda: True)


def upgrade_runs() -> int:
    from mistctl.bootstrap import open_store_from_env

    async def count() -> int:
        async with open_store_from_env() as store:
            return sum(r.kind == "upgrade" for r in await store.list_runs(limit=100))

    return asyncio.run(count())
