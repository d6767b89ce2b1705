"""The API's documentation pages (`/docs`: Swagger UI, `/redoc`: ReDoc), offline, with a Content-Security-Policy.

FastAPI's own pages load their scripts from a CDN, so they are blank without internet. Here they are
FastAPI's pages pointed at assets the service serves itself under `/docs/assets/` (Swagger UI's bundle
and stylesheet, ReDoc's standalone bundle, a favicon: the files the `fastapi-offline` package ships),
answered with a policy that allows exactly those: scripts from this service and the page's own inline
script by its sha256 (worked out from the page itself, so a FastAPI upgrade cannot silently break it),
calls to this service only, no external host at all, no framing, no forms, no plugins.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS_URL = "/docs/assets"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_COMMON = ("default-src 'none'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
           "frame-ancestors 'none'; object-src 'none'; img-src 'self' data:")


def csp_for(html: str, extra: str) -> str:
    """A policy allowing this service's scripts and the page's own inline scripts (by hash), plus `extra`."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in _INLINE_SCRIPT.findall(html))
    return f"{_COMMON}; script-src 'self' {hashes}".rstrip() + f"; {extra}"


def _page(html: str, extra: str) -> HTMLResponse:
    return HTMLResponse(html, headers={"Content-Security-Policy": csp_for(html, extra),
                                       "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def install(app: FastAPI) -> None:
    """Add `/docs`, `/redoc` and their assets (create the app with `docs_url=None, redoc_url=None`)."""
    title = app.title
    openapi = app.openapi_url or "/openapi.json"

    async def swagger(request: Request) -> HTMLResponse:
        root = _root(request)
        html = bytes(get_swagger_ui_html(
            openapi_url=root + openapi, title=f"{title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png").body).decode()
        return _page(html, "style-src 'self' 'unsafe-inline'")

    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        html = bytes(get_redoc_html(
            openapi_url=root + openapi, title=f"{title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png", with_google_fonts=False).body).decode()
        return _page(html, "style-src 'self' 'unsafe-inline'; worker-src blob:")

    app.add_route("/docs", swagger, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
