"""The service's edges: documentation pages under a Content-Security-Policy, redirects that never name
a host the caller chose."""

from __future__ import annotations

import base64
import hashlib
import re

from tests.integration.test_api_support import service


async def test_docs_and_redoc_have_a_csp_allowing_only_their_cdn_and_their_own_inline_script() -> None:
    async with service() as svc:
        docs = await svc.client.get("/docs")
        redoc = await svc.client.get("/redoc")
        schema = await svc.client.get("/openapi.json")
    assert docs.status_code == redoc.status_code == schema.status_code == 200
    policy = docs.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    scripts = re.findall(r"<script>(.*?)</script>", docs.text, re.S)
    assert scripts, docs.text
    for script in scripts:  # the page's own inline script runs; no other inline script would
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "default-src 'none'" in redoc.headers["content-security-policy"]


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
