"""The plan page: changes grouped by kind and by site with their values before and after, deletes marked;
a pasted fleet kept in the form after an error with its secrets masked (and put back when submitted)."""

from __future__ import annotations

import html
import re

import yaml

from tests.e2e.test_console_pages import PASSPHRASE, assert_no_secrets, console, deploy, fleet_of

WLAN_PSK = "corp-example-passphrase-rotate-me"


def textarea(page: str) -> str:
    found = re.search(r'<textarea id="fleet" name="fleet"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert found is not None
    return html.unescape(found.group(1))


def kept_field(page: str) -> str | None:
    found = re.search(r'name="kept" value="([^"]+)"', page)
    return found.group(1) if found else None


async def test_changes_are_grouped_by_kind_and_site_with_before_and_after_and_deletes_marked() -> None:
    async with console() as ui:
        fleet = fleet_of(ui.svc, 3)
        await deploy(ui.svc, fleet)
        changed = yaml.safe_load(yaml.safe_dump(fleet))
        changed["sites"] = changed["sites"][:2]
        changed["sites"][1]["address"] = "1 Changed Road, Springfield"
        await ui.login()
        page = (await ui.post("/ui/plan", data={"csrf": await ui.csrf(), "fleet": yaml.safe_dump(changed)})).text
        groups = re.findall(r'<details class="group"[^>]*>\s*<summary>(.*?)</summary>', page, re.DOTALL)
        titles = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", g)).strip() for g in groups]
        assert titles == ["sites 1 change, 1 delete", "Site Store-002 1 change"]  # org kinds first, then sites
        store2 = page.split('href="/ui/sites/Store-002"')[1].split("</details>")[0]
        assert "<code>address</code>" in store2 and "1 Changed Road, Springfield" in store2
        before = re.search(r'<td class="wrap before">([^<]*)</td><td class="wrap after">1 Changed Road', store2)
        assert before is not None and before.group(1) == "&#34;&#34;"  # the live value (empty) shown beside it
        assert '<tbody class="deleted">' in page and ">DELETE<" in page
        deleted = page.split('<tbody class="deleted">')[1].split("</tbody>")[0]
        assert "Store-003" in deleted and "--allow-delete" in deleted
        assert [s["name"] for s in ui.svc.twin.objects("sites")] == ["Store-001", "Store-002", "Store-003"]


async def test_a_pasted_fleet_is_kept_after_an_error_with_its_secrets_masked_and_put_back() -> None:
    async with console() as ui:
        fleet = fleet_of(ui.svc, 2)
        await deploy(ui.svc, fleet)  # the PSKs exist with the fleet's passphrases
        deployed = ui.svc.writes()
        await ui.login()
        csrf = await ui.csrf()
        bad = yaml.safe_load(yaml.safe_dump(fleet))
        bad["sites"][1]["zone"] = 9
        answer = await ui.post("/ui/plan", data={"csrf": csrf, "fleet": yaml.safe_dump(bad)})
        assert answer.status_code == 422 and "zone 9" in answer.text
        kept, sealed = textarea(answer.text), kept_field(answer.text)
        assert "Store-002" in kept and "zone: 9" in kept and sealed
        assert PASSPHRASE not in answer.text and WLAN_PSK not in answer.text
        assert re.search(r"passphrase: __kept_secret_\d+__", kept) and re.search(r"psk: __kept_secret_\d+__", kept)

        fixed = kept.replace("zone: 9", "zone: 1")
        again = await ui.post("/ui/plan", data={"csrf": csrf, "fleet": fixed, "kept": sealed})
        assert again.status_code == 200, again.text[-2000:]
        assert 'c-update"><span class="n">0<' in again.text  # the passphrases put back: no PSK or WLAN change
        assert "__kept_secret_" not in again.text

        twice = await ui.post("/ui/plan", data={"csrf": csrf, "fleet": kept, "kept": sealed})  # still zone 9
        assert twice.status_code == 422 and PASSPHRASE not in twice.text
        assert textarea(twice.text) == kept and kept_field(twice.text)  # kept again, secrets masked again

        lost = await ui.post("/ui/plan", data={"csrf": csrf, "fleet": fixed})
        assert lost.status_code == 422 and "write the passphrase in again" in lost.text
        other = await ui.post("/ui/plan", data={"csrf": csrf, "fleet": fixed, "kept": sealed[:-8] + "AAAAAAA="})
        assert other.status_code == 422 and "write the passphrase in again" in other.text
        assert_no_secrets(ui.pages, PASSPHRASE, WLAN_PSK)
        assert ui.svc.writes() == deployed  # planning wrote nothing


async def test_a_fleet_whose_secret_the_masking_cannot_find_is_not_sent_back() -> None:
    async with console() as ui:
        await ui.login()
        csrf = await ui.csrf()
        broken = f"\nbroken: [\n# passphrase as a block:\nx_secret: |\n  {PASSPHRASE}\n"
        text = yaml.safe_dump(fleet_of(ui.svc, 1)) + broken
        answer = await ui.post("/ui/plan", data={"csrf": csrf, "fleet": text})
        assert answer.status_code == 422 and PASSPHRASE not in answer.text
        assert "Paste the fleet again" in answer.text and textarea(answer.text) == ""
        aliased = yaml.safe_dump(fleet_of(ui.svc, 1)) + 'extra: {x: &p "alias-secret-value-1"}\nx_password: *p\n'
        answer = await ui.post("/ui/plan", data={"csrf": csrf, "fleet": aliased})
        assert answer.status_code == 422 and "alias-secret-value-1" not in answer.text
        assert "Paste the fleet again" in answer.text
