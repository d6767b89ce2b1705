"""The web console through httpx against the service app (the twin in-process): login and the session
cookie, every page, the login redirect, escaping, no secrets on any page, no writes from the plan page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import yaml

from mistctl.designs import default_design_text
from mistctl.store.models import AuditEntry, Run, SiteState, StepRecord, utcnow
from mistctl.web.session import COOKIE
from tests.integration.test_api_support import OTHER_KEY, SERVICE_KEY, Harness, service

PASSPHRASE = "scanner-example-pass-01"  # a PSK passphrase of the default design
PAGES = ("/ui", "/ui/ipam", "/ui/plan", "/ui/ipam.svg")


@dataclass
class Browser:
    """An httpx client on the console with its cookie jar; `pages` keeps every answer (the secrets check)."""

    svc: Harness
    client: httpx.AsyncClient
    pages: list[httpx.Response]

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        answer = await self.client.get(path, **kwargs)
        self.pages.append(answer)
        return answer

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        answer = await self.client.post(path, **kwargs)
        self.pages.append(answer)
        return answer

    async def login(self, key: str = SERVICE_KEY) -> httpx.Response:
        return await self.post("/ui/login", data={"key": key, "next": "/ui"})

    async def csrf(self) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', (await self.get("/ui/plan")).text)
        assert found is not None
        return found.group(1)


@asynccontextmanager
async def console(**twin: Any) -> AsyncIterator[Browser]:
    """The service on a fresh twin and a cookie-keeping client (https: the cookie is Secure)."""
    async with service(**twin) as svc, httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.app),
                                                         base_url="https://console") as client:
        yield Browser(svc, client, [])


def fleet_of(svc: Harness, sites: int) -> dict[str, Any]:
    fleet: dict[str, Any] = yaml.safe_load(default_design_text())
    fleet["sites"] = [{"name": f"Store-{n:03d}", "zone": 1, "number": n} for n in range(1, sites + 1)]
    fleet["sites"][0]["devices"] = [{"serial": s} for s in svc.serials(2)]
    return fleet


async def deploy(svc: Harness, fleet: dict[str, Any]) -> str:
    accepted = await svc.client.post("/deployments", json={"fleet": fleet}, headers=svc.key)
    assert accepted.status_code == 202, accepted.text
    run_id = str(accepted.json()["id"])
    await svc.ctx.deployments.wait(run_id)
    return run_id


def assert_no_secrets(pages: list[httpx.Response], *secrets: str) -> None:
    assert pages
    for answer in pages:
        for secret in secrets:
            assert secret not in answer.text, f"a secret on {answer.request.url}"
            assert secret not in str(answer.headers), f"a secret in the headers of {answer.request.url}"


async def test_pages_need_a_session_and_the_cookie_is_signed_http_only_secure_and_lax() -> None:
    async with console() as ui:
        for path in (*PAGES, "/ui/sites/Store-001", "/ui/deployments/abc", "/ui/deployments/abc/events"):
            answer = await ui.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/ui/login?next=")
        refused = await ui.login("svc-key-wrong")
        assert refused.status_code == 401 and "not one of the service keys" in refused.text
        assert COOKIE not in ui.client.cookies
        signed_in = await ui.login()
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/ui"
        cookie = signed_in.headers["set-cookie"]
        for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/ui"):
            assert attribute in cookie
        assert SERVICE_KEY not in cookie
        for path in PAGES:
            assert (await ui.get(path)).status_code == 200, path
        assert (await ui.login(OTHER_KEY)).status_code == 303  # every configured key may sign in
        ui.client.cookies.clear()
        form = (await ui.client.get("/ui/login")).text
        assert 'name="key"' in form and "plain HTTP" not in form  # https: no warning
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ui.svc.app),
                                     base_url="http://console.example") as plain:
            assert "plain HTTP" in (await plain.get("/ui/login")).text  # the Secure cookie would be lost


async def test_a_tampered_cookie_is_refused_and_sign_out_ends_the_session() -> None:
    async with console() as ui:
        await ui.login()
        value = ui.client.cookies[COOKIE]
        actor, expires, sid, signature = value.split(".")
        domain = next(c.domain for c in ui.client.cookies.jar)
        ui.client.cookies.clear()
        forged = f"{actor}.{int(expires) + 999999}.{sid}.{signature}"  # a longer session, the old signature
        ui.client.cookies.set(COOKIE, forged, domain=domain, path="/ui")
        assert (await ui.get("/ui")).status_code == 303
        ui.client.cookies.clear()
        await ui.login()
        kept = ui.client.cookies[COOKIE]  # a copy of the cookie, as a thief or another tab would keep it
        other = httpx.AsyncClient(transport=httpx.ASGITransport(app=ui.svc.app), base_url="https://console",
                                  cookies={COOKIE: kept})
        async with other:
            assert (await other.get("/ui")).status_code == 200
            csrf = await ui.csrf()
            assert (await ui.post("/ui/logout", data={"csrf": "forged"})).status_code == 403
            assert (await ui.post("/ui/logout", data={"csrf": csrf})).status_code == 303
            assert (await ui.get("/ui")).status_code == 303
            replayed = await other.get("/ui")  # the signed, unexpired cookie is refused after sign-out
        assert replayed.status_code == 303 and replayed.headers["location"].startswith("/ui/login")
        ui.client.cookies.set(COOKIE, kept, domain=domain, path="/ui")
        assert (await ui.get("/ui")).status_code == 303


async def test_the_login_form_refuses_a_cross_site_post() -> None:
    async with console() as ui:
        for header in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                       {"Referer": "https://evil.example/phish"}):
            answer = await ui.client.post("/ui/login", data={"key": SERVICE_KEY, "next": "/ui"}, headers=header)
            assert answer.status_code == 403 and "posted from another site" in answer.text, header
            assert COOKIE not in ui.client.cookies and "set-cookie" not in answer.headers
        same = await ui.client.post("/ui/login", data={"key": SERVICE_KEY, "next": "/ui"},
                                    headers={"Origin": "https://console"})
        assert same.status_code == 303 and COOKIE in ui.client.cookies


async def test_failed_logins_are_throttled_per_client_with_retry_after() -> None:
    async with console() as ui:
        answers = [await ui.login(f"wrong-key-{n:04d}-" + "x" * 30) for n in range(40)]
        codes = [a.status_code for a in answers]
        right = await ui.login()  # the client is held back even with the right key, until the window ends
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}, codes
    assert 0 < int(answers[-1].headers["retry-after"]) <= 60
    assert "try again in" in answers[-1].text
    assert right.status_code == 429 and COOKIE not in ui.client.cookies


async def test_login_goes_back_to_the_page_asked_for_but_never_off_the_console() -> None:
    async with console() as ui:
        answer = await ui.post("/ui/login", data={"key": SERVICE_KEY, "next": "/ui/ipam"})
        assert answer.headers["location"] == "/ui/ipam"
        for elsewhere in ("https://evil.example/ui", "//evil.example/ui", "/uievil", "/docs"):
            ui.client.cookies.clear()
            answer = await ui.post("/ui/login", data={"key": SERVICE_KEY, "next": elsewhere})
            assert answer.headers["location"] == "/ui", elsewhere


async def test_an_applied_fleet_shows_on_the_fleet_site_ipam_and_deployment_pages() -> None:
    async with console(inventory_count=4) as ui:
        run_id = await deploy(ui.svc, fleet_of(ui.svc, 3))
        await ui.login()
        fleet = (await ui.get("/ui")).text
        assert re.search(r'c-done"><a[^>]*>\s*<span class="n">3</span>', fleet)
        assert all(f"/ui/sites/Store-00{n}" in fleet for n in (1, 2, 3)) and run_id[:8] in fleet
        site = await ui.get("/ui/sites/Store-002")
        assert site.status_code == 200
        assert "10.0.4.0/22" in site.text and "10.0.4.1" in site.text  # zone 1 store 2, mgmt gateway
        assert "store-spoke" in site.text and "retail-stores" in site.text  # bound by name
        assert "2 Mist API calls" in site.text
        devices = (await ui.get("/ui/sites/Store-001")).text
        assert all(serial in devices for serial in ui.svc.serials(2))
        ipam = (await ui.get("/ui/ipam")).text
        assert "<svg" in ipam and "2,045" in ipam  # zone 1: 2,048 blocks less three stores
        report = (await ui.get(f"/ui/deployments/{run_id}")).text
        assert "Final report" in report and "completed" in report and 'data-events' not in report
        live = (await ui.get(f"/ui/deployments/{run_id}/live")).text
        assert "<html" not in live and "Final report" in live
        events = await ui.get(f"/ui/deployments/{run_id}/events")
        assert events.headers["content-type"].startswith("text/event-stream")
        assert events.text.count("event: site_done") == 3 and "event: end" in events.text
        assert (await ui.get("/ui/sites/Nowhere")).status_code == 404
        await ui.svc.store.put_site_state(SiteState(org_id=ui.svc.org_id, name="Gone", zone="1", number=9,
                                                    status="done", site_id="no-such-site"))
        gone = await ui.get("/ui/sites/Gone")  # deleted in Mist since: the page still shows the rest
        assert gone.status_code == 200 and "Mist could not be read" in gone.text
        assert "10.0.32.0/22" in gone.text
        assert (await ui.get("/ui/deployments/nope")).status_code == 404
        assert_no_secrets(ui.pages, SERVICE_KEY, OTHER_KEY, ui.svc.twin.token, PASSPHRASE)


async def test_the_fleet_page_pages_filters_and_searches() -> None:
    async with console() as ui:
        org = ui.svc.org_id
        states = [SiteState(org_id=org, name=f"Shop-{n:04d}", zone=str(1 + n % 3), number=n,
                            status="failed" if n % 10 == 0 else "done") for n in range(1, 251)]
        await ui.svc.store.put_site_states(states)
        await ui.login()
        first = (await ui.get("/ui")).text
        assert "Sites 1–100 of 250" in first and "Page 1 of 3" in first and "Shop-0100" in first
        third = (await ui.get("/ui?page=3")).text
        assert "Sites 201–250 of 250" in third and "Shop-0250" in third and "Shop-0100" not in third
        failed = (await ui.get("/ui?status=failed")).text
        assert "of 25 matching" in failed and "Shop-0011" not in failed
        zone = (await ui.get("/ui?zone=2&q=shop-00")).text  # names Shop-0001..0099 in zone 2: n % 3 == 1
        assert "of 33 matching" in zone and "Shop-0004" in zone and "Shop-0003" not in zone
        nothing = (await ui.get("/ui?q=nomatch")).text
        assert "No site matches" in nothing
        odd = await ui.get("/ui?status=bogus&page=x&zone=a")  # unusable filters are ignored
        assert odd.status_code == 200 and "Sites 1–100 of 250" in odd.text


async def test_everything_a_user_controls_is_escaped() -> None:
    async with console() as ui:
        nasty = '<script>alert("x")</script>'
        org = ui.svc.org_id
        await ui.svc.store.put_site_state(SiteState(org_id=org, name=f"Shop {nasty}", zone="1", number=7,
                                                    status="failed", error=f"boom {nasty}"))
        await ui.svc.store.append_audit(AuditEntry(site=f"Shop {nasty}", method="POST", path="/api/v1/x",
                                                   kind="sites", name=nasty, status=200))
        await ui.svc.store.create_run(Run(kind=f"apply{nasty}", org_id=org, error=nasty))
        await ui.login()
        run_id = (await ui.svc.store.list_runs())[0].id
        for path in ("/ui", "/ui?q=" + nasty, f"/ui/sites/Shop {nasty}", f"/ui/deployments/{run_id}",
                     "/ui/ipam"):
            answer = await ui.get(path)
            assert answer.status_code == 200, path
            assert "<script>alert" not in answer.text, path
        assert "&lt;script&gt;alert" in ui.pages[-2].text


async def test_an_invalid_fleet_lists_its_problems_and_a_valid_one_is_planned_without_writes() -> None:
    async with console() as ui:
        await ui.login()
        csrf = await ui.csrf()
        bad = fleet_of(ui.svc, 2)
        bad["sites"][1]["zone"] = 9
        bad["site_defaults"]["country_code"] = "usa"
        answer = await ui.post("/ui/plan", data={"csrf": csrf, "fleet": yaml.safe_dump(bad)})
        assert answer.status_code == 422
        assert "2 problems in pasted fleet" in answer.text
        assert "site &#39;Store-002&#39;" in answer.text and "zone 9" in answer.text
        assert "country_code" in answer.text
        good = yaml.safe_dump(fleet_of(ui.svc, 2)).encode()
        upload = await ui.post("/ui/plan", data={"csrf": csrf}, files={"fleet_file": ("stores.yaml", good)})
        assert upload.status_code == 200 and "Plan of stores.yaml" in upload.text
        assert re.search(r'c-create"><span class="n">(\d+)', upload.text)
        assert ui.svc.writes() == {} and await ui.svc.store.list_runs() == []  # nothing written anywhere
        forged = await ui.post("/ui/plan", data={"csrf": "nope", "fleet": "x"})
        assert forged.status_code == 403
        assert_no_secrets(ui.pages, PASSPHRASE, SERVICE_KEY, ui.svc.twin.token)


async def test_a_fleet_naming_a_sites_csv_uses_the_csv_uploaded_with_it() -> None:
    async with console() as ui:
        await ui.login()
        csrf = await ui.csrf()
        fleet = fleet_of(ui.svc, 1)
        fleet["sites"] = "sites.csv"
        text = yaml.safe_dump(fleet)
        missing = await ui.post("/ui/plan", data={"csrf": csrf, "fleet": text})
        assert missing.status_code == 422 and "Sites CSV" in missing.text
        csv = b"#name,zone,number\nCSV-Store-1,1,1\nCSV-Store-2,2,1\n"
        planned = await ui.post("/ui/plan", data={"csrf": csrf, "fleet": text},
                                files={"sites_csv": ("sites.csv", csv)})
        assert planned.status_code == 200 and "CSV-Store-2" in planned.text
        latin = await ui.post("/ui/plan", data={"csrf": csrf},
                              files={"fleet_file": ("f.yaml", b"\xff\xfe\x00")})
        assert latin.status_code == 422 and "is not UTF-8 text" in latin.text


async def test_pages_carry_security_headers_and_stay_out_of_the_api_schema() -> None:
    async with console() as ui:
        await ui.login()
        answer = await ui.get("/ui")
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"
        css = await ui.get("/ui/static/console.css")
        assert css.status_code == 200 and "text/css" in css.headers["content-type"]
        schema = (await ui.svc.client.get("/openapi.json")).json()
        assert not [p for p in schema["paths"] if p.startswith("/ui")]


async def test_a_partly_failed_deployment_reports_its_failed_sites_with_step_and_error() -> None:
    async with console() as ui:
        org, store = ui.svc.org_id, ui.svc.store
        run = await store.create_run(Run(kind="apply", org_id=org, status="partial", started_at=utcnow(),
                                         finished_at=utcnow(), error="site Shop-3 step 4: bad subnet"))
        counts = {"sites_total": 3, "sites_done": 2, "sites_failed": 1, "writes": 7}
        await store.incr_run_counts(run.id, counts)
        await store.put_site_states([
            SiteState(org_id=org, name=f"Shop-{n}", zone="1", number=n, last_run_id=run.id,
                      status="failed" if n == 3 else "done", failed_step=4 if n == 3 else None,
                      error="bad subnet" if n == 3 else None) for n in (1, 2, 3)])
        steps = [StepRecord(run_id=run.id, org_id=org, site=f"Shop-{n}", step=1, kind="sites",
                            key=f"Shop-{n}", status="done") for n in (1, 2, 3)]
        await store.record_steps(steps)
        await ui.login()
        page = (await ui.get(f"/ui/deployments/{run.id}")).text
        assert "Final report" in page and "partial" in page and "Sites failed (1)" in page
        failed = page[page.index("Sites failed"):page.index("Sites done")]
        assert "Shop-3" in failed and "bad subnet" in failed and ">4</td>" in failed
        assert "Shop-1" not in failed
        assert "Sites done (2)" in page and "7 of" not in page  # no plan recorded: no estimate shown
        fleet = (await ui.get("/ui")).text
        assert "2 / 1 / 3" in fleet  # the run's sites done / failed / total on the fleet page
