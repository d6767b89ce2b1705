"""The Mist client's httpx client skips the cookie jar for answers that set no cookie and keeps the ones
that do (mist/http.py `_Cookies`): the same cookies are stored and sent as with httpx's own jar."""

from __future__ import annotations

import asyncio

import httpx

from mistctl.mist.http import build_http_client


def test_a_set_cookie_is_kept_and_sent_back_and_an_answer_without_one_changes_nothing() -> None:
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        if request.url.path == "/login":
            return httpx.Response(200, json={}, headers={"Set-Cookie": "csrftoken=abc; Path=/"})
        return httpx.Response(200, json={})

    async def run() -> httpx.Cookies:
        async with build_http_client("http://mist.test", transport=httpx.MockTransport(answer)) as client:
            await client.get("/api/v1/self")
            assert len(client.cookies.jar) == 0
            await client.get("/login")
            await client.get("/api/v1/self")
            client.cookies = {"other": "1"}  # the setter keeps working
            await client.get("/api/v1/self")
            return client.cookies

    cookies = asyncio.run(run())
    assert seen == [None, None, "csrftoken=abc", "other=1"]
    assert dict(cookies) == {"other": "1"}
