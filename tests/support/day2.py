"""Day 2 test helpers: sites with known devices on a twin, set up through its HTTP surface only.

    site_id, devices = await add_site(http, org_id, "Paris", [("ap", "AP45")] * 4, tag=1)

`http` is an httpx.AsyncClient on the twin with the admin token (in-process `twin_client`, or a
client on a `running_twin`): devices are added to the pool on `/__twin/devices`, claimed and assigned
with the Mist calls, so the same helper serves ASGI and subprocess twins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

AP, SWITCH, GATEWAY = ("ap", "AP45"), ("switch", "EX4100-F-12P"), ("gateway", "SRX320")
SSR = ("gateway", "SSR120")
DEVICE_ID_PREFIX = "00000000-0000-0000-1000-"


def make_devices(models: Sequence[tuple[str, str]], tag: int) -> list[dict[str, Any]]:
    """Pool devices with MACs `5c5b35<tag><n>` and claim codes `DAYTWO<tag><n>`."""
    return [
        {
            "claim_code": f"DAYTWO{tag:03d}{n:04d}",
            "mac": f"5c5b35{tag:02x}{n:04x}",
            "serial": f"D2{tag:03d}{n:06d}",
            "model": model,
            "type": kind,
        }
        for n, (kind, model) in enumerate(models)
    ]


async def add_site(
    http: httpx.AsyncClient, org_id: str, name: str, models: Sequence[tuple[str, str]], tag: int
) -> tuple[str, list[dict[str, Any]]]:
    """A new site holding new devices of these (type, model)s; returns its id and the devices (with `id`)."""
    devices = make_devices(models, tag)
    site = await http.post(f"/api/v1/orgs/{org_id}/sites", json={"name": name})
    assert site.status_code == 200, site.text
    site_id: str = site.json()["id"]
    if devices:
        assert (await http.post("/__twin/devices", json=devices)).status_code == 200
        codes = [device["claim_code"] for device in devices]
        assert (await http.post(f"/api/v1/orgs/{org_id}/inventory", json=codes)).status_code == 200
        assign = {
            "op": "assign",
            "site_id": site_id,
            "macs": [d["mac"] for d in devices],
            "no_reassign": False,
        }
        assert (await http.put(f"/api/v1/orgs/{org_id}/inventory", json=assign)).status_code == 200
    return site_id, [{**device, "id": DEVICE_ID_PREFIX + device["mac"]} for device in devices]
