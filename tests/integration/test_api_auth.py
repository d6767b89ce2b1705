"""Access control: each failure mode answers JSON naming the problem; no token reaches logs or the store."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mistctl.api.logs import JsonFormatter
from mistctl.mist.budget import token_fingerprint
from mistctl.store.sqlite import SqliteStore
from tests.integration.test_api_support import OTHER_KEY, full_stack_body, service

ROUTE = "/orchestrator/deploy-full-stack"


async def test_no_credentials_is_401_with_a_json_body_naming_both_ways_in() -> None:
    async with service() as svc:
        answer = await svc.client.post(ROUTE, json=full_stack_body(svc))
        assert answer.status_code == 401
        assert "X-Mist-API-Key" in answer.json()["detail"] and "Bearer" in answer.json()["detail"]
        assert "WWW-Authenticate" in answer.headers
        for path in ("/deployments", "/deployments/" + "0" * 32):  # the probes are open: test_api_probes
            assert (await svc.client.get(path)).status_code == 401


async def test_healthz_needs_no_credentials() -> None:
    async with service() as svc:
        answer = await svc.client.get("/healthz")
        assert answer.status_code == 200 and answer.json()["status"] == "ok"


@pytest.mark.parametrize("header", ["Bearer wrong-key-0000", "Basic dXNlcjpwYXNz", "Bearer "])
async def test_a_wrong_or_other_scheme_authorization_is_401(header: str) -> None:
    async with service() as svc:
        answer = await svc.client.get("/deployments", headers={"Authorization": header})
        assert answer.status_code == 401 and answer.json()["detail"]


async def test_every_configured_service_key_works_and_names_its_requests() -> None:
    async with service() as svc:
        answer = await svc.client.get("/deployments", headers={"Authorization": f"Bearer {OTHER_KEY}"})
        assert answer.status_code == 200
        other = {"Authorization": f"Bearer {OTHER_KEY}"}
        answer = await svc.client.post(ROUTE, json=full_stack_body(svc), headers=other)
        run_id = answer.headers["X-Mistctl-Run"]
        run = await svc.store.get_run(run_id)
        assert run is not None and run.requested_by.startswith("key:") and OTHER_KEY not in run.requested_by


async def test_service_keys_are_refused_when_none_are_configured() -> None:
    async with service(keys="") as svc:
        answer = await svc.client.get("/deployments", headers=svc.key)
        assert answer.status_code == 401 and "MISTCTL_API_KEYS" in answer.json()["detail"]


async def test_a_mist_token_mist_rejects_is_401_and_a_malformed_one_never_reaches_mist() -> None:
    async with service() as svc:
        rejected = await svc.client.get("/deployments", headers=svc.mist_key("not-a-real-token-123456"))
        calls = svc.twin.counters.snapshot()["total"]
        malformed = await svc.client.get("/deployments", headers=svc.mist_key("has spaces in it"))
        assert rejected.status_code == 401 and "Mist rejected" in rejected.json()["detail"]
        assert malformed.status_code == 401
        assert svc.twin.counters.snapshot()["total"] == calls


async def test_a_read_only_token_or_one_of_another_org_is_403_naming_the_org() -> None:
    async with service() as svc:
        reader = svc.twin.add_token("read").token
        stranger = svc.twin.add_token("admin", on_org=False).token
        for token in (reader, stranger):
            answer = await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.mist_key(token))
            assert answer.status_code == 403, answer.text
            assert svc.org_id in answer.json()["detail"] and answer.json()["org_id"] == svc.org_id
        assert svc.twin.objects("sites") == []


async def test_a_service_key_for_an_org_the_service_token_cannot_write_is_403() -> None:
    async with service() as svc:
        body = full_stack_body(svc, org_id="another-org")
        answer = await svc.client.post(ROUTE, json=body, headers=svc.key)
        assert answer.status_code == 403 and "MIST_APITOKEN" in answer.json()["detail"]


async def test_a_writer_token_deploys_with_its_own_token_and_is_validated_once_per_minute() -> None:
    async with service() as svc:
        writer = svc.twin.add_token("write").token
        for _ in range(3):
            answer = await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.mist_key(writer))
            assert answer.json()["status"] == "completed"
        assert svc.twin.counters.snapshot()["by_route"]["GET /api/v1/self"] == 1
        run = await svc.store.get_run(answer.headers["X-Mistctl-Run"])
        assert run is not None and run.requested_by == f"mist:{token_fingerprint(writer)}"
        assert svc.twin.rate.usage(writer).requests > 0  # the caller's token made the calls
        seen = (await svc.client.get("/deployments", headers=svc.mist_key(writer))).json()
        assert {r["id"] for r in seen} >= {run.id}


async def test_no_token_in_logs_answers_or_the_state_store(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    formatter = JsonFormatter()
    db = tmp_path / "state.db"
    store = SqliteStore(db)
    caplog.set_level(logging.DEBUG)
    async with store, service(store=store) as svc:
        writer = svc.twin.add_token("write").token
        admin = svc.twin.token
        bodies = [await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.mist_key(writer)),
                  await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.key),
                  await svc.client.get("/deployments", headers=svc.mist_key("bogus-token-" + writer[:20])),
                  await svc.client.post("/org/self", json={}, headers=svc.mist_key(writer)),
                  await svc.client.get("/metrics", headers=svc.key)]
        logs = "\n".join(formatter.format(r) for r in caplog.records)
    assert any('"request_id"' in line and "deploy-full-stack" in line for line in logs.splitlines())
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (writer, admin, writer[:20]):
        assert secret not in logs
        assert secret.encode() not in raw
        assert all(secret not in b.text for b in bodies)
