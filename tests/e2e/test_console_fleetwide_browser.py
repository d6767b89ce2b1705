"""The fleet-wide pages in a real browser (Debian's chromium via Playwright) against `mistctl serve` and
`mistctl twin serve` as processes: map, assurance, rollouts, PSKs and audit at a desktop width (1280)
and a phone width (390, no sideways scrolling), hostile names shown as text (no script runs, no image
is made), a click on a map mark opens the site. Screenshots go to a temporary directory and are checked.
"""

from __future__ import annotations

import asyncio
import os
import struct
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from mistctl.store.sqlite import SqliteStore
from tests.e2e.test_console_browser import PASSPHRASES, SERVICE_KEY, Console, _fleet, chromium, signed_in
from tests.e2e.test_console_browser import console as console  # noqa: PLC0414 (the module's fixture)
from tests.e2e.test_console_fleetwide import IMG, SCRIPT, hostile_records

pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency: make venv")
from playwright.sync_api import Browser, expect  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
WIDTHS = {"desktop": 1280, "phone": 390}
#: each page, a text it must show, and a hostile name it shows (as text)
PAGES = {
    "map": ("/ui/map", "Without coordinates", SCRIPT),
    "map-sle": ("/ui/map?colour=sle", "colour by state instead", IMG),
    "assurance": ("/ui/assurance", "below threshold", SCRIPT),
    "rollouts": ("/ui/rollouts", "Gates", IMG),
    "psks": ("/ui/psks", "rotated: the old passphrase is kept", IMG),
    "audit": ("/ui/audit", "Entries 1–", IMG),
    "ipam": ("/ui/ipam", "Find its site and segment", None),
    "ipam-find": ("/ui/ipam/address?ip=10.32.0.9", "Store-002", None),
    "ipam-find-hostile": (f"/ui/ipam/address?ip={IMG}", "is not an IPv4 address", None),
}


@pytest.fixture(scope="module")
def shots() -> Iterator[Path]:
    """A temporary directory, or CONSOLE_SHOTS_DIR to keep the screenshots for a look."""
    kept = os.environ.get("CONSOLE_SHOTS_DIR")
    if kept:
        Path(kept).mkdir(parents=True, exist_ok=True)
        yield Path(kept)
        return
    with tempfile.TemporaryDirectory(prefix="console-shots-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:  # no shared screenshot folder: this module keeps its own
        yield launched


@pytest.fixture(scope="module")
def filled(console: Console) -> Console:
    """A deployed fleet with coordinates, then hostile records written to the service's state file."""
    fleet = _fleet(["Store-001", "Store-002", "Store-003"])
    fleet["sites"][0]["latlng"] = {"lat": 51.5072, "lng": -0.1276}
    fleet["sites"][1]["latlng"] = {"lat": 35.6762, "lng": 139.6503}
    console.wait(console.deploy(fleet))

    async def write() -> None:
        async with SqliteStore(console.state) as store:
            await hostile_records(store, console.org_id)

    with ThreadPoolExecutor(1) as pool:  # its own event loop, away from Playwright's
        pool.submit(asyncio.run, write()).result()
    return console


def png_width(path: Path) -> int:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    return int(struct.unpack(">I", header[16:20])[0])


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_each_fleet_wide_page_at_desktop_and_phone_widths(browser: Browser, filled: Console, shots: Path,
                                                          screen: str) -> None:
    width = WIDTHS[screen]
    tab = signed_in(browser, filled.url, width, 900, start="/ui/login")
    dialogs: list[str] = []
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        for name, (path, text, hostile) in PAGES.items():
            tab.goto(path)
            expect(tab.get_by_text(text).first).to_be_visible()
            if hostile:
                expect(tab.get_by_text(hostile).first).to_be_attached()  # the name as text
            assert tab.locator('img[src="x"]').count() == 0, f"markup from a name became an element on {name}"
            overflow = tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
            shot = shots / f"{name}-{screen}.png"
            tab.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 5_000 and png_width(shot) == width
            for secret in (SERVICE_KEY, "sha256:" + "a" * 64):
                assert secret not in tab.content()
        assert dialogs == []  # no script from a name ran
    finally:
        tab.context.close()


def test_a_map_mark_opens_its_site_and_names_it_on_hover(browser: Browser, filled: Console) -> None:
    tab = signed_in(browser, filled.url, 1280, 900, start="/ui/login")
    try:
        tab.goto("/ui/map")
        mark = tab.locator('svg.worldmap a[href="/ui/sites/Store-002"]')
        expect(mark).to_have_count(1)
        expect(mark.locator("title")).to_have_text("Store-002: done (35.6762, 139.6503)")
        expect(tab.get_by_role("link", name="Store-002: done (35.6762, 139.6503)")).to_have_count(1)
        hostile = tab.locator("svg.worldmap title").filter(has_text=SCRIPT)
        expect(hostile).to_have_count(1)  # the hostile name, as the mark's tooltip text
        mark.locator("circle").click()
        expect(tab).to_have_url(f"{filled.url}/ui/sites/Store-002")
        expect(tab.get_by_role("heading", name="Store-002")).to_be_visible()
        tab.goto("/ui/map")
        expect(tab.locator(".unplaced")).to_contain_text("Store-003")
    finally:
        tab.context.close()


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_a_pasted_fleet_stays_in_the_plan_form_after_an_error(browser: Browser, filled: Console, shots: Path,
                                                            screen: str) -> None:
    tab = signed_in(browser, filled.url, WIDTHS[screen], 900, start="/ui/login")
    try:
        bad = _fleet(["Store-001", "Store-002", "Store-009"])
        bad["sites"][2]["zone"] = 9
        tab.goto("/ui/plan")
        tab.get_by_label("Fleet file (YAML), pasted").fill(yaml.safe_dump(bad))
        tab.get_by_role("button", name="Validate and plan").click()
        expect(tab.get_by_role("heading", name="problem in pasted fleet")).to_be_visible()
        kept = tab.get_by_label("Fleet file (YAML), pasted").input_value()
        assert "Store-009" in kept and "zone: 9" in kept and "__kept_secret_1__" in kept
        assert PASSPHRASES[0] not in tab.content()
        tab.get_by_label("Fleet file (YAML), pasted").fill(kept.replace("zone: 9", "zone: 3"))
        tab.get_by_role("button", name="Validate and plan").click()
        expect(tab.get_by_role("heading", name="Plan of pasted fleet")).to_be_visible()
        expect(tab.locator("details.group summary").filter(has_text="Site Store-009").first).to_be_visible()
        overflow = tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        wide = tab.evaluate("""[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right >
            document.documentElement.clientWidth + 1).slice(0, 6).map(e => e.tagName + '.' + e.className)""")
        assert overflow <= 0, f"the plan scrolls sideways by {overflow}px: {wide}"
        shot = shots / f"plan-{screen}.png"
        tab.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5_000 and png_width(shot) == WIDTHS[screen]
    finally:
        tab.context.close()
