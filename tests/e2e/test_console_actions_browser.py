"""The console's actions in a real browser (Debian's chromium via Playwright) against `mistctl serve` and
`mistctl twin serve`, at a laptop's width (1280 px) and a phone's (390 px).

At each width: apply a reviewed plan, watch a pending deployment name the run it waits for and cancel it,
check drift and fix it, rotate a PSK (its passphrase shown once), open an upgrade run's page and the IP
plan. Every page is checked for horizontal overflow (`scrollWidth` <= the viewport) and saved as a
screenshot under a temporary directory; each screenshot must exist and not be empty, and the page's key
text must be visible when it is taken.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mist_twin.config import TwinConfig
from tests.e2e.test_console_browser import KEY, SERVICE_KEY, TWIN_TOKEN, Console, _fleet, chromium, serving, signed_in

pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency: make venv")
from playwright.sync_api import Browser, Page, expect  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
WIDTHS = (1280, 390)
GOOD = "0.14.29850"


class Shots:
    """Screenshots in a temporary directory: each checked for overflow, secrets, its key text and size."""

    def __init__(self, folder: Path, console: Console) -> None:
        self.folder, self.console, self.taken = folder, console, []  # type: list[Path]

    def take(self, page: Page, name: str, key_text: str) -> None:
        expect(page.get_by_text(key_text, exact=False).first).to_be_visible()
        width = page.viewport_size["width"] if page.viewport_size else 0
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name}: {scroll} px wide in a {width} px viewport"
        path = self.folder / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000, f"{path} is empty"
        html = page.content()
        for secret in (TWIN_TOKEN, SERVICE_KEY):
            assert secret not in html, f"a secret on {name}"
        self.taken.append(path)


@pytest.fixture(scope="module")
def lab() -> Iterator[tuple[Console, Path]]:
    config = TwinConfig(token=TWIN_TOKEN, inventory_count=4, latency_ms=5, upgrade_seconds=0)
    with serving(config) as console, tempfile.TemporaryDirectory() as shots:
        kept = os.environ.get("MISTCTL_TEST_SHOTS")  # a folder to keep the screenshots in, to look at them
        yield console, Path(kept or shots)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def aps_fleet(console: Console, names: list[str]) -> dict[str, Any]:
    fleet = _fleet(names)
    inventory = console.twin.get(f"/api/v1/orgs/{console.org_id}/inventory").json()
    fleet["sites"][0]["devices"] = [{"serial": d["serial"]} for d in inventory if d["type"] == "ap"]
    return fleet


@pytest.mark.parametrize("width", WIDTHS)
def test_the_actions_at_a_laptops_and_a_phones_width(browser: Browser, lab: tuple[Console, Path],
                                                     width: int) -> None:
    console, folder = lab
    shots = Shots(folder, console)
    tab = signed_in(browser, console.url, width)
    try:
        shots.take(tab, "fleet", "Fleet")
        names = [f"W{width}-{n}" for n in range(1, 4)]
        tab.goto("/ui/plan")
        tab.get_by_label("Fleet file (YAML), pasted").fill(yaml.safe_dump(aps_fleet(console, names)))
        tab.get_by_role("button", name="Validate and plan").click()
        expect(tab.get_by_role("heading", name="Apply this plan")).to_be_visible()
        shots.take(tab, "plan-reviewed", "Apply exactly these changes")
        tab.get_by_label("Apply exactly these changes").check()
        tab.get_by_role("button", name="Apply this plan").click()
        expect(tab.get_by_role("heading", name="Final report")).to_be_visible(timeout=120_000)
        expect(tab.locator("#live")).to_contain_text("completed", timeout=120_000)
        shots.take(tab, "deployment-applied", "Every site of this deployment is done")
        writes = console.twin_writes()

        tab.goto(f"/ui/sites/{names[0]}")
        shots.take(tab, "site", "recorded when the site was deployed")
        tab.goto("/ui/ipam")
        shots.take(tab, "ipam", "Capacity by zone")

        with console.org_held():
            run_id = console.deploy(_fleet([f"W{width}-late"]))
            tab.goto(f"/ui/deployments/{run_id}")
            shots.take(tab, "deployment-waiting", "Waiting for run")
            tab.get_by_label("Stop it").check()
            tab.get_by_role("button", name="Cancel the deployment").click()
        console.wait(run_id)
        tab.goto(f"/ui/deployments/{run_id}")
        expect(tab.locator("#live")).to_contain_text("cancelled")
        shots.take(tab, "deployment-cancelled", "cancelled")

        wlan = next(w for w in console.twin.get(f"/api/v1/orgs/{console.org_id}/wlans").json()
                    if w["ssid"] == "Store-IoT")
        changed = console.twin.put(f"/api/v1/orgs/{console.org_id}/wlans/{wlan['id']}", json={"hide_ssid": False})
        assert changed.status_code == 200
        tab.get_by_role("link", name="Drift").click()
        tab.get_by_role("button", name="Check for drift").click()
        expect(tab.get_by_role("heading", name="1 object drifted (1 field)")).to_be_visible()
        shots.take(tab, "drift", "hide_ssid")
        tab.get_by_label("Write the wanted values back").check()
        tab.get_by_role("button", name="Fix the drift").click()
        expect(tab.get_by_role("heading", name="Final report")).to_be_visible()
        shots.take(tab, "drift-fixed", "drift-fix")
        fixed = console.twin.get(f"/api/v1/orgs/{console.org_id}/wlans/{wlan['id']}").json()
        assert fixed["hide_ssid"] is True

        tab.get_by_role("link", name="PSK rotation").click()
        name = "shelf-labels" if width == WIDTHS[0] else "handheld-scanners"  # one rotation per PSK at a time
        tab.get_by_label("PSK names, one a line").first.fill(name)
        tab.get_by_label("Give these PSKs new passphrases now").check()
        tab.get_by_role("button", name="Rotate", exact=True).click()
        psk = next(p for p in console.twin.get(f"/api/v1/orgs/{console.org_id}/psks").json()
                   if p["name"] == name)
        expect(tab.locator("code.passphrase")).to_have_text(psk["passphrase"])
        assert psk["passphrase"] not in tab.url
        shots.take(tab, "psk-rotated", "Copy the new passphrases now")
        tab.goto("/ui/psk-rotation")
        assert psk["passphrase"] not in tab.content()

        assert console.twin.put("/__twin/sle-interval", json={"seconds": 1}).status_code == 200  # a short soak
        body = {"fleet": aps_fleet(console, names), "version": GOOD, "device_type": "ap", "soak": "0s",
                "waves": "1,100%"}
        upgrade = console.api.post("/lifecycle/upgrade", json=body, headers=KEY)
        assert upgrade.status_code == 202, upgrade.text
        console.wait(upgrade.json()["id"])
        tab.goto(f"/ui/deployments/{upgrade.json()['id']}")
        expect(tab.get_by_role("heading", name="Waves")).to_be_visible()
        shots.take(tab, "upgrade", GOOD)
        assert console.twin_writes() != writes  # the fix, the rotation and the upgrade wrote to Mist
    finally:
        tab.context.close()
    assert len(shots.taken) == 11
