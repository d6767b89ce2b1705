"""`${NAME}` secret references are a CLI convenience: the service never reads its own environment for
them (a fleet sent to it could otherwise copy a server secret into a PSK)."""

from __future__ import annotations

import pytest

from tests.integration.test_api_fleet import small_fleet
from tests.integration.test_api_support import service


async def test_the_service_refuses_references_and_never_reads_its_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVER_ONLY_SECRET", "server-side-value-123")
    async with service() as svc:
        fleet = small_fleet(svc)
        fleet["org"]["psks"][0]["passphrase"] = "${SERVER_ONLY_SECRET}"
        answer = await svc.client.post("/plans", json={"fleet": fleet}, headers=svc.key)
        assert answer.status_code == 422
        messages = [p["message"] for p in answer.json()["problems"]]
        assert messages == ["passphrase is ${SERVER_ONLY_SECRET}, which is not set: export SERVER_ONLY_SECRET "
                            "(the secret's value)"]
        assert "server-side-value-123" not in answer.text
        assert svc.writes() == {} and await svc.store.list_runs() == []
