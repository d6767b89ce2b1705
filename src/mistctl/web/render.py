"""Rendering: the Jinja2 environment (autoescape on for everything), filters, and the page response.

Every page goes out with headers that keep it to itself: a Content-Security-Policy allowing only the
console's own scripts and styles, no framing, no caching of pages (they show live state).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mistctl.store.models import SITE_STATUSES

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                "connect-src 'self'; form-action 'self'; base-uri 'none'; "
                                "frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
STATE_WORDS = {"planned": "planned", "provisioning": "provisioning", "done": "done", "failed": "failed",
               "sle_failed": "SLE failed", "pending": "devices pending", "decommissioned": "decommissioned"}


def when(value: datetime | float | None) -> str:
    """A time as `2025-01-31 14:02:07 UTC` (empty when unknown)."""
    if value is None:
        return ""
    moment = datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else value.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float | None) -> str:
    """Seconds in words: `45 s`, `3 min 20 s`, `2 h 05 min` (empty when unknown)."""
    if seconds is None or math.isnan(seconds):
        return ""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def path_part(value: Any) -> str:
    """A value quoted for one URL path segment (site names may hold spaces or slashes)."""
    return quote(str(value), safe="")


def number(value: int | float | None) -> str:
    """An integer with thousands separators."""
    return "" if value is None else f"{value:,}"


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=when, duration=duration, path_part=path_part, number=number,
                       state_word=lambda s: STATE_WORDS.get(str(s), str(s)))
    env.globals.update(site_statuses=SITE_STATUSES, state_words=STATE_WORDS)
    return env


ENV = _environment()


def render(name: str, **context: Any) -> str:
    """A template rendered to text."""
    return ENV.get_template(name).render(**context)


def page(request: Request, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A full page (or fragment) as an HTML response with the console's security headers."""
    context.setdefault("session", getattr(request.state, "session", None))
    context.setdefault("nav", "")
    html = render(name, request_path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
