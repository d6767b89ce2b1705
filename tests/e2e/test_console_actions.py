"""The console's actions through httpx against the service app (the twin in-process): apply a reviewed plan
(and its refusal when stale), cancel and retry deployments, what a pending deployment waits for, drift
check and fix, PSK rotation; every action's CSRF refusal and confirmation, and its audit entry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from mistctl.store.models import AuditEntry
from mistctl.store.sqlite import SqliteStore
from mistctl.web.drafts import DRAFTS
from mistctl.workflow.runlock import org_lock
from tests.e2e.test_console_pages import Browser, console, deploy, fleet_of
from tests.e2e.test_day2_api import svc_twin
from tests.integration.test_api_support import SERVICE_KEY

KEY_ID = "key:" + __import__("hashlib").sha256(SERVICE_KEY.encode()).hexdigest()[:8]


async def console_audit(ui: Browser) -> list[AuditEntry]:
    return [a for a in await ui.svc.store.list_audit(limit=1000) if a.kind == "console"]


async def plan_of(ui: Browser, fleet: dict[str, Any]) -> tuple[str, str]:
    """Post the fleet on the plan page: the CSRF token and the draft id of its apply form."""
    csrf = await ui.csrf()
    answer = await ui.post("/ui/plan", data={"csrf": csrf, "fleet": yaml.safe_dump(fleet)})
    assert answer.status_code == 200, answer.text
    found = re.search(r'name="draft" value="([^"]+)"', answer.text)
    assert found is not None and "Apply this plan" in answer.text
    return csrf, found.group(1)


async def test_a_reviewed_plan_is_applied_as_shown_and_refused_once_the_org_changed() -> None:
    async with console() as ui:
        await ui.login()
        fleet = fleet_of(ui.svc, 2)
        csrf, draft = await plan_of(ui, fleet)
        unticked = await ui.post("/ui/plan/apply", data={"csrf": csrf, "draft": draft})
        assert unticked.status_code == 400 and ui.svc.twin.objects("sites") == []
        applied = await ui.post("/ui/plan/apply", data={"csrf": csrf, "draft": draft, "confirm": "yes"})
        assert applied.status_code == 303, applied.text
        run_id = applied.headers["location"].rsplit("/", 1)[-1]
        await ui.svc.ctx.deployments.wait(run_id)
        run = await ui.svc.store.get_run(run_id)
        assert run is not None and run.status == "completed" and run.requested_by == KEY_ID
        assert sorted(s["name"] for s in ui.svc.twin.objects("sites")) == ["Store-001", "Store-002"]
        [entry] = await console_audit(ui)
        assert (entry.actor, entry.name, entry.run_id) == (KEY_ID, "apply reviewed plan", run_id)

        bigger = fleet_of(ui.svc, 3)
        csrf, draft = await plan_of(ui, bigger)
        async with svc_twin(ui.svc) as twin:  # someone changes the org after the plan was reviewed
            made = await twin.post(f"/api/v1/orgs/{ui.svc.org_id}/sites", json={"name": "Made-By-Hand"})
            assert made.status_code == 200
        writes = ui.svc.writes()
        stale = await ui.post("/ui/plan/apply", data={"csrf": csrf, "draft": draft, "confirm": "yes"})
        assert stale.status_code == 409 and "live org changed" in stale.text
        assert ui.svc.writes() == writes and len(ui.svc.twin.objects("sites")) == 3
        assert len(await ui.svc.store.list_runs(limit=50)) == 1
        gone = await ui.post("/ui/plan/apply", data={"csrf": csrf, "draft": "no-such-draft", "confirm": "yes"})
        assert gone.status_code == 409 and "submit the fleet again" in gone.text


async def test_a_pending_deployment_names_what_it_waits_for_and_is_cancelled() -> None:
    async with console() as ui:
        await ui.login()
        store = ui.svc.store
        assert await store.acquire_lock(org_lock(ui.svc.org_id), "holder-run-1", 300,
                                        holder="apply by alice on host pid 1 since now")
        accepted = await ui.svc.client.post("/deployments", json={"fleet": fleet_of(ui.svc, 1)},
                                            headers=ui.svc.key)
        run_id = accepted.json()["id"]
        shown = await ui.get(f"/ui/deployments/{run_id}")
        assert "Waiting for run" in shown.text and "holder-run-1" in shown.text and "alice" in shown.text
        csrf = await ui.csrf()
        assert (await ui.post(f"/ui/deployments/{run_id}/cancel", data={"csrf": csrf})).status_code == 400
        cancelled = await ui.post(f"/ui/deployments/{run_id}/cancel", data={"csrf": csrf, "confirm": "yes"})
        assert cancelled.status_code == 303
        run = await store.get_run(run_id)
        assert run is not None and run.cancel_requested
        await store.release_lock(org_lock(ui.svc.org_id), "holder-run-1")
        await ui.svc.ctx.deployments.wait(run_id)
        run = await store.get_run(run_id)
        assert run is not None and run.status == "cancelled" and ui.svc.twin.objects("sites") == []
        again = await ui.post(f"/ui/deployments/{run_id}/cancel", data={"csrf": csrf, "confirm": "yes"})
        assert again.status_code == 409 and "already ended" in again.text
        assert [a.name for a in await console_audit(ui)] == ["cancel deployment"]


async def test_retry_applies_the_console_deployments_fleet_again_and_explains_when_it_cannot() -> None:
    async with console() as ui:
        await ui.login()
        api_run = await deploy(ui.svc, fleet_of(ui.svc, 1))
        csrf = await ui.csrf()
        refused = await ui.post(f"/ui/deployments/{api_run}/retry", data={"csrf": csrf, "confirm": "yes"})
        assert refused.status_code == 409 and "does not hold its fleet" in refused.text
        csrf, draft = await plan_of(ui, fleet_of(ui.svc, 2))
        first = await ui.post("/ui/plan/apply", data={"csrf": csrf, "draft": draft, "confirm": "yes"})
        first_id = first.headers["location"].rsplit("/", 1)[-1]
        await ui.svc.ctx.deployments.wait(first_id)
        assert DRAFTS.fleet_of(first_id) is not None
        retried = await ui.post(f"/ui/deployments/{first_id}/retry", data={"csrf": csrf, "confirm": "yes"})
        assert retried.status_code == 303
        second = retried.headers["location"].rsplit("/", 1)[-1]
        await ui.svc.ctx.deployments.wait(second)
        run = await ui.svc.store.get_run(second)
        assert run is not None and run.status == "completed" and second != first_id
        assert len(ui.svc.twin.objects("sites")) == 2  # nothing made twice
        assert [a.name for a in await console_audit(ui)] == ["apply reviewed plan",
                                                             f"retry failed sites of {first_id}"]


async def test_drift_is_shown_by_object_and_field_then_fixed() -> None:
    async with console() as ui:
        await ui.login()
        await deploy(ui.svc, fleet_of(ui.svc, 1))
        wlan = next(w for w in ui.svc.twin.objects("wlans") if w["ssid"] == "Store-IoT")
        async with svc_twin(ui.svc) as twin:
            path = f"/api/v1/orgs/{ui.svc.org_id}/wlans/{wlan['id']}"
            assert (await twin.put(path, json={"hide_ssid": False})).status_code == 200
        csrf = await ui.csrf()
        checked = await ui.post("/ui/drift", data={"csrf": csrf})
        assert checked.status_code == 200 and "1 object drifted" in checked.text
        assert "hide_ssid" in checked.text and "Fix the drift" in checked.text
        assert "belong to another owner" in checked.text and 'name="take_ownership"' in checked.text
        writes = ui.svc.writes()
        assert (await ui.post("/ui/drift/fix", data={"csrf": csrf})).status_code == 400
        refused = await ui.post("/ui/drift/fix", data={"csrf": csrf, "confirm": "yes"})
        assert refused.status_code == 409 and "owned by fleet" in refused.text  # the fleet's WLAN, not the design's
        assert ui.svc.writes() == writes
        fixed = await ui.post("/ui/drift/fix", data={"csrf": csrf, "confirm": "yes", "take_ownership": "yes"})
        assert fixed.status_code == 303, fixed.text
        run = await ui.svc.store.get_run(fixed.headers["location"].rsplit("/", 1)[-1])
        assert run is not None and run.kind == "drift-fix" and run.status == "completed"
        wlan = next(w for w in ui.svc.twin.objects("wlans") if w["ssid"] == "Store-IoT")
        assert wlan["hide_ssid"] is True
        assert "No drift" in (await ui.post("/ui/drift", data={"csrf": csrf})).text
        assert [(a.name, a.actor) for a in await console_audit(ui)] == [("fix drift", KEY_ID)]


async def test_psk_rotation_shows_the_passphrase_once_and_keeps_it_nowhere(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "state.db") as store, console(store=store) as ui:
        await deploy(ui.svc, fleet_of(ui.svc, 1))
        await ui.login()
        csrf = await ui.csrf()
        answer = await ui.post("/ui/psk-rotation", data={"csrf": csrf, "names": "shelf-labels", "grace": "1h",
                                                         "confirm": "yes"})
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store" and "?" not in str(answer.url)
        psk = next(p for p in ui.svc.twin.objects("psks") if p["name"] == "shelf-labels")
        new = psk["passphrase"]
        assert f'<code class="passphrase">{new}</code>' in answer.text
        assert psk["old_passphrase"] == "labels-example-pass-02"
        assert new not in (await ui.get("/ui/psk-rotation")).text
        early = await ui.post("/ui/psk-rotation/finish", data={"csrf": csrf, "every": "yes", "confirm": "yes"})
        assert early.status_code == 200 and "Refused" in early.text
        assert next(p for p in ui.svc.twin.objects("psks") if p["name"] == "shelf-labels").get("old_passphrase")
        forced = await ui.post("/ui/psk-rotation/finish", data={"csrf": csrf, "names": "shelf-labels",
                                                                "force": "yes", "confirm": "yes"})
        assert forced.status_code == 200 and "Old passphrase removed: shelf-labels" in forced.text
        assert not next(p for p in ui.svc.twin.objects("psks") if p["name"] == "shelf-labels").get("old_passphrase")
        audit = await console_audit(ui)
        assert [a.name for a in audit] == ["rotate PSKs shelf-labels", "finish PSK rotation (none)",
                                           "finish PSK rotation shelf-labels"]
        assert all(a.actor == KEY_ID for a in audit)
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert new.encode() not in raw and SERVICE_KEY.encode() not in raw


async def test_a_reviewed_plans_deletes_are_made_only_with_their_own_box_ticked() -> None:
    async with console() as ui:
        fleet = fleet_of(ui.svc, 2)
        await deploy(ui.svc, fleet)
        await ui.login()
        smaller = {**fleet, "sites": fleet["sites"][:1]}
        for allow, left in (({}, ["Store-001", "Store-002"]), ({"allow_delete": "yes"}, ["Store-001"])):
            csrf, draft = await plan_of(ui, smaller)
            applied = await ui.post("/ui/plan/apply", data={"csrf": csrf, "draft": draft, "confirm": "yes", **allow})
            assert applied.status_code == 303, applied.text
            await ui.svc.ctx.deployments.wait(applied.headers["location"].rsplit("/", 1)[-1])
            assert sorted(s["name"] for s in ui.svc.twin.objects("sites")) == left


async def test_drift_fix_removes_what_was_added_by_hand_only_when_its_box_is_ticked() -> None:
    async with console() as ui:
        await ui.login()
        await deploy(ui.svc, fleet_of(ui.svc, 2))
        managed = next(w for w in ui.svc.twin.objects("wlans") if w["ssid"] == "Store-IoT")
        org = ui.svc.org_id
        async with svc_twin(ui.svc) as twin:  # a WLAN added by hand inside a managed template, one outside
            inside = await twin.post(f"/api/v1/orgs/{org}/wlans",
                                     json={"ssid": "Sneaky", "template_id": managed["template_id"]})
            outside = await twin.post(f"/api/v1/orgs/{org}/wlans", json={"ssid": "Own-Org-WLAN"})
            assert inside.status_code == outside.status_code == 200
        csrf = await ui.csrf()
        checked = await ui.post("/ui/drift", data={"csrf": csrf})
        assert "added by hand" in checked.text and "Sneaky" in checked.text
        assert 'name="allow_delete"' in checked.text and "Own-Org-WLAN" not in checked.text
        kept = await ui.post("/ui/drift/fix", data={"csrf": csrf, "confirm": "yes", "take_ownership": "yes"})
        assert kept.status_code == 303, kept.text
        ssids = {w["ssid"] for w in ui.svc.twin.objects("wlans")}
        assert {"Sneaky", "Own-Org-WLAN", "Store-IoT"} <= ssids  # not ticked: nothing removed
        removed = await ui.post("/ui/drift/fix", data={"csrf": csrf, "confirm": "yes", "allow_delete": "yes",
                                                       "take_ownership": "yes"})
        assert removed.status_code == 303, removed.text
        ssids = {w["ssid"] for w in ui.svc.twin.objects("wlans")}
        assert "Sneaky" not in ssids and {"Own-Org-WLAN", "Store-IoT"} <= ssids
        assert sorted(s["name"] for s in ui.svc.twin.objects("sites")) == ["Store-001", "Store-002"]  # no site deleted
        assert [a.name for a in await console_audit(ui)] == ["fix drift", "fix drift (with deletes)"]
