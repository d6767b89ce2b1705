"""Claim batches go `CLAIM_CONCURRENCY` at once (workflow/claims.py): every code is claimed, once, and a batch
that fails neither stops the others nor goes unreported."""

from __future__ import annotations

from typing import Any

import pytest

from mistctl.mist.errors import ServerError
from mistctl.mist.models import InventoryClaimResult
from mistctl.workflow.claims import CLAIM_CONCURRENCY, Claims, claim_all
from tests.support.engine import apply, assert_twin_matches, engine, example_fleet_for
from tests.support.twin import twin_app


class _Watch:
    """The twin app, counting the claims (POST /orgs/{id}/inventory) it serves at once."""

    def __init__(self, app: Any) -> None:
        self.app, self.state = app, app.state
        self.now = self.most = self.served = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        claim = scope["type"] == "http" and scope["method"] == "POST" and scope["path"].endswith("/inventory")
        if claim:
            self.now += 1
            self.served += 1
            self.most = max(self.most, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            if claim:
                self.now -= 1


async def test_claim_batches_overlap_and_every_code_is_claimed_once() -> None:
    app = twin_app(latency_ms=30, device_count=260)
    watch = _Watch(app)
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=20, claim_per_site=11)  # 220 codes: 5 batches of at most 50
    async with engine(watch) as svc:
        _, result = await apply(svc, fleet, concurrency=8)
    assert result.ok and len(result.sites_done) == 20
    assert watch.served == 5  # one call per batch: none made twice
    assert watch.most == CLAIM_CONCURRENCY  # 4 at once, not one after the other (nor all 5)
    claimed = {d["claim_code"] for d in twin.devices() if d.get("claimed")}
    assert {str(d.claim_code) for s in fleet.sites for d in s.devices} <= claimed
    assert_twin_matches(twin, fleet)


class _Mist:
    """Claims answered at once, the second batch failing with a 503."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []

    async def claim_inventory(self, org_id: str, codes: list[str]) -> InventoryClaimResult:
        self.sent.append(list(codes))
        if codes[0] == "B2":
            raise ServerError("Mist answered 503", method="POST", path=f"/orgs/{org_id}/inventory", status=503)
        return InventoryClaimResult.model_validate({"added": codes, "inventory_added": [
            {"magic": c, "mac": f"00000000000{n}"} for n, c in enumerate(codes)]})


async def test_a_failed_batch_does_not_stop_the_others_and_is_raised() -> None:
    from mistctl.domain.plan import Change

    class _Records:
        org_id = "org-1"

    mist, claims = _Mist(), Claims()
    changes = [Change("claim", 2, "claims", f"batch-{n}", body={"claim_codes": [f"B{n}"]}, phase="site", calls=1)
               for n in (1, 2, 3)]
    with pytest.raises(ServerError, match="503"):
        await claim_all(mist, _Records(), claims, changes)  # type: ignore[arg-type]
    assert sorted(c[0] for c in mist.sent) == ["B1", "B2", "B3"]  # batch 3 was still made
    assert set(claims.claimed) >= {"B1", "B3"}
