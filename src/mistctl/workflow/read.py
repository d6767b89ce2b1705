"""The read phase: one paginated list per kind the fleet uses, never one GET per site for what a list returns.

Site variables have no list call on Mist. A site whose variables mistctl wrote has their hash in the
state store, and that is trusted; only a site mistctl has no record of is read with one GET.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.desired import REFS, DesiredState
from mistctl.domain.diff import LiveState
from mistctl.workflow.ports import MistApi
from mistctl.workflow.records import Records

_LIST_QUERY: dict[str, dict[str, Any]] = {K.HUB_PROFILES.key: {"type": "gateway"}}


def kinds_to_read(desired: DesiredState) -> list[K.Kind]:
    """The kinds the desired objects are of, and the kinds they reference (to turn ids into names)."""
    wanted = {k.key for k in K.ORG_KINDS if desired.org_objects(k)}
    if desired.sites:
        wanted.add(K.SITES.key)
    for key in list(wanted):
        wanted.update(ref.target.key for ref in REFS.get(key, ()))
    return [k for k in (*K.ORG_KINDS, K.SITES) if k.key in wanted]


async def read_live(
    mist: MistApi, records: Records, org_id: str, desired: DesiredState, *, concurrency: int = 8,
    refresh_vars: bool = False,
) -> LiveState:
    """List every managed kind (concurrently), the inventory when devices are wanted, and site vars.

    `refresh_vars` reads every site's setting (one GET per site) instead of trusting recorded hashes.
    """
    kinds = kinds_to_read(desired)
    lists = await asyncio.gather(
        *(mist.list_org(org_id, k.collection, **_LIST_QUERY.get(k.key, {})) for k in kinds)
    )
    objects = {k.key: objs for k, objs in zip(kinds, lists, strict=True)}
    if K.HUB_PROFILES.key in objects:
        objects[K.HUB_PROFILES.key] = [o for o in objects[K.HUB_PROFILES.key] if o.get("type") == "gateway"]
    live = LiveState(org_id=org_id, objects=objects)
    if any(s.devices for s in desired.sites.values()):
        live.inventory = await mist.list_org(org_id, "inventory")
    await _read_site_vars(mist, records, live, desired, concurrency, refresh_vars)
    return live


async def _read_site_vars(
    mist: MistApi, records: Records, live: LiveState, desired: DesiredState, concurrency: int,
    refresh: bool = False,
) -> None:
    site_ids = {str(s.get("name")): str(s["id"]) for s in live.objects.get(K.SITES.key, [])}
    recorded = {} if refresh else await records.vars_hashes(live.org_id)
    unknown: list[tuple[str, str]] = []
    for name in desired.sites:
        if name not in site_ids:
            continue
        rec = recorded.get(name)
        if rec is not None and rec[0] == site_ids[name]:
            live.site_vars_hash[name] = rec[1]
        else:
            unknown.append((name, site_ids[name]))
    gate = asyncio.Semaphore(concurrency)

    async def fetch(name: str, site_id: str) -> None:
        async with gate:
            setting = await mist.get_site_setting(site_id)
        live.site_vars[name] = {str(k): str(v) for k, v in (setting.get("vars") or {}).items()}

    await asyncio.gather(*(fetch(n, i) for n, i in unknown))
