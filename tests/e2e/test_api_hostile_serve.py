"""End to end on a real `mistctl serve` (uvicorn): a YAML alias bomb posted to /plans is refused while
/healthz keeps answering, and the twin behind the service sees no write."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx

from mist_twin.config import TwinConfig
from tests.e2e.test_api_serve import SERVICE_KEY, TWIN_TOKEN, _env, _non_get_calls, running_service
from tests.support.twin import running_twin

BOMB = (Path(__file__).resolve().parents[1] / "fixtures" / "hostile" / "alias_bomb.yaml").read_text()


def test_healthz_answers_while_bomb_plans_are_refused(tmp_path: Path) -> None:
    config = TwinConfig(token=TWIN_TOKEN, inventory_count=0)
    with running_twin(config, via_cli=True) as (twin_url, org_id, _token), \
            httpx.Client(base_url=twin_url, headers={"Authorization": f"Token {TWIN_TOKEN}"}) as twin:
        env = _env(tmp_path, twin_url)
        key = {"Authorization": f"Bearer {SERVICE_KEY}"}
        with running_service(env, tmp_path) as (url, _log):
            answers: list[httpx.Response] = []

            def post_bomb() -> None:
                with httpx.Client(base_url=url, timeout=120) as api:
                    answers.append(api.post("/plans", json={"fleet": BOMB, "org_id": org_id}, headers=key))

            bombers = [threading.Thread(target=post_bomb) for _ in range(4)]
            for bomber in bombers:
                bomber.start()
            with httpx.Client(base_url=url, timeout=30) as api:
                health: list[Any] = [api.get("/healthz") for _ in range(5)]
            for bomber in bombers:
                bomber.join()
            runs = httpx.get(f"{url}/deployments", headers=key, timeout=30).json()
        assert [h.status_code for h in health] == [200] * 5
        assert [a.status_code for a in answers] == [422] * 4
        assert all("aliases (*name) expand" in a.text for a in answers)
        assert _non_get_calls(twin) == {} and runs == []
