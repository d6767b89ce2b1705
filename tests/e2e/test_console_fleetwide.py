"""The fleet-wide console pages through httpx (service app, twin in-process): the map from a deployed
fleet's coordinates, assurance from recorded SLE checks, rollouts, PSK rotations and the audit log, each
with hostile site and object names shown escaped (in the HTML and inside the SVGs)."""

from __future__ import annotations

import re
from datetime import timedelta

from mistctl.domain.ipplan import plan_site
from mistctl.store.models import AuditEntry, Run, SiteState, StepRecord, utcnow
from mistctl.web.site_page import design_fleet
from mistctl.workflow.assure import HealthReport, SiteHealth, record_health
from mistctl.workflow.psk_records import FP_KIND, ROTATION_KIND, ROTATION_STEP
from tests.e2e.test_console_pages import assert_no_secrets, console, deploy, fleet_of

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = (SCRIPT, IMG)
PAGES = ("/ui/map", "/ui/map?colour=sle", "/ui/assurance", "/ui/rollouts", "/ui/psks", "/ui/audit")


def assert_escaped(html: str) -> None:
    """No hostile markup survives as markup; its escaped text is there."""
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


async def hostile_records(store, org_id: str) -> None:
    """Sites, SLE checks, a rollout, a PSK rotation and audit entries named with markup."""
    await store.put_site_states([
        SiteState(org_id=org_id, name=SCRIPT, status="done", latlng=(48.85, 2.35)),
        SiteState(org_id=org_id, name=IMG, status="failed"),
    ])
    for worst in (0.95, 0.7):
        report = HealthReport(org_id, 0.9, {"wifi": ("coverage",)}, sites=[
            SiteHealth(SCRIPT, "s1", values={"coverage": worst}, failing={"coverage": worst} if worst < 0.9 else {}),
            SiteHealth(IMG, "s2", values={"coverage": None})])
        await record_health(store, report)
    report = {"version": f"1.0 {SCRIPT}", "status": "halted", "reason": f"gate held at {IMG}",
              "waves": [{"wave": 1, "devices": 2, "sites": [SCRIPT, IMG]}],
              "gates": [{"wave": 1, "passed": False, "sites": [SCRIPT], "failing": {IMG: {}}, "no_data": [SCRIPT]}]}
    run = await store.create_run(Run(kind="upgrade", org_id=org_id, status="failed", started_at=utcnow(),
                                     plan={"version": f"1.0 {SCRIPT}", "report": report}))
    rotation = await store.create_run(Run(kind="psk-rotate", org_id=org_id, status="completed",
                                          plan={"grace_seconds": 7200, "rotate": [IMG]}))
    await store.put_object(org_id, "psks", SCRIPT, "psk-1")
    await store.put_fingerprint(org_id, FP_KIND, IMG, "sha256:" + "a" * 64, utcnow() - timedelta(hours=1))
    await store.record_step(StepRecord(run_id=rotation.id, org_id=org_id, site=None, step=ROTATION_STEP,
                                       kind=ROTATION_KIND, key=IMG, status="running", mist_id="psk-2"))
    await store.append_audit_batch([AuditEntry(run_id=run.id, site=SCRIPT, method="PUT", path=f"/api/v1/x/{IMG}",
                                               kind="psks", name=IMG, status=200)])


async def test_the_map_places_a_deployed_fleet_by_its_coordinates_and_lists_the_rest():
    async with console() as ui:
        fleet = fleet_of(ui.svc, 3)
        fleet["sites"][0]["latlng"] = {"lat": 40.7128, "lng": -74.006}
        fleet["sites"][1]["latlng"] = {"lat": -33.8688, "lng": 151.2093}
        await deploy(ui.svc, fleet)
        stored = await ui.svc.store.get_site_state(ui.svc.org_id, "Store-001")
        assert stored.latlng == (40.7128, -74.006)  # recorded by the apply, from the fleet
        await ui.login()
        answer = await ui.get("/ui/map")
        assert answer.status_code == 200
        marks = re.findall(r'<a href="/ui/sites/([^"]+)"><title>([^<]+)</title><circle cx="([\d.]+)" cy="([\d.]+)"'
                           r' r="4" class="m-([a-z_-]+)"', answer.text)
        assert [(m[0], m[4]) for m in marks] == [("Store-001", "done"), ("Store-002", "done")]
        new_york, sydney = (tuple(map(float, m[2:4])) for m in marks)
        assert new_york[0] < 500 < sydney[0] and new_york[1] < sydney[1]  # west and north of Sydney
        unplaced = answer.text.split('id="unplaced-title"')[1]
        assert "/ui/sites/Store-003" in unplaced and "Store-001" not in unplaced
        assert answer.text.count("<path d=") > 150  # the country outlines that ship with mistctl
        by_sle = await ui.get("/ui/map?colour=sle")
        assert 'class="m-no-data"' in by_sle.text and 'class="m-done"' not in by_sle.text


async def test_every_fleet_wide_page_shows_hostile_names_escaped():
    async with console() as ui:
        await hostile_records(ui.svc.store, ui.svc.org_id)
        await ui.login()
        for path in PAGES:
            answer = await ui.get(path)
            assert answer.status_code == 200, path
            if path != "/ui/psks":
                assert_escaped(answer.text)
        psks = (await ui.get("/ui/psks")).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in psks and "&#34;&gt;&lt;img src=x" in psks
        assert "<script>alert" not in psks and "<img src=x" not in psks
        assert_no_secrets(ui.pages, "sha256:" + "a" * 64)


async def test_assurance_orders_worst_first_with_a_trend_of_the_recorded_checks():
    async with console() as ui:
        store, org = ui.svc.store, ui.svc.org_id
        await store.put_site_states([SiteState(org_id=org, name=n, status="done") for n in ("Good", "Bad", "Quiet")])
        for values in ({"Good": 0.99, "Bad": 0.95}, {"Good": 0.97, "Bad": 0.6}, {"Good": 0.98, "Bad": 0.5}):
            sites = [SiteHealth(n, f"id-{n}", values={"coverage": v, "capacity": 0.93},
                                failing={"coverage": v} if v < 0.9 else {}) for n, v in values.items()]
            await record_health(store, HealthReport(org, 0.9, {"wifi": ("coverage", "capacity")}, sites=sites))
        history = await store.sle_history(org)
        assert [c.values["coverage"] for c in history["Bad"]] == [0.95, 0.6, 0.5]
        await ui.login()
        html = (await ui.get("/ui/assurance")).text
        order = [html.index(f'/ui/sites/{n}"') for n in ("Bad", "Good", "Quiet")]
        assert order == sorted(order)
        assert "worst SLE of the last 3 checks, oldest first: 0.93, 0.60, 0.50" in html
        assert "worst SLE of the last 3 checks, oldest first: 0.93, 0.93, 0.93" in html
        quiet = html.split('/ui/sites/Quiet"')[1].split("</tr>")[0]
        assert "no data" in quiet and "never checked" in quiet
        assert re.search(r"<span class=\"n\">1</span> <span class=\"w\">below threshold", html)


async def test_rollouts_and_psks_show_waves_gates_and_grace_left():
    async with console() as ui:
        await hostile_records(ui.svc.store, ui.svc.org_id)
        await ui.login()
        rollouts = (await ui.get("/ui/rollouts")).text
        run = (await ui.svc.store.list_runs(limit=5))
        upgrade = next(r for r in run if r.kind == "upgrade")
        assert f'href="/ui/deployments/{upgrade.id}"' in rollouts
        assert "(canary)" in rollouts and ">held<" in rollouts and "after the soak" in rollouts
        psks = (await ui.get("/ui/psks")).text
        rotated = psks.split("&#34;&gt;&lt;img")[1].split("</tr>")[0]
        assert "rotated: the old passphrase is kept" in rotated and "2 h 00 min" in rotated
        assert re.search(r"<td>(59 min \d\d s|1 h 00 min)</td>", rotated)  # grace left: 2 h minus the hour gone
        managed = psks.split("&lt;script&gt;")[1].split("</tr>")[0]
        assert "not rotated by mistctl" in managed and "psk-1" in managed


async def test_the_audit_log_filters_by_run_kind_site_and_key_and_pages():
    async with console() as ui:
        store = ui.svc.store
        entries = [AuditEntry(run_id=f"run-{n % 2}", site=f"Site-{n % 3}", method="POST", path=f"/api/v1/o/{n}",
                              kind="wlans" if n % 4 == 0 else "sites", name=f"obj-{n}", status=200)
                   for n in range(130)]
        await store.append_audit_batch(entries)
        await ui.login()

        def shown(html: str) -> list[str]:
            return re.findall(r"<code>POST /api/v1/o/(\d+)</code>", html)

        first = (await ui.get("/ui/audit")).text
        assert shown(first) == [str(n) for n in range(129, 79, -1)] and 'rel="next"' in first
        last = (await ui.get("/ui/audit?page=3")).text
        assert shown(last) == [str(n) for n in range(29, -1, -1)] and 'rel="next"' not in last
        wlans = (await ui.get("/ui/audit?kind=wlans&run=run-0&site=Site-0")).text
        assert shown(wlans) == [str(n) for n in range(129, -1, -1) if n % 4 == 0 and n % 3 == 0]
        key = (await ui.get("/ui/audit?key=obj-7")).text
        assert shown(key) == ["7"]
        assert shown((await ui.get("/ui/audit?q=%2Fo%2F12")).text) == ["129", "128", "127", "126", "125",
                                                                       "124", "123", "122", "121", "120", "12"]
        assert "No entry matches." in (await ui.get("/ui/audit?key=nothing")).text


async def test_an_address_is_found_in_the_plan_with_its_site_segment_and_vlan():
    async with console() as ui:
        await deploy(ui.svc, fleet_of(ui.svc, 2))
        await ui.login()
        fleet = design_fleet(ui.svc.ctx.design)
        zone = next(z for z in fleet.zones if z.id == 1)
        seg = plan_site(fleet.ip_plan, zone, 2).segments[-1]
        address = str(seg.cidr.network_address + 5)
        page = (await ui.get(f"/ui/ipam/address?ip={address}")).text
        assert f"<code>{address}</code>" in page and 'href="/ui/sites/Store-002"' in page
        assert f"{seg.name}: VLAN {seg.vlan}, <code>{seg.cidr}</code>" in page and f"1 · {zone.name}" in page
        free = (await ui.get(f"/ui/ipam/address?ip={plan_site(fleet.ip_plan, zone, 99).block.network_address}")).text
        assert "No site is recorded at zone 1, number 99: the block is free." in free
        outside = (await ui.get("/ui/ipam/address?ip=192.0.2.1")).text
        assert "192.0.2.1 is not in the plan" in outside
        hostile = (await ui.get("/ui/ipam/address", params={"ip": SCRIPT})).text
        assert "is not an IPv4 address" in hostile and "<script>alert" not in hostile
        ipam = (await ui.get("/ui/ipam")).text
        assert 'action="/ui/ipam/address"' in ipam and 'class="zlink"' in ipam and "sites 1–1,024 from" in ipam


async def test_checks_through_the_service_build_the_assurance_trend():
    from tests.e2e.test_day2_api import deploy as deploy_aps
    from tests.e2e.test_day2_api import fleet_with_aps, site_id, svc_twin

    async with console() as ui:
        svc = ui.svc
        await deploy_aps(svc, fleet_with_aps(svc))
        for coverage in (0.95, 0.5, 0.3):
            async with svc_twin(svc) as twin:
                await twin.put(f"/__twin/sle/{site_id(svc, 'Store-1')}", json={"coverage": coverage})
            assert (await svc.client.get("/assurance/health", headers=svc.key)).status_code == 200
        kept = (await svc.store.sle_history(svc.org_id, ["Store-1"]))["Store-1"]
        assert [c.values["coverage"] for c in kept] == [0.95, 0.5, 0.3] and kept[-1].status == "fail"
        await ui.login()
        page = (await ui.get("/ui/assurance")).text
        row = page.split('href="/ui/sites/Store-1"')[1].split("</tr>")[0]
        assert "below threshold" in row and "0.30" in row and ", 0.50, 0.30" in row  # the trend's last two
