"""The API token never shows: not in logs (at DEBUG, httpx included), reprs, errors or tracebacks."""

from __future__ import annotations

import logging
import random
import traceback

import httpx
import pytest
from pydantic import SecretStr

from mistctl.config import Settings
from mistctl.mist import ManualClock, MistClient, MistError, RetryPolicy, build_http_client
from mistctl.mist.wire import Token

TOKEN = "SeCrEt-TOKEN-4f1a9c2e7b"


def leaky_handler(request: httpx.Request) -> httpx.Response:
    """A hostile server: echoes the Authorization header in its error details and drops connections."""
    path = request.url.path
    auth = request.headers["Authorization"]
    if path.endswith("/boom"):
        raise httpx.ReadTimeout(f"timed out; header was {auth}", request=request)
    if path.endswith("/refused"):
        raise httpx.ConnectError("connection refused", request=request)
    status = {"/api/v1/self": 401, "/api/v1/self/usage": 429}.get(path, 400)
    return httpx.Response(status, json={"detail": f"bad header {auth}"}, headers={"Retry-After": "1"})


def _formatted(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc) + repr(exc.args)


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "mistctl"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return caplog


async def test_token_is_absent_from_logs_errors_tracebacks_and_reprs(all_logs):
    texts: list[str] = []
    policy = RetryPolicy(max_attempts=2, max_rate_retries=1, backoff_base=0.01)
    async with build_http_client("api.mist.com", transport=httpx.MockTransport(leaky_handler)) as http:
        client = MistClient(
            http,
            [TOKEN, SecretStr("second-" + TOKEN)],
            clock=ManualClock(),
            rng=random.Random(1),
            policy=policy,
        )
        calls = [
            client.get_self(),
            client.get_usage(),
            client.create_org("o", "sitegroups", {"name": "x"}),
            client.get_org("o", "sitegroups", "boom"),
            client.create_org("o", "boom", {}),
            client.get_org("o", "sitegroups", "refused"),
        ]
        for call in calls:
            with pytest.raises(MistError) as info:
                await call
            texts.append(_formatted(info.value))
            texts.append(repr(vars(info.value)))
        texts += [repr(client), str(client.calls), repr(await client.budget_states())]
        texts += [repr(t) for t in client._session.tokens]
    texts += [record.getMessage() for record in all_logs.records]
    texts.append(all_logs.text)
    assert any("401" in t for t in texts) and any("429" in t for t in texts)
    assert len(all_logs.records) > 0
    for text in texts:
        assert TOKEN not in text


def test_settings_never_show_the_token(monkeypatch):
    monkeypatch.setenv("MIST_APITOKEN", f"{TOKEN},other-{TOKEN}")
    settings = Settings()
    for text in (repr(settings), str(settings), settings.model_dump_json(), repr(settings.tokens())):
        assert TOKEN not in text


def test_a_token_repr_is_its_fingerprint():
    token = Token.of(TOKEN)
    assert repr(token) == f"Token({token.key})"
    assert TOKEN not in repr(token) and TOKEN not in str(token)
