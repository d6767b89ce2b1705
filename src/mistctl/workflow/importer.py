"""Read a live org for `mistctl import`: one paged list per kind, the inventory, each site's setting.

Site variables have no list call on Mist, so they cost one GET per site (run `concurrency` at a
time); everything else is one list per kind whatever the org's size. Nothing is written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.fleet_writer import LiveOrg
from mistctl.workflow.ports import MistApi

_LIST_QUERY: dict[str, dict[str, Any]] = {K.HUB_PROFILES.key: {"type": "gateway"}}

#: Told what was read: ("lists", done, total) then ("settings", done, total).
ImportProgress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    del phase, done, total


async def read_org(mist: MistApi, org_id: str, *, concurrency: int = 8, with_sites: bool = True,
                   progress: ImportProgress = _no_progress) -> LiveOrg:
    """Everything the fleet file needs from the org, read without a single write.

    `with_sites=False`: the org objects only (no sites, settings or inventory).
    """
    kinds = [*K.ORG_KINDS, K.SITES] if with_sites else list(K.ORG_KINDS)
    total = len(kinds) + with_sites
    done = 0

    async def listed(collection: str, **query: Any) -> list[dict[str, Any]]:
        nonlocal done
        items = await mist.list_org(org_id, collection, **query)
        done += 1
        progress("lists", done, total)
        return items

    inventory = [listed("inventory")] if with_sites else []
    lists = await asyncio.gather(*(listed(k.collection, **_LIST_QUERY.get(k.key, {})) for k in kinds), *inventory)
    objects = {k.key: objs for k, objs in zip(kinds, lists, strict=False)}
    if K.HUB_PROFILES.key in objects:  # Mist lists every device profile type; a hub profile is a gateway one
        objects[K.HUB_PROFILES.key] = [o for o in objects[K.HUB_PROFILES.key] if o.get("type") == "gateway"]
    if not with_sites:
        return LiveOrg(org_id=org_id, objects=objects, sites=[], site_vars={})
    sites = objects.pop(K.SITES.key)
    site_vars = await _site_vars(mist, [str(s["id"]) for s in sites], concurrency, progress)
    return LiveOrg(org_id=org_id, objects=objects, sites=sites, site_vars=site_vars, inventory=lists[-1])


async def _site_vars(mist: MistApi, site_ids: list[str], concurrency: int,
                     progress: ImportProgress) -> dict[str, dict[str, str]]:
    gate = asyncio.Semaphore(max(1, concurrency))
    out: dict[str, dict[str, str]] = {}

    async def fetch(site_id: str) -> None:
        async with gate:
            setting = await mist.get_site_setting(site_id)
        out[site_id] = {str(k): str(v) for k, v in (setting.get("vars") or {}).items()}
        progress("settings", len(out), len(site_ids))

    await asyncio.gather(*(fetch(i) for i in site_ids))
    return out
