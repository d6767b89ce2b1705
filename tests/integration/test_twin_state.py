"""The twin's state file: what a restarted twin keeps (org, tokens, objects, pool) and what it refuses."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mist_twin.config import TwinConfig
from mist_twin.state import TwinState
from mist_twin.store import Store
from tests.support.openapi_check import ContractChecker, answers_checker
from tests.support.twin import twin_app, twin_client


@pytest.fixture
def answers(mist_spec: dict[str, Any]) -> ContractChecker:
    """Every /api answer of these tests is validated against the Mist spec as it arrives."""
    return answers_checker(mist_spec)


async def test_reopened_twin_keeps_everything(tmp_path: Path, answers: ContractChecker) -> None:
    state = tmp_path / "twin.sqlite"
    app = twin_app(state_file=state, device_count=4, inventory_count=1)
    twin = app.state.twin
    reader = twin.add_token("read").token
    async with twin_client(app, checker=answers) as client:
        site = (await client.post(f"/api/v1/orgs/{twin.org_id}/sites", json={"name": "Caen"})).json()
        await client.post(f"/api/v1/orgs/{twin.org_id}/inventory", json=[twin.devices()[1]["claim_code"]])
        await client.put(f"/api/v1/sites/{site['id']}", json={"notes": "kept"})
    before = (twin.org_id, twin.token, twin.objects("sites"), twin.inventory(), twin.devices())
    twin.close()

    again = TwinState(TwinConfig(state_file=state, device_count=50))  # pool settings are not re-applied
    try:
        after = (again.org_id, again.token, again.objects("sites"), again.inventory(), again.devices())
        assert after == before
        assert again.tokens[reader].role == "read"
        assert again.objects("site_settings")[0]["site_id"] == site["id"]
    finally:
        again.close()


def test_a_different_org_id_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "twin.sqlite"
    TwinState(TwinConfig(state_file=state, org_id="a97c1b22-a4e9-411e-9bfd-d8695a0f9e61")).close()
    with pytest.raises(ValueError, match="holds org a97c1b22.*drop the org id or use another state file"):
        TwinState(TwinConfig(state_file=state, org_id="00000000-0000-0000-0000-000000000001"))


def test_a_given_token_replaces_the_stored_admin_token(tmp_path: Path) -> None:
    state = tmp_path / "twin.sqlite"
    first = TwinState(TwinConfig(state_file=state))
    generated = first.token
    assert first.token_generated
    first.close()
    second = TwinState(TwinConfig(state_file=state, token="chosen-token"))
    try:
        assert second.token == "chosen-token" and not second.token_generated
        assert generated not in second.tokens
    finally:
        second.close()


def test_store_writes_one_row_per_object_and_batches_commit(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    store = Store(path)
    with store.batch():
        for n in range(3):
            store.put("sites", f"s{n}", {"id": f"s{n}", "name": f"site {n}"})
    store.put("sites", "s1", {"id": "s1", "name": "renamed"})
    store.delete("sites", "s0")
    reader = sqlite3.connect(path)
    rows = reader.execute("SELECT key, body FROM objects ORDER BY seq").fetchall()
    reader.close()
    store.close()
    assert [key for key, _ in rows] == ["s1", "s2"] and "renamed" in rows[0][1]
    reopened = Store(path)
    assert [o["name"] for o in reopened.all("sites")] == ["renamed", "site 2"]
    reopened.close()


def test_config_repr_hides_the_token() -> None:
    config = TwinConfig(token="super-secret-token")
    twin = TwinState(config)
    assert "super-secret-token" not in repr(config)
    assert "super-secret-token" not in repr(twin.tokens[twin.token])
