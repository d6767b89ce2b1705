"""A change to one object of every org kind is planned as exactly one update of it, applied, and converges."""

from __future__ import annotations

import copy
import json
from typing import Any

from mistctl.domain.fleet import Fleet
from mistctl.store.memory import MemoryStore
from mistctl.workflow import deploy
from tests.support.engine import apply, assert_twin_matches, engine, example_fleet_for
from tests.support.twin import twin_app


def _edit(fleet: Fleet) -> tuple[Fleet, set[tuple[str, str]]]:
    org = copy.deepcopy(fleet.org.model_dump())

    def find(kind: str, field: str, value: Any) -> dict[str, Any]:
        return next(o for o in org[kind] if o.get(field) == value)

    find("applications", "name", "payments")["addresses"] = ["203.0.113.0/25"]
    find("networks", "name", "dc-services")["vlan_id"] = 101
    find("hub_profiles", "name", "dc-hub")["ip_configs"]["dc-services"]["ip"] = "10.255.1.2"
    find("gateway_templates", "name", "store-spoke")["dhcpd_config"]["data"]["servers"] = ["10.255.1.11"]
    find("switch_templates", "name", "store-access")["port_usages"]["pos"]["description"] = "pos terminals"
    find("wlan_templates", "name", "store-wifi")["applies_to"]["site_groups"] = ["retail-stores", "outlets"]
    find("rf_templates", "name", "store-rf")["band_24"]["power_max"] = 13
    find("wlans", "ssid", "Store-Guest")["bands"] = ["24", "5"]
    find("labels", "name", "store-internal")["values"] = ["10.0.0.0/8", "172.16.0.0/12"]
    find("wlan_policies", "order", 2)["dst_deny_wxtags"] = ["store-internal", "payment-gateway"]
    find("psks", "name", "shelf-labels")["passphrase"] = "labels-example-pass-03"
    expected = {
        ("applications", "payments"), ("networks", "dc-services"), ("hub_profiles", "dc-hub"),
        ("gateway_templates", "store-spoke"), ("switch_templates", "store-access"),
        ("wlan_templates", "store-wifi"), ("rf_templates", "store-rf"), ("wlans", "store-wifi/Store-Guest"),
        ("labels", "store-internal"), ("wlan_policies", "store-wifi/2"), ("psks", "shelf-labels"),
    }
    return fleet.model_copy(update={"org": type(fleet.org).model_validate(org)}), expected


async def test_one_update_per_changed_object_of_every_kind() -> None:
    app = twin_app(seed=31)
    fleet = example_fleet_for(app.state.twin, sites=3)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        await apply(svc, fleet)
    edited, expected = _edit(fleet)
    async with engine(app, store=store) as svc:
        planned = await deploy.plan_fleet(svc.mist, svc.store, edited, svc.org_id)
        writes = [c for c in planned.plan.changes if c.writes]
        assert {(c.kind, c.key) for c in writes} == expected
        assert all(c.action == "update" for c in writes)
        dumped = json.dumps(planned.plan.to_json())
        assert "labels-example-pass-03" not in dumped and "labels-example-pass-02" not in dumped
        result = await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger,
                                            run=await svc.new_run("apply", planned.plan))
        assert result.ok, result.org_failed
        assert result.writes == len(expected)
    async with engine(app, store=store) as svc:
        again = await deploy.plan_fleet(svc.mist, svc.store, edited, svc.org_id)
        assert again.plan.is_empty(), [c.to_json() for c in again.plan.changes if c.writes]
    assert_twin_matches(app.state.twin, edited)
    psk = next(p for p in app.state.twin.objects("psks") if p["name"] == "shelf-labels")
    assert psk["passphrase"] == "labels-example-pass-03"
    assert "old_passphrase" not in psk  # apply changes the passphrase outright; only a rotation keeps the old
