"""A conflicted org (two live objects with one name) never plans as "No changes"; `mistctl dedupe` deletes only
the younger copies mistctl created (its audit log), after confirmation. Real processes, the twin over HTTP."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from mist_twin.config import TwinConfig
from mistctl.fleetio import load_fleet
from mistctl.store import open_store
from tests.support.cli_procs import DumpedTwin, cli_env, example_with_devices, mistctl
from tests.support.engine import assert_twin_matches
from tests.support.twin import running_twin

pytestmark = pytest.mark.timeout(600)


def _stamp(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


async def _audited_deletes(state: Path) -> list[tuple[str, str | None]]:
    async with open_store(f"sqlite:///{state}") as store:
        return [(e.path.removeprefix("/api/v1"), e.mist_id) for e in await store.list_audit(limit=10_000)
                if e.method == "DELETE"]


def _sites(url: str, name: str) -> list[dict]:
    return [s for s in DumpedTwin(url).objects("sites") if s["name"] == name]


def _groups(url: str, name: str) -> list[dict]:
    return [g for g in DumpedTwin(url).objects("sitegroups") if g["name"] == name]


def test_a_duplicate_made_in_mist_is_a_conflict_named_and_left_to_a_human(tmp_path: Path) -> None:
    fleet, devices = example_with_devices(tmp_path)
    with running_twin(TwinConfig(devices_file=devices)) as (url, org, tok), \
            httpx.Client(base_url=url, headers={"Authorization": f"Token {tok}"}, timeout=30) as twin:
        env = cli_env(tmp_path, url, tok, org)
        assert mistctl(env, "apply", str(fleet), "--yes").returncode == 0
        time.sleep(1.1)  # Mist stamps created_time in seconds: the copy is strictly younger
        copy = twin.post(f"/api/v1/orgs/{org}/sitegroups", json={"name": "outlets"}).json()
        original = next(g for g in _groups(url, "outlets") if g["id"] != copy["id"])
        plan = mistctl(env, "plan", str(fleet))
        assert plan.returncode == 1, plan.stdout + plan.stderr
        assert "No changes" not in plan.stdout and "matches the fleet" not in plan.stdout
        assert f"keep the oldest, id {original['id']} (created {_stamp(original['created_time'])})" in plan.stdout
        assert f"delete id {copy['id']} (created {_stamp(copy['created_time'])})" in plan.stdout
        assert "1 conflict(s) in the live org" in plan.stdout
        as_json = mistctl(env, "plan", str(fleet), "--json")
        assert as_json.returncode == 1 and copy["id"] in as_json.stdout
        refused = mistctl(env, "apply", str(fleet), "--yes")
        assert refused.returncode == 2 and "conflicts" in refused.stderr and copy["id"] in refused.stderr
        dedupe = mistctl(env, "dedupe", str(fleet), "--yes")
        assert dedupe.returncode == 1, dedupe.stdout + dedupe.stderr
        assert "did not create" in dedupe.stdout and copy["id"] in dedupe.stdout
        assert {g["id"] for g in _groups(url, "outlets")} == {original["id"], copy["id"]}  # both left


def test_dedupe_deletes_the_younger_copy_mistctl_created_after_confirmation(tmp_path: Path) -> None:
    fleet, devices = example_with_devices(tmp_path)
    with running_twin(TwinConfig(devices_file=devices)) as (url, org, tok), \
            httpx.Client(base_url=url, headers={"Authorization": f"Token {tok}"}, timeout=30) as twin:
        env = cli_env(tmp_path, url, tok, org)
        site = load_fleet(fleet).sites[0].name
        older = twin.post(f"/api/v1/orgs/{org}/sitegroups", json={"name": "outlets-old"}).json()
        older_site = twin.post(f"/api/v1/orgs/{org}/sites", json={"name": "old-site"}).json()
        time.sleep(1.1)
        assert mistctl(env, "apply", str(fleet), "--yes").returncode == 0  # creates "outlets", younger
        ours = _groups(url, "outlets")[0]
        our_site = _sites(url, site)[0]
        # someone renames their older objects to the fleet's names: two of each, the younger ones ours
        twin.put(f"/api/v1/orgs/{org}/sitegroups/{older['id']}", json={"name": "outlets"})
        twin.put(f"/api/v1/sites/{older_site['id']}", json={"name": site})
        assert mistctl(env, "plan", str(fleet)).returncode == 1
        refused = mistctl(env, "dedupe", str(fleet))  # off a terminal, no --yes: nothing deleted
        assert refused.returncode == 2 and "--yes" in refused.stderr
        assert len(_groups(url, "outlets")) == 2 and len(_sites(url, site)) == 2
        done = mistctl(env, "dedupe", str(fleet), "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
        assert ours["id"] in done.stdout and "2 duplicate(s) deleted" in done.stdout
        assert [g["id"] for g in _groups(url, "outlets")] == [older["id"]]  # the oldest copy is kept
        assert [s["id"] for s in _sites(url, site)] == [older_site["id"]]
        deletes = sorted(asyncio.run(_audited_deletes(tmp_path / "state.db")))
        assert deletes == sorted([(f"/orgs/{org}/sitegroups/{ours['id']}", ours["id"]),
                                  (f"/sites/{our_site['id']}", our_site["id"])])
        again = mistctl(env, "apply", str(fleet), "--yes")  # sites are bound to the kept copy
        assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
        assert_twin_matches(DumpedTwin(url), load_fleet(fleet))
        final = mistctl(env, "plan", str(fleet))
        assert final.returncode == 0 and "No changes" in final.stdout
