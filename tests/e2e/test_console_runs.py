"""The console for every fleet and run: sites drawn in the IP plan they were deployed with (two plans in one
org), an upgrade run's own page (waves, versions before and after, gates), CSRF refusals of every action
(nothing changes), and hostile names escaped on the action pages."""

from __future__ import annotations

import re
from typing import Any

import yaml

from mistctl.designs import default_design_text
from mistctl.store.models import Run, SiteState
from tests.e2e.test_console_actions import console_audit, plan_of
from tests.e2e.test_console_pages import console, deploy, fleet_of
from tests.e2e.test_day2_api import GOOD, fleet_with_aps, svc_twin

NASTY = '"><img src=x onerror=alert(1)><script>alert("x")</script>'


def lab_fleet(names: list[str]) -> dict[str, Any]:
    """The default design on 172.16.0.0/12 (zones of /14): another fleet's plan."""
    fleet: dict[str, Any] = yaml.safe_load(default_design_text())
    fleet["ip_plan"] = {**fleet["ip_plan"], "supernet": "172.16.0.0/12", "zone_prefix": 14, "reserved": []}
    fleet["sites"] = [{"name": n, "zone": 2, "number": i + 1} for i, n in enumerate(names)]
    return fleet


async def test_sites_are_drawn_in_the_ip_plan_they_were_deployed_with() -> None:
    async with console() as ui:
        await deploy(ui.svc, fleet_of(ui.svc, 1))
        await deploy(ui.svc, lab_fleet(["Lab-001", "Lab-002"]))
        lab = await ui.svc.store.get_site_state(ui.svc.org_id, "Lab-002")
        assert lab is not None and lab.ip_plan is not None and lab.ip_plan["supernet"] == "172.16.0.0/12"
        await ui.login()
        page = (await ui.get("/ui/sites/Lab-002")).text
        assert "<code>172.20.4.0/22</code>" in page and "recorded when the site was deployed" in page
        assert "10.0." not in page.split("Segments")[1].split("</table>")[0]
        store = (await ui.get("/ui/sites/Store-001")).text
        assert "<code>10.0.0.0/22</code>" in store
        ipam = (await ui.get("/ui/ipam")).text
        assert "hierarchical plan of 172.16.0.0/12" in ipam and "plan of 10.0.0.0/8 (the service&#39;s design)" in ipam
        assert "deployed with 2 IP plans" in ipam
        key = re.search(r'/ui/ipam\.svg\?plan=([0-9a-f]{12})', ipam)
        assert key is not None
        svg = await ui.get(f"/ui/ipam.svg?plan={key.group(1)}")
        assert svg.status_code == 200 and "172.16.0.0/12" in svg.text and "10.0.0.0/8" not in svg.text
        assert (await ui.get("/ui/ipam.svg?plan=nope")).status_code == 404


async def test_an_upgrade_run_has_its_own_page() -> None:
    async with console(upgrade_seconds=0) as ui:
        fleet = fleet_with_aps(ui.svc)
        await deploy(ui.svc, fleet)
        async with svc_twin(ui.svc) as twin:
            assert (await twin.put("/__twin/sle-interval", json={"seconds": 1})).status_code == 200
        before = {d["mac"]: d.get("version") for d in ui.svc.twin.inventory() if d["type"] == "ap"}
        body = {"fleet": fleet, "version": GOOD, "device_type": "ap", "soak": "0s", "waves": "1,100%"}
        accepted = await ui.svc.client.post("/lifecycle/upgrade", json=body, headers=ui.svc.key)
        run_id = accepted.json()["id"]
        await ui.svc.ctx.deployments.wait(run_id)
        await ui.login()
        page = (await ui.get(f"/ui/deployments/{run_id}")).text
        assert "0 of 0 sites" not in page and "Every site" not in page
        assert "Waves (2)" in page and f"Devices ({len(before)})" in page
        for mac, version in before.items():
            row = re.search(rf"<code>{mac}</code>.*?</tr>", page, re.S)
            assert row is not None and f"<code>{version}</code>" in row.group(0)
            assert f"<code>{GOOD}</code>" in row.group(0)
        assert "After wave 1" in page and "passed" in page
        assert page.count('class="gate"') == len((await ui.svc.client.get(
            f"/lifecycle/upgrade/{run_id}", headers=ui.svc.key)).json()["report"]["gates"])


async def test_every_action_refuses_a_post_without_this_sessions_csrf_token() -> None:
    async with console() as ui:
        await deploy(ui.svc, fleet_of(ui.svc, 1))
        await ui.login()
        csrf, draft = await plan_of(ui, fleet_of(ui.svc, 2))
        pending = await ui.svc.store.create_run(Run(kind="apply", org_id=ui.svc.org_id))
        actions = {"/ui/plan/apply": {"draft": draft}, f"/ui/deployments/{pending.id}/cancel": {},
                   f"/ui/deployments/{pending.id}/retry": {}, "/ui/drift": {}, "/ui/drift/fix": {},
                   "/ui/psk-rotation": {"every": "yes"}, "/ui/psk-rotation/finish": {"every": "yes", "force": "yes"}}
        writes, runs = ui.svc.writes(), await ui.svc.store.list_runs(limit=100)
        psks = ui.svc.twin.objects("psks")
        for path, fields in actions.items():
            for token in ({}, {"csrf": "0" * 32}, {"csrf": csrf[:-1] + ("0" if csrf[-1] != "0" else "1")}):
                answer = await ui.post(path, data={**fields, **token, "confirm": "yes"})
                assert answer.status_code == 403, (path, token)
        assert ui.svc.writes() == writes and ui.svc.twin.objects("psks") == psks
        assert await ui.svc.store.list_runs(limit=100) == runs and await console_audit(ui) == []
        latest = await ui.svc.store.get_run(pending.id)
        assert latest is not None and not latest.cancel_requested


async def test_hostile_names_are_escaped_on_the_action_pages() -> None:
    async with console() as ui:
        org = ui.svc.org_id
        holder = await ui.svc.store.create_run(Run(kind="apply", org_id=org, requested_by=f"alice{NASTY}"))
        assert await ui.svc.store.acquire_lock(f"org:{org}", holder.id, 300, holder=f"apply {NASTY}")
        waiting = await ui.svc.store.create_run(Run(kind="apply", org_id=org))
        report = {"version": NASTY, "status": "halted", "waves": [{"wave": 1, "devices": 1, "sites": [NASTY]}],
                  "devices": [{"mac": "5c5b35000001", "name": NASTY, "site": NASTY, "before": NASTY, "now": NASTY,
                               "status": "failed", "wave": 1, "why": NASTY}],
                  "gates": [{"wave": 1, "threshold": 0.9, "max_drop": 0.1, "sites": [NASTY], "passed": False,
                             "failing": {NASTY: {NASTY: {"before": 0.99, "after": 0.5}}}, "no_data": [],
                             "allowed": []}]}
        upgrade = await ui.svc.store.create_run(Run(kind="upgrade", org_id=org, status="failed",
                                                    plan={"version": "x", "report": report}))
        await ui.svc.store.put_site_state(SiteState(org_id=org, name=NASTY, zone="1", number=3, status="done",
                                                    ip_plan={"supernet": "172.16.0.0/12", "zone_prefix": 14,
                                                             "site_prefix": 22,
                                                             "segments": [{"name": "mgmt", "vlan": 10,
                                                                           "prefix": 24}]},
                                                    zone_name=NASTY))
        await ui.login()
        csrf = await ui.csrf()
        pages = [await ui.get(f"/ui/deployments/{waiting.id}"), await ui.get(f"/ui/deployments/{upgrade.id}"),
                 await ui.get("/ui/ipam"), await ui.get(f"/ui/sites/{NASTY}"),
                 await ui.post("/ui/psk-rotation", data={"csrf": csrf, "names": NASTY, "confirm": "yes"})]
        for answer in pages:
            assert answer.status_code in (200, 422), answer.request.url
            assert "<script>alert" not in answer.text and "<img src=x" not in answer.text, answer.request.url
        assert "&lt;script&gt;" in pages[0].text and "&lt;img src=x" in pages[1].text
        assert "172.16.8.0/22" in pages[3].text  # its recorded plan: zone 1 of /14s, the third /22
