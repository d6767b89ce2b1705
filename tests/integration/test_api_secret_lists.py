"""MIST_APITOKEN and MISTCTL_API_KEYS as lists (one a line or comma-separated), checked at start-up.

A token with a newline once went into the `Authorization` header whole, and httpx's refusal quoted the
header, token and all, in the answer of `/readyz`, `deploy-full-stack` and `/drift`.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import SecretStr

from mistctl.api.app import create_app
from mistctl.config import Settings
from mistctl.secret_lists import SecretListInvalid, parse_service_keys, parse_tokens
from tests.integration.test_api_support import SERVICE_KEY, full_stack_body, service

CLI = [sys.executable, "-c", "from mistctl.cli.main import main; main()"]
TWIN_TOKEN = "secret-lists-twin-token-0123456789abcdef"
BAD_TOKEN = "tokenAAAA1111\x01tokenBBBB2222"


async def test_a_newline_separated_mist_apitoken_is_two_tokens_and_every_route_works() -> None:
    token = TWIN_TOKEN
    async with service(token=token, settings={"mist_apitoken": SecretStr(f"{token}\n{token}\r\n")}) as svc:
        assert [t.get_secret_value() for t in svc.ctx.settings.tokens()] == [token, token]
        ready = await svc.client.get("/readyz", headers=svc.key)
        deployed = await svc.client.post("/orchestrator/deploy-full-stack", json=full_stack_body(svc),
                                         headers=svc.key)
        drift = await svc.client.get("/drift", params={"org_id": svc.org_id}, headers=svc.key)
    for answer in (ready, deployed, drift):
        assert "Illegal header" not in answer.text and token not in answer.text
    assert ready.status_code == 200, ready.text
    assert deployed.status_code == 200 and deployed.json()["status"] == "completed", deployed.text
    assert drift.status_code == 200, drift.text


def test_lists_split_on_newlines_and_commas() -> None:
    assert parse_tokens("tokA111111\ntokB222222, tokC333333\r\n\n") == ["tokA111111", "tokB222222", "tokC333333"]
    keys = parse_service_keys(f"{SERVICE_KEY}\n{'k' * 40}")
    assert keys == [SERVICE_KEY, "k" * 40]


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("mist_apitoken", f"goodtoken0001,{BAD_TOKEN}", "MIST_APITOKEN: entry #2 of 2 has character U+0001 at "
                                                   "position 14"),
    ("mist_apitoken", "tok en", "MIST_APITOKEN: the only entry has a space at position 4"),
    ("mistctl_api_keys", f"{SERVICE_KEY},short-key-12345", "MISTCTL_API_KEYS: entry #2 of 2 is 15 "
                                                          "characters long; a service key needs at least 32"),
])
def test_a_bad_token_or_short_key_stops_the_app_naming_the_position_never_the_value(
        field: str, value: str, fragment: str) -> None:
    settings = Settings.model_validate({"mist_host": "http://twin", "mist_apitoken": "goodtoken0001",
                                        "mistctl_state": "memory://", field: SecretStr(value)})
    with pytest.raises(SecretListInvalid) as caught:
        create_app(settings)
    message = str(caught.value)
    assert fragment in message
    for secret in value.split(","):
        assert secret.strip() not in message


def test_mistctl_serve_refuses_a_bad_token_at_start_up_with_exit_2_and_no_token() -> None:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("MIST_", "MISTCTL_"))}
    env = {**keep, "MIST_HOST": "http://127.0.0.1:9", "MIST_APITOKEN": "tokenAAAA1111\ntoken BBBB2222",
           "MISTCTL_STATE": "memory://"}
    done = subprocess.run([*CLI, "serve", "--port", "0"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    said = " ".join(done.stderr.split())
    assert "MIST_APITOKEN: entry #2 of 2 has a space at position 6" in said
    assert "Traceback" not in done.stderr and "tokenAAAA1111" not in said and "BBBB2222" not in said
