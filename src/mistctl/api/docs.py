"""The API's documentation pages (`/docs`: Swagger UI, `/redoc`: ReDoc) with a Content-Security-Policy.

FastAPI's own pages load their scripts from a CDN and start them with an inline script; each page here
is FastAPI's, answered with a policy that allows exactly those: the CDN's scripts and styles, the inline
script by its sha256 (worked out from the page itself, so a FastAPI upgrade cannot silently break it),
calls to this service only, no framing, no forms, no plugins.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse

CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_COMMON = ("default-src 'none'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
           "frame-ancestors 'none'; object-src 'none'")


def csp_for(html: str, extra: str) -> str:
    """A policy allowing the CDN's scripts and the page's own inline scripts (by hash), plus `extra`."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in _INLINE_SCRIPT.findall(html))
    return f"{_COMMON}; script-src {CDN} {hashes}".rstrip() + f"; {extra}"


def _page(html: str, extra: str) -> HTMLResponse:
    return HTMLResponse(html, headers={"Content-Security-Policy": csp_for(html, extra),
                                       "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})


def install(app: FastAPI) -> None:
    """Add `/docs` and `/redoc` (create the app with `docs_url=None, redoc_url=None`)."""
    title = app.title

    async def swagger(request: Request) -> HTMLResponse:
        url = request.scope.get("root_path", "").rstrip("/") + (app.openapi_url or "/openapi.json")
        html = bytes(get_swagger_ui_html(openapi_url=url, title=f"{title} - Swagger UI").body).decode()
        return _page(html, f"style-src {CDN} 'unsafe-inline'; img-src 'self' data: https://fastapi.tiangolo.com")

    async def redoc(request: Request) -> HTMLResponse:
        url = request.scope.get("root_path", "").rstrip("/") + (app.openapi_url or "/openapi.json")
        html = bytes(get_redoc_html(openapi_url=url, title=f"{title} - ReDoc").body).decode()
        return _page(html, "style-src 'unsafe-inline' https://fonts.googleapis.com; font-src "
                           "https://fonts.gstatic.com; img-src 'self' data: https:; worker-src blob:")

    app.add_route("/docs", swagger, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
