"""PSKs on the twin: `old_passphrase` is only what the client sends, upsert by name, bulk update, list delete."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.openapi_check import ContractChecker, answers_checker
from tests.support.twin import twin_app, twin_client

ALICE = {"name": "alice", "passphrase": "correct-horse-1", "ssid": "corp"}


@pytest.fixture
def answers(mist_spec: dict[str, Any]) -> ContractChecker:
    """Every /api answer of these tests is validated against the Mist spec as it arrives."""
    return answers_checker(mist_spec)


async def test_put_keeps_the_old_passphrase_the_client_sends_until_deleted(answers: ContractChecker) -> None:
    app = twin_app()
    twin = app.state.twin
    base = f"/api/v1/orgs/{twin.org_id}/psks"
    async with twin_client(app, checker=answers) as client:
        psk = (await client.post(base, json=ALICE)).json()
        assert "old_passphrase" not in psk
        bare = (await client.put(f"{base}/{psk['id']}", json={"passphrase": "correct-horse-2"})).json()
        assert "old_passphrase" not in bare, "the twin does not copy the previous passphrase by itself"
        body = {"passphrase": "correct-horse-3", "old_passphrase": "correct-horse-2"}
        rotated = (await client.put(f"{base}/{psk['id']}", json=body)).json()
        assert rotated["old_passphrase"] == "correct-horse-2" and rotated["passphrase"] == "correct-horse-3"
        await client.put(f"{base}/{psk['id']}", json={"vlan_id": 30})
        assert twin.objects("psks")[0]["old_passphrase"] == "correct-horse-2", "other edits keep the rotation"
        done = await client.post(f"{base}/{psk['id']}/delete_old_passphrase")
        missing = await client.post(f"{base}/00000000-0000-0000-0000-000000000000/delete_old_passphrase")
    assert done.status_code == 200 and "old_passphrase" not in done.json()
    assert "old_passphrase" not in twin.objects("psks")[0]
    assert missing.status_code == 404


async def test_upsert_replaces_by_name_and_keeps_the_id(answers: ContractChecker) -> None:
    app = twin_app()
    twin = app.state.twin
    base = f"/api/v1/orgs/{twin.org_id}/psks"
    async with twin_client(app, checker=answers) as client:
        psk = (await client.post(base, json={**ALICE, "vlan_id": 10})).json()
        replaced = await client.post(
            base, params={"upsert": "true"}, json={**ALICE, "passphrase": "new-pass-123"}
        )
        created = await client.post(base, json=ALICE)  # without upsert: a second PSK of the same name
    stored = twin.objects("psks")
    assert replaced.json()["id"] == psk["id"] and "vlan_id" not in replaced.json(), (
        "upsert replaces the object"
    )
    assert "old_passphrase" not in replaced.json(), "only what the client sends"
    assert created.json()["id"] != psk["id"] and [p["name"] for p in stored] == ["alice", "alice"]


async def test_bulk_put_updates_by_id_or_name_and_creates_the_rest(answers: ContractChecker) -> None:
    app = twin_app()
    twin = app.state.twin
    base = f"/api/v1/orgs/{twin.org_id}/psks"
    async with twin_client(app, checker=answers) as client:
        alice = (await client.post(base, json=ALICE)).json()
        bulk = [
            {"id": alice["id"], "name": "alice", "passphrase": "rotated-pass-1", "ssid": "corp"},
            {"name": "bob", "passphrase": "battery-staple", "ssid": "guest"},
        ]
        answer = await client.put(base, json=bulk)
        bad = await client.put(base, json=[{"name": "carol", "ssid": "corp"}])
        by_ssid = (await client.get(base, params={"ssid": "guest"})).json()
        by_name = (await client.get(base, params={"name": "alice"})).json()
    assert answer.status_code == 200 and [p["name"] for p in answer.json()] == ["alice", "bob"]
    assert bad.status_code == 400 and bad.json()["detail"] == "[0].passphrase: this field is required"
    stored = {p["name"]: p for p in twin.objects("psks")}
    assert "old_passphrase" not in stored["alice"] and stored["bob"]["ssid"] == "guest"
    assert [p["name"] for p in by_ssid] == ["bob"] and [p["id"] for p in by_name] == [alice["id"]]


async def test_list_delete(answers: ContractChecker) -> None:
    app = twin_app()
    twin = app.state.twin
    base = f"/api/v1/orgs/{twin.org_id}/psks"
    async with twin_client(app, checker=answers) as client:
        ids = [(await client.post(base, json={**ALICE, "name": f"u{n}"})).json()["id"] for n in range(3)]
        answer = await client.post(f"{base}/delete", json={"psk_ids": ids[:2] + ["unknown"]})
    assert answer.status_code == 200 and answer.content == b""
    assert [p["id"] for p in twin.objects("psks")] == ids[2:]
