"""End to end in a real browser: Debian's chromium, headless, driven by Playwright, against `mistctl serve`
wired to `mistctl twin serve` (real processes on loopback, one SQLite state file).

Log in, see an applied fleet, open a site, read the IP plan, watch a deployment reach done, submit an
invalid fleet and see its errors, plan a valid one (nothing written). Every page is saved as a screenshot
under test-artifacts/console/ and checked for secrets (tokens, service key, PSK passphrases).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mist_twin.config import TwinConfig
from mistctl.api.jobs import org_lock
from mistctl.designs import default_design_text
from mistctl.store.sqlite import SqliteStore
from tests.e2e.test_api_serve import running_service
from tests.support.twin import running_twin

pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency: make venv")
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "console"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TWIN_TOKEN = "console-twin-admin-token-0123456789abcdefghij"
SERVICE_KEY = "console-service-key-0123456789abcdef"
KEY = {"Authorization": f"Bearer {SERVICE_KEY}"}
PASSPHRASES = ("scanner-example-pass-01",)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def _chromium() -> str:
    if not os.path.exists(CHROMIUM):
        done = subprocess.run(["bash", str(REPO / "scripts" / "ensure-chromium.sh")], capture_output=True,
                              text=True, timeout=600)
        if done.returncode != 0 or not os.path.exists(CHROMIUM):
            pytest.skip(f"Debian's chromium is missing and could not be installed: {done.stderr[-300:]}")
    return CHROMIUM


def _fleet(names: list[str], serials: list[str] | None = None) -> dict[str, Any]:
    fleet: dict[str, Any] = yaml.safe_load(default_design_text())
    fleet["sites"] = [{"name": n, "zone": 1 + i % 3, "number": 1 + i // 3} for i, n in enumerate(names)]
    if serials:
        fleet["sites"][0]["devices"] = [{"serial": s} for s in serials]
    return fleet


class Console:
    """The running service, its twin, the API client, and the pages seen so far (for the secrets check)."""

    def __init__(self, url: str, api: httpx.Client, twin: httpx.Client, org_id: str, state: Path) -> None:
        self.url, self.api, self.twin, self.org_id, self.state = url, api, twin, org_id, state
        self.serials = [d["serial"] for d in twin.get(f"/api/v1/orgs/{org_id}/inventory").json()][:2]

    @contextmanager
    def org_held(self) -> Iterator[None]:
        """Hold the org's lock in the shared state file: a deployment started meanwhile waits for it."""
        name = org_lock(self.org_id)

        async def lock(take: bool) -> None:
            async with SqliteStore(self.state) as store:
                assert await store.acquire_lock(name, "console-test", 300) if take else \
                    await store.release_lock(name, "console-test")

        with ThreadPoolExecutor(1) as pool:  # its own event loop, away from Playwright's
            pool.submit(asyncio.run, lock(True)).result()
            try:
                yield
            finally:
                pool.submit(asyncio.run, lock(False)).result()

    def twin_writes(self) -> dict[str, int]:
        """The twin's non-GET calls so far, by route."""
        routes = self.twin.get("/__twin/counters").json()["by_route"]
        return {r: n for r, n in routes.items() if not r.startswith("GET ")}

    def deploy(self, fleet: dict[str, Any]) -> str:
        accepted = self.api.post("/deployments", json={"fleet": fleet}, headers=KEY)
        assert accepted.status_code == 202, accepted.text
        return str(accepted.json()["id"])

    def wait(self, run_id: str) -> None:
        """Follow the run's API event stream until it ends."""
        events = self.api.get(f"/deployments/{run_id}/events", headers=KEY)
        assert "event: end" in events.text

    def shot(self, page: Page, name: str) -> None:
        """Save a full-page screenshot; the page must show no secret (token, service key, passphrase)."""
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        html = page.content()
        for secret in (TWIN_TOKEN, SERVICE_KEY, *PASSPHRASES):
            assert secret not in html, f"{secret[:6]}... on page {name}"


@pytest.fixture(scope="module")
def console() -> Iterator[Console]:
    with serving(TwinConfig(token=TWIN_TOKEN, inventory_count=4, latency_ms=40)) as running:
        yield running


@contextmanager
def serving(config: TwinConfig) -> Iterator[Console]:
    """`mistctl twin serve` with `config` and `mistctl serve` on it (a SQLite state file in a temp dir)."""
    with tempfile.TemporaryDirectory() as tmp, running_twin(config, via_cli=True) as (twin_url, org_id, _t), \
            httpx.Client(base_url=twin_url, headers={"Authorization": f"Token {TWIN_TOKEN}"}) as twin:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("MIST_", "MISTCTL_"))}
        env = {**keep, "MIST_HOST": twin_url, "MIST_APITOKEN": TWIN_TOKEN, "MISTCTL_API_KEYS": SERVICE_KEY,
               "MISTCTL_STATE": f"sqlite:///{tmp}/state.db", "PYTHONUNBUFFERED": "1"}
        with running_service(env, Path(tmp)) as (url, _log), httpx.Client(base_url=url, timeout=120) as api:
            yield Console(url, api, twin, org_id, Path(tmp) / "state.db")


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium, headless, launched by Playwright (skips the test when it cannot be had)."""
    executable = _chromium()
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    with chromium() as launched:
        yield launched


@pytest.fixture()
def page(browser: Browser, console: Console) -> Iterator[Page]:
    """A fresh browser context (its own cookies) on a laptop-sized screen, signed in."""
    tab = signed_in(browser, console.url, 1366)
    try:
        yield tab
    finally:
        tab.context.close()


def signed_in(browser: Browser, url: str, width: int, height: int = 800, start: str = "/ui") -> Page:
    """A new browser context (its own cookies) of this screen size, signed in from `start` with the
    service key; the fleet page is showing."""
    context = browser.new_context(base_url=url, viewport={"width": width, "height": height})
    tab = context.new_page()
    tab.goto(start)
    tab.get_by_label("Service key").fill(SERVICE_KEY)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("heading", name="Fleet", exact=True)).to_be_visible()
    return tab


def test_login_is_required_and_a_wrong_key_is_refused(browser: Browser, console: Console) -> None:
    context = browser.new_context(base_url=console.url, viewport={"width": 1366, "height": 800})
    try:
        tab = context.new_page()
        tab.goto("/ui/ipam")
        expect(tab).to_have_url(f"{console.url}/ui/login?next=%2Fui%2Fipam")
        console.shot(tab, "01-login")
        tab.get_by_label("Service key").fill("not-the-key-at-all")
        tab.get_by_role("button", name="Sign in").click()
        expect(tab.get_by_role("alert")).to_contain_text("not one of the service keys")
        tab.get_by_label("Service key").fill(SERVICE_KEY)
        tab.get_by_role("button", name="Sign in").click()
        expect(tab).to_have_url(f"{console.url}/ui/ipam")  # back where the visitor wanted to go
        cookie = next(c for c in context.cookies() if c["name"] == "mistctl_session")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
        assert SERVICE_KEY not in cookie["value"]
    finally:
        context.close()


def test_an_applied_fleet_its_site_and_the_ip_plan(page: Page, console: Console) -> None:
    names = [f"Store-{n:03d}" for n in range(1, 7)]
    run_id = console.deploy(_fleet(names, console.serials))
    console.wait(run_id)
    page.reload()
    expect(page.locator(".counts .c-done .n")).to_have_text("6")
    expect(page.get_by_role("link", name="Store-006")).to_be_visible()
    expect(page.get_by_role("link", name=run_id[:8]).first).to_be_visible()
    console.shot(page, "02-fleet")

    page.get_by_role("link", name="Store-001").click()
    expect(page.get_by_role("heading", name="Store-001")).to_be_visible()
    expect(page.get_by_text("10.0.0.0/22")).to_be_visible()  # zone 1, store 1: the first /22
    expect(page.get_by_role("cell", name=console.serials[0])).to_be_visible()
    expect(page.get_by_text("store-spoke")).to_be_visible()  # its gateway template, by name
    expect(page.locator(".calls")).to_contain_text("2 Mist API calls")
    console.shot(page, "03-site")

    page.get_by_role("link", name="IP plan").click()
    expect(page.locator("svg.ipam")).to_be_visible()
    zone1 = page.get_by_role("row").filter(has_text="us-east")
    expect(zone1).to_contain_text("2,046")  # 2,048 blocks, two stores in zone 1
    console.shot(page, "04-ipam")


def test_a_deployment_is_watched_until_done(page: Page, console: Console) -> None:
    names = [f"Store-{n:03d}" for n in range(1, 25)]
    with console.org_held():  # the run waits for the org, so the page surely opens before it ends
        run_id = console.deploy(_fleet(names, console.serials))
        page.goto(f"/ui/deployments/{run_id}")
        expect(page.locator("#live")).to_contain_text("pending")
        console.shot(page, "05-deployment-waiting")
    live = page.locator("#live")
    expect(live).to_have_attribute("data-ended", "true", timeout=120_000)  # the page followed the events
    expect(live.get_by_role("heading", name="Final report")).to_be_visible()
    expect(live).to_contain_text("completed")
    expect(live.locator(".c-done .n")).to_have_text("24")
    console.shot(page, "06-deployment-done")


def test_an_invalid_fleet_shows_its_errors_and_a_valid_one_its_plan(page: Page, console: Console) -> None:
    bad = _fleet(["Store-BAD-1", "Store-BAD-2"])
    bad["sites"][1]["zone"] = 9
    bad["site_defaults"]["country_code"] = "usa"
    page.get_by_role("link", name="Plan a fleet").click()
    page.get_by_label("Fleet file (YAML), pasted").fill(yaml.safe_dump(bad))
    page.get_by_role("button", name="Validate and plan").click()
    expect(page.get_by_role("heading", name="problems in pasted fleet")).to_be_visible()
    issues = page.locator("table.issues")
    expect(issues).to_contain_text("zone 9")
    expect(issues).to_contain_text("country_code")
    console.shot(page, "07-plan-invalid")

    writes_before = console.twin_writes()
    good = _fleet([f"Store-{n:03d}" for n in range(1, 30)])
    page.get_by_label("Fleet file (YAML), pasted").fill(yaml.safe_dump(good))
    page.get_by_role("button", name="Validate and plan").click()
    expect(page.get_by_role("heading", name="Plan of pasted fleet")).to_be_visible()
    expect(page.locator(".counts .c-create .n")).not_to_have_text("0")  # five new stores to create
    console.shot(page, "08-plan")
    assert console.twin_writes() == writes_before  # planning wrote nothing to Mist


def test_pages_read_without_javascript(browser: Browser, console: Console) -> None:
    fleet = _fleet(["Store-NOJS-1"])
    fleet["sites"][0]["number"] = 100  # its own block: zone 1, the 100th /22
    run_id = console.deploy(fleet)
    console.wait(run_id)
    context = browser.new_context(base_url=console.url, java_script_enabled=False,
                                  viewport={"width": 1366, "height": 800})
    try:
        tab = context.new_page()
        tab.goto("/ui/login")
        tab.get_by_label("Service key").fill(SERVICE_KEY)
        tab.get_by_role("button", name="Sign in").click()
        tab.get_by_label("Name contains").fill("NOJS")
        tab.get_by_role("button", name="Filter").click()
        expect(tab.get_by_text("Sites 1–1 of 1 matching")).to_be_visible()
        tab.get_by_role("link", name="Store-NOJS-1").click()
        expect(tab.get_by_text("10.1.140.0/22")).to_be_visible()
        tab.goto(f"/ui/deployments/{run_id}")
        expect(tab.get_by_role("heading", name="Final report")).to_be_visible()
        console.shot(tab, "09-deployment-without-javascript")
    finally:
        context.close()
