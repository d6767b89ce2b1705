"""The twin's Day 2 answers at fleet scale, in-process: what an assurance gate and a rollout cost.

- the org-wide SLE insights for N sites in one page, with and without degrading firmware;
- one site's SLE summary (24 hourly samples);
- starting a site upgrade, the per-call cost while upgrades are pending, and settling them.

    .venv/bin/python bench/bench_twin_day2.py [--sites 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

import httpx

from mist_twin import crud
from mist_twin.app import create_app
from mist_twin.config import TwinConfig
from mist_twin.rules import SITES
from mist_twin.state import TwinState

KINDS = (
    ("ap", "AP45", "0.14.29543"),
    ("switch", "EX4100-F-12P", "23.4R2-S2.3"),
    ("gateway", "SRX320", "22.4R3-S3.2"),
)


class Clock:
    """A clock the benchmark moves by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def populate(twin: TwinState, sites: int) -> list[str]:
    """`sites` sites with an AP, a switch and a gateway each (straight into the state: setup is not timed)."""
    ids = []
    with twin.store.batch():
        for n in range(sites):
            site_id = crud.create(twin, SITES, {"name": f"site-{n}"})["id"]
            ids.append(site_id)
            for k, (kind, model, version) in enumerate(KINDS):
                mac = f"5c5b{n:06x}{k:02x}"
                device = {"claim_code": f"BENCH{n:07d}{k}", "mac": mac, "serial": f"S{n:07d}{k}", "model": model,
                          "type": kind, "version": version, "activation_code": "", "claimed": False}  # fmt: skip
                twin.store.put("pool", device["claim_code"], device)
                record = twin.claim_device(device)
                twin.store.put("inventory", mac, {**record, "site_id": site_id})
    return ids


async def per_call(label: str, calls: int, call: Callable[[], Awaitable[httpx.Response]]) -> None:
    """Print the mean time of `calls` sequential calls."""
    start = time.perf_counter()
    for _ in range(calls):
        answer = await call()
        assert answer.status_code == 200, answer.text
    sys.stdout.write(f"{label:<58} {(time.perf_counter() - start) / calls * 1000:8.2f} ms/call\n")


async def main(sites: int) -> None:
    """Run the measurements and print them."""
    clock = Clock()
    app = create_app(
        TwinConfig(device_count=0, upgrade_seconds=10, token="bench-token-0123456789"), clock=clock
    )
    twin: TwinState = app.state.twin
    ids = populate(twin, sites)
    org, first = twin.org_id, ids[0]
    headers = {"Authorization": f"Token {twin.token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://twin", headers=headers) as client:
        insights = f"/api/v1/orgs/{org}/insights/sites-sle"
        await per_call("GET /self (baseline)", 300, lambda: client.get("/api/v1/self"))
        await per_call(f"org sites-sle wifi, {sites} sites in one page", 20,
                       lambda: client.get(insights, params={"sle": "wifi", "limit": 1000}))  # fmt: skip
        summary = f"/api/v1/sites/{first}/sle/site/{first}/metric/coverage/summary"
        await per_call("one site's SLE summary (1 day, 24 samples)", 200, lambda: client.get(summary))
        await client.put("/__twin/firmware/0.14.29850", json={"effect": "degrade", "sle_drop": 0.3})
        targets = iter(ids[:200])
        await per_call("POST site upgrade (one AP each, 200 sites)", 200,
                       lambda: client.post(f"/api/v1/sites/{next(targets)}/devices/upgrade",
                                           json={"version": "0.14.29850"}))  # fmt: skip
        await per_call("GET /self with 200 upgrades pending", 300, lambda: client.get("/api/v1/self"))
        clock.now += 11
        await per_call(
            "GET /self settling 200 finished upgrades (one call)", 1, lambda: client.get("/api/v1/self")
        )
        await per_call(f"org sites-sle wifi, {sites} sites, 200 degraded", 20,
                       lambda: client.get(insights, params={"sle": "wifi", "limit": 1000}))  # fmt: skip
    twin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    asyncio.run(main(parser.parse_args().sites))
