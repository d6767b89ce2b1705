"""`/docs` and `/redoc` in a real browser with no internet: Debian's chromium, headless, driven by
Playwright, against `mistctl serve` wired to `mistctl twin serve` (real processes on loopback).

Every request to a host other than the service is refused (as on a machine without internet) and
recorded; the pages must render the API's title anyway, ask for nothing outside, and break no rule of
their Content-Security-Policy (the browser reports each violation on the console).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mist_twin.config import TwinConfig
from tests.e2e.test_api_serve import running_service
from tests.e2e.test_console_browser import ARGS, SERVICE_KEY, TWIN_TOKEN, _chromium
from tests.support.twin import running_twin

pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency: make venv")
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
TITLE = "mistctl provisioning service"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"  # ReDoc's "API docs by Redocly" badge: the policy stops it


@pytest.fixture(scope="module")
def service_url() -> Iterator[str]:
    config = TwinConfig(token=TWIN_TOKEN, inventory_count=1)
    with tempfile.TemporaryDirectory() as tmp, running_twin(config, via_cli=True) as (twin_url, _org, _t):
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("MIST_", "MISTCTL_"))}
        env = {**keep, "MIST_HOST": twin_url, "MIST_APITOKEN": TWIN_TOKEN, "MISTCTL_API_KEYS": SERVICE_KEY,
               "MISTCTL_STATE": f"sqlite:///{tmp}/state.db", "PYTHONUNBUFFERED": "1"}
        with running_service(env, Path(tmp)) as (url, _log):
            yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


class Offline:
    """A tab that reaches only the service; what it asked elsewhere and the CSP violations it reported."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.host = urlsplit(url).netloc
        self.context = browser.new_context(base_url=url)
        self.outside: list[str] = []
        self.violations: list[str] = []
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("console", lambda m: self.violations.append(m.text)
                     if "Content Security Policy" in m.text else None)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == self.host or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort("internetdisconnected")


@pytest.fixture()
def offline(browser: Browser, service_url: str) -> Iterator[Offline]:
    tab = Offline(browser, service_url)
    try:
        yield tab
    finally:
        tab.context.close()


def test_swagger_ui_renders_the_api_with_no_internet(offline: Offline) -> None:
    offline.page.goto("/docs")
    expect(offline.page.locator(".swagger-ui .info .title")).to_contain_text(TITLE, timeout=20_000)
    expect(offline.page.locator(".opblock").first).to_be_visible()  # the operations are listed
    assert offline.outside == [] and offline.violations == []


def test_redoc_renders_the_api_with_no_internet(offline: Offline) -> None:
    offline.page.goto("/redoc")
    expect(offline.page.locator("h1").first).to_contain_text(TITLE, timeout=20_000)
    expect(offline.page.get_by_role("menuitem").first).to_be_visible()  # the sidebar lists the operations
    assert offline.outside == []
    assert [v for v in offline.violations if REDOC_LOGO not in v or "img-src" not in v] == []
