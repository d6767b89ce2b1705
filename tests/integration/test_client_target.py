"""The built-in twin target: created from its state file, reusable, and the same org across runs."""

from __future__ import annotations

import asyncio

from mistctl.config import Settings
from mistctl.mist.target import resolve_target


async def test_the_built_in_twin_serves_clients_one_after_another_and_together(tmp_path):
    state = tmp_path / "nested" / "twin.db"
    target = resolve_target(Settings(), twin_state=state)
    assert target.kind == "twin" and state.exists()
    assert target.describe() == (
        f"target: built-in Mist twin (state {state}); set MIST_HOST and MIST_APITOKEN for a real Mist cloud"
    )
    async with target.client() as client:
        await client.create_sitegroup(target.org_id, {"name": "east"})
    async with target.client() as first, target.client() as second:
        names = await asyncio.gather(first.list_sitegroups(target.org_id), second.list_sitegroups(target.org_id))
    assert [[g["name"] for g in found] for found in names] == [["east"], ["east"]]


async def test_the_twin_keeps_its_org_token_and_objects_in_its_state_file(tmp_path):
    state = tmp_path / "twin.db"
    first = resolve_target(Settings(), twin_state=state)
    async with first.client() as client:
        await client.create_network(first.org_id, {"name": "corp"})
    again = resolve_target(Settings(), twin_state=state)
    assert (again.org_id, again.tokens[0].get_secret_value()) == (first.org_id, first.tokens[0].get_secret_value())
    async with again.client() as client:
        assert [n["name"] for n in await client.list_networks(again.org_id)] == ["corp"]
