"""The console's "Roll back" of a deployment: the button, the plan on a confirmation page (no write), a
forged form refused, the confirmed rollback giving the org back, its audit naming the signed-in key."""

from __future__ import annotations

import re

from tests.e2e.test_console_pages import PASSPHRASE, assert_no_secrets, console, deploy, fleet_of
from tests.integration.test_api_rollback import changed, snapshot


async def test_roll_back_a_deployment_from_its_page_with_a_confirmation() -> None:
    async with console() as ui:
        fleet = fleet_of(ui.svc, 2)
        await deploy(ui.svc, fleet)
        before = snapshot(ui.svc.twin)
        accepted = await ui.svc.client.post("/deployments", json={"fleet": changed(fleet), "allow_delete": True},
                                            headers=ui.svc.key)
        run_id = accepted.json()["id"]
        await ui.svc.ctx.deployments.wait(run_id)
        await ui.login()

        page = await ui.get(f"/ui/deployments/{run_id}")
        assert page.status_code == 200 and f'href="/ui/deployments/{run_id}/rollback"' in page.text
        writes = ui.svc.writes()
        confirm = await ui.get(f"/ui/deployments/{run_id}/rollback")
        assert confirm.status_code == 200 and "Roll back this deployment" in confirm.text
        assert "store-internal" in confirm.text and "Store-9" in confirm.text and "recreate" in confirm.text
        assert ui.svc.writes() == writes  # the confirmation page only reads

        forged = await ui.post(f"/ui/deployments/{run_id}/rollback", data={"csrf": "forged"})
        assert forged.status_code == 403 and ui.svc.writes() == writes
        csrf = re.search(r'name="csrf" value="([^"]+)"', confirm.text)
        assert csrf is not None
        done = await ui.post(f"/ui/deployments/{run_id}/rollback", data={"csrf": csrf.group(1)})
        assert done.status_code == 303
        rollback_id = done.headers["location"].rsplit("/", 1)[-1]
        await ui.svc.ctx.deployments.wait(rollback_id)
        assert snapshot(ui.svc.twin) == before
        shown = await ui.get(done.headers["location"])
        assert shown.status_code == 200 and "rollback" in shown.text and "Roll back…" not in shown.text

        audit = await ui.svc.store.list_audit(run_id=rollback_id)
        asked = [e for e in audit if e.kind == "rollback"]
        assert asked and asked[0].actor.startswith("key:") and asked[0].name == run_id
        again = await ui.get(f"/ui/deployments/{run_id}/rollback")
        assert "already rolled back" in again.text and "Roll back this deployment" not in again.text
        assert_no_secrets(ui.pages, PASSPHRASE)
