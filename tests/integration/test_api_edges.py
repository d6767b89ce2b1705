"""The service's edges: documentation pages under a Content-Security-Policy, redirects that never name
a host the caller chose, credentials guessed or made up by the thousand (throttled per client, bounded
Mist calls, bounded caches and metrics)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections import Counter

import httpx

from mistctl.api.throttle import FAILURES, TtlCache
from tests.integration.test_api_support import Harness, service

GUESSES = 2000


async def test_docs_and_redoc_have_a_csp_allowing_only_this_service_and_their_own_inline_script() -> None:
    async with service() as svc:
        docs = await svc.client.get("/docs")
        redoc = await svc.client.get("/redoc")
        schema = await svc.client.get("/openapi.json")
    assert docs.status_code == redoc.status_code == schema.status_code == 200
    for page in (docs, redoc):
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert not re.search(r"https?:|//", policy), policy  # no external host: the page works offline
        scripts = re.findall(r"<script>(.*?)</script>", page.text, re.S)
        assert scripts or page is redoc, page.text  # Swagger UI starts with an inline script, ReDoc needs none
        for script in scripts:  # the page's own inline script runs; no other inline script would
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in policy
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]


ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


async def test_docs_pages_name_only_assets_the_service_serves_itself() -> None:
    async with service() as svc:
        pages = [(await svc.client.get(path)).text for path in ("/docs", "/redoc")]
        urls = {u for page in pages for u in re.findall(r'(?:src|href|spec-url)=["\']([^"\']+)', page)}
        urls |= {u for page in pages for u in re.findall(r"url: *'([^']+)'", page)}
        answers = {u: await svc.client.get(u) for u in urls}
    assert not [u for u in urls if "//" in u or not u.startswith("/")], urls  # nothing from a CDN
    assets = {u for u in urls if u.startswith("/docs/assets/")}
    names = {u.rsplit("/", 1)[1] for u in assets}
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"} <= names
    for url in assets:
        answer = answers[url]
        assert answer.status_code == 200 and len(answer.content) > 1000, url
        assert ASSET_TYPES[url[url.rindex("."):]] in answer.headers["content-type"], url
    assert answers["/openapi.json"].json()["info"]["title"] == "mistctl provisioning service"


async def test_a_trailing_slash_redirect_is_relative_whatever_the_host_header_says() -> None:
    async with service() as svc:
        moved = await svc.client.get("/metrics/?x=1", headers={"Host": "evil.example", **svc.key})
        followed = await svc.client.get(moved.headers["location"], headers=svc.key)
        sneaky = await svc.client.get("//evil.example/", headers=svc.key)
        unknown = await svc.client.get("/nothing-here/", headers=svc.key)
    assert moved.status_code == 307 and moved.headers["location"] == "/metrics?x=1"
    assert followed.status_code == 200 and "mistctl_http_requests" in followed.text
    assert sneaky.status_code == 404 and "location" not in sneaky.headers
    assert unknown.status_code == 404


def _self_calls(svc: Harness) -> int:
    routes: dict[str, int] = svc.twin.counters.snapshot()["by_route"]
    return sum(n for route, n in routes.items() if route.startswith("GET") and route.endswith("/self"))


def _series(text: str) -> int:
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


async def test_random_mist_keys_cost_a_bounded_number_of_self_calls_and_metrics_series() -> None:
    async with service() as svc:
        before = _series((await svc.client.get("/metrics", headers=svc.key)).text)
        codes: Counter[int] = Counter()
        mid = 0
        for n in range(GUESSES):
            answer = await svc.client.get("/deployments", headers=svc.mist_key(secrets.token_hex(20)))
            codes[answer.status_code] += 1
            if n == 100:  # every kind of answer has been seen: the series that exist by now are all there are
                mid = _series((await svc.client.get("/metrics", headers=svc.key)).text)
        refused = answer
        self_calls = _self_calls(svc)
        after = _series((await svc.client.get("/metrics", headers=svc.key)).text)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.app, client=("10.0.0.2", 4000)),
                                     base_url="http://svc") as elsewhere:
            other_client = await elsewhere.get("/deployments", headers=svc.mist_key(svc.twin.token))
    assert codes[401] == FAILURES and codes[429] == GUESSES - FAILURES, codes
    assert self_calls == FAILURES  # one GET /self per key Mist was asked about; none once throttled
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert after - before < 60 and after == mid, (before, mid, after)  # no series per caller token
    assert other_client.status_code == 200  # another client is not held back


async def test_a_repeated_rejected_key_is_asked_about_once_and_valid_keys_are_cached_in_bounds() -> None:
    async with service() as svc:
        bad = secrets.token_hex(20)
        for _ in range(3):
            assert (await svc.client.get("/deployments", headers=svc.mist_key(bad))).status_code == 401
        assert _self_calls(svc) == 1
    cache: TtlCache[int] = TtlCache(max_items=3, ttl=60, monotonic=lambda: clock[0])
    clock = [0.0]
    for n in range(5):
        cache.put(f"k{n}", n)
    assert len(cache) == 3 and cache.get("k0") is None and cache.get("k4") == 4
    clock[0] = 61.0
    assert cache.get("k4") is None  # expired


async def test_bearer_guesses_get_429_with_retry_after_past_the_limit() -> None:
    async with service() as svc:
        codes = Counter([(await svc.client.get("/deployments", headers={"Authorization": f"Bearer {guess}"}))
                         .status_code for guess in (secrets.token_hex(20) for _ in range(200))])
        held = await svc.client.get("/deployments", headers=svc.key)
    assert codes == {401: FAILURES, 429: 200 - FAILURES}, codes
    assert held.status_code == 429 and int(held.headers["retry-after"]) > 0
