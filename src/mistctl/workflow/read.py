"""The read phase: one paginated list per kind the fleet uses, never one GET per site for what a list returns.

Site variables have no list call on Mist. A site whose variables mistctl wrote has their hash in the
state store, and that is trusted; only a site mistctl has no record of is read with one GET.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.desired import REFS, DesiredState
from mistctl.domain.devices_diff import ORDERS
from mistctl.domain.diff import LiveState
from mistctl.store.port import StateStore
from mistctl.workflow.ports import MistApi
from mistctl.workflow.records import Records

_LIST_QUERY: dict[str, dict[str, Any]] = {K.HUB_PROFILES.key: {"type": "gateway"}}
#: Virtual-chassis members are listed only with `vc=true` (spec: getOrgInventory; the provider lists so).
INVENTORY_QUERY: dict[str, Any] = {"vc": "true"}


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
    refresh_vars: bool = False, trust_records: bool = False,
) -> LiveState:
    """List every managed kind (concurrently), the inventory when devices or hub gateways are wanted, site vars.

    `refresh_vars` reads every site's setting (one GET per site) instead of trusting recorded hashes.
    `trust_records` skips the list of a kind whose every desired object the state store recorded with
    its current hash (the single-site service calls: org-level steps already done then cost no call).
    """
    kinds = kinds_to_read(desired)
    trusted = await _trusted_kinds(records, org_id, desired, kinds) if trust_records else {}
    kinds = [k for k in kinds if k.key not in trusted]
    devices = bool(desired.hub_gateways) or any(s.devices for s in desired.sites.values())
    lists = await asyncio.gather(  # the inventory in the same round trip as the kinds
        *(mist.list_org(org_id, k.collection, **_LIST_QUERY.get(k.key, {})) for k in kinds),
        *([mist.list_org(org_id, "inventory", **INVENTORY_QUERY)] if devices else []),
    )
    objects = {k.key: objs for k, objs in zip(kinds, lists[:len(kinds)], strict=True)}
    if K.HUB_PROFILES.key in objects:
        objects[K.HUB_PROFILES.key] = [o for o in objects[K.HUB_PROFILES.key] if o.get("type") == "gateway"]
    live = LiveState(org_id=org_id, objects=objects, trusted=trusted)
    if devices:
        live.inventory = lists[-1]
        live.orders = await _orders(records, org_id, desired)
    await _read_site_vars(mist, records, live, desired, concurrency, refresh_vars)
    return live


async def _orders(records: Records, org_id: str, desired: DesiredState) -> dict[str, list[str]]:
    """The orders (activation codes) mistctl claimed in full: code -> the MACs of their devices."""
    if not any(d.get("activation_code") for s in desired.sites.values() for d in s.devices):
        return {}
    known = await records.store.get_objects(org_id, ORDERS)
    return {code: [m for m in ref.mist_id.split(",") if m] for code, ref in known.items()}


async def _read_site_vars(
    mist: MistApi, records: Records, live: LiveState, desired: DesiredState, concurrency: int,
    refresh: bool = False,
) -> None:
    site_ids = {str(s.get("name")): str(s["id"]) for s in live.objects.get(K.SITES.key, [])}
    site_ids.update(live.trusted.get(K.SITES.key, {}))
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


def _desired_hashes(desired: DesiredState, kind: K.Kind) -> dict[str, str]:
    if kind is K.SITES:
        return {name: ds.site.hash() for name, ds in desired.sites.items()}
    return {key: obj.hash() for key, obj in desired.org_objects(kind).items()}


async def _trusted_kinds(
    records: Records, org_id: str, desired: DesiredState, kinds: list[K.Kind]
) -> dict[str, dict[str, str]]:
    """Kinds whose every desired object is recorded as applied with its current hash: key -> Mist id."""
    trusted: dict[str, dict[str, str]] = {}
    for kind in kinds:
        known = await records.store.get_objects(org_id, kind.key)
        wanted = _desired_hashes(desired, kind)
        if all(key in known and known[key].applied_hash == digest for key, digest in wanted.items()):
            trusted[kind.key] = {key: ref.mist_id for key, ref in known.items()}
    return trusted


async def org_objects_recorded(store: StateStore, org_id: str, desired: DesiredState) -> bool:
    """True when the store recorded every desired org-level object as applied with its current hash.

    Then a single-site workflow writes nothing org-level and need not wait for other sites' workflows.
    """
    kinds = [k for k in K.ORG_KINDS if desired.org_objects(k)]
    trusted = await _trusted_kinds(Records(store, org_id, run_id="check"), org_id, desired, kinds)
    return len(trusted) == len(kinds)
