"""One site's page: its addresses from its fleet's IP plan, what the store recorded, and what Mist holds.

The address block, segments and planned variables are computed from the IP plan the site was deployed
with (recorded with the site; the service's design for sites recorded before plans were kept), with no
calls; the step
history, audit entries and SLEs come from the state store; the site object (its template and site
group bindings) and its devices are read from Mist: one `GET /sites/{id}` and one inventory list
filtered by `site_id` per view (more pages only past 100 devices). The page says how many calls it made.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from mistctl.api.context import AppContext
from mistctl.designs import Design
from mistctl.domain import kinds as K
from mistctl.domain.errors import FleetError, PlanError
from mistctl.domain.fleet import Fleet, Zone, redact
from mistctl.domain.ipplan import plan_site
from mistctl.mist.errors import MistError
from mistctl.store.models import AuditEntry, SiteState, StepRecord
from mistctl.web.ipam_plans import recorded_plan
from mistctl.workflow.deploy import CallLedger

AUDIT_SHOWN = 50
#: Site fields that bind an org object, the words for them, and the kind whose names the store knows.
BINDINGS: tuple[tuple[str, str, K.Kind | None], ...] = (
    ("gatewaytemplate_id", "gateway template", K.GATEWAY_TEMPLATES),
    ("networktemplate_id", "switch template", K.SWITCH_TEMPLATES),
    ("rftemplate_id", "RF template", K.RF_TEMPLATES),
    ("sitetemplate_id", "site template", None),
    ("aptemplate_id", "AP template", None),
    ("alarmtemplate_id", "alarm template", None),
    ("secpolicy_id", "security policy", None),
)

_DESIGNS: dict[int, tuple[Design, Fleet]] = {}


def design_fleet(design: Design) -> Fleet:
    """The design as a fleet without sites, parsed once per design (its IP plan and zones)."""
    cached = _DESIGNS.get(id(design))
    if cached is not None and cached[0] is design:
        return cached[1]
    fleet = design.fleet()
    _DESIGNS.clear()  # a service has one design; keep only the latest
    _DESIGNS[id(design)] = (design, fleet)
    return fleet


@dataclass(frozen=True)
class SegmentRow:
    name: str
    vlan: int
    subnet: str
    gateway: str
    netmask: str


@dataclass
class AddressPlan:
    """The site's block and segments, and the variables the plan gives it."""

    block: str
    zone_name: str | None
    segments: list[SegmentRow]
    variables: dict[str, str]
    source: str = "the fleet's IP plan, recorded when the site was deployed"


@dataclass(frozen=True)
class Binding:
    what: str
    name: str | None
    mist_id: str


@dataclass(frozen=True)
class DeviceRow:
    name: str
    type: str
    model: str
    mac: str
    serial: str
    assignment: str
    firmware: str
    connected: bool | None


@dataclass
class MistView:
    """What Mist holds for the site, and the calls it took; `error` when Mist could not be read."""

    calls: int = 0
    error: str | None = None
    bindings: list[Binding] = field(default_factory=list)
    site_groups: list[Binding] = field(default_factory=list)
    devices: list[DeviceRow] = field(default_factory=list)
    address: str | None = None
    timezone: str | None = None


@dataclass
class SitePage:
    state: SiteState
    plan: AddressPlan | None
    plan_error: str | None
    steps: list[StepRecord]
    audit: list[AuditEntry]
    mist: MistView | None
    sle: list[tuple[str, float | None]]


def address_plan(fleet: Fleet, state: SiteState) -> AddressPlan:
    """The site's addresses from its recorded zone, number and plan (else the design's); `FleetError` when
    there is no place for it."""
    if state.zone is None or state.number is None or not str(state.zone).isdigit():
        raise FleetError("the site's zone and number are not recorded yet: deploy it to place it in the plan")
    spec = recorded_plan(state)
    source = "the fleet's IP plan, recorded when the site was deployed"
    if spec is None:
        spec, source = fleet.ip_plan, "the service's design (no plan was recorded with this site)"
    if spec is None:
        raise FleetError("the fleet has no ip_plan: the site keeps its own variables")
    zone_id = int(state.zone)
    designed = fleet.zone(zone_id)
    name = state.zone_name or (designed.name if designed else None)
    try:
        planned = plan_site(spec, Zone(id=zone_id, name=name or f"zone-{zone_id}"), state.number)
    except PlanError as exc:
        raise FleetError(f"the site has no place in {source}: {exc}") from None
    segments = [SegmentRow(s.name, s.vlan, str(s.cidr), str(s.gateway), str(s.netmask))
                for s in planned.segments]
    return AddressPlan(str(planned.block), name, segments, redact(planned.vars()), source)


async def site_page(ctx: AppContext, state: SiteState) -> SitePage:
    """Everything the site page shows; Mist is read only when the site exists there."""
    plan, plan_error = None, None
    try:
        plan = address_plan(design_fleet(ctx.design), state)
    except FleetError as exc:
        plan_error = str(exc)
    steps = await ctx.store.get_steps(state.org_id, site=state.name)
    audit = await ctx.store.list_audit(site=state.name, limit=AUDIT_SHOWN, newest_first=True)
    mist = await read_mist(ctx, state) if state.site_id else None
    sle = sorted((state.sle or {}).items())
    return SitePage(state, plan, plan_error, steps, audit, mist, sle)


async def read_mist(ctx: AppContext, state: SiteState) -> MistView:
    """The site object and its devices from Mist (two calls, made together)."""
    assert state.site_id is not None
    ledger = CallLedger()
    mist = ctx.client(ctx.server_tokens, ledger)
    site, inventory = await asyncio.gather(mist.get_site(state.site_id),
                                           mist.list_inventory(state.org_id, site_id=state.site_id),
                                           return_exceptions=True)  # both finish, so neither is left failing
    for answer in (site, inventory):
        if isinstance(answer, MistError):
            return MistView(calls=ledger.total, error=f"Mist could not be read: {answer}")
        if isinstance(answer, BaseException):
            raise answer
    assert isinstance(site, dict) and isinstance(inventory, list)
    names = {kind.key: await _names(ctx, state.org_id, kind) for kind in
             (K.GATEWAY_TEMPLATES, K.SWITCH_TEMPLATES, K.RF_TEMPLATES, K.SITE_GROUPS, K.HUB_PROFILES)}
    bindings = [Binding(what, names[kind.key].get(str(site[f])) if kind else None, str(site[f]))
                for f, what, kind in BINDINGS if site.get(f)]
    groups = [Binding("site group", names[K.SITE_GROUPS.key].get(str(g)), str(g))
              for g in site.get("sitegroup_ids") or []]
    devices = [_device(d, state.site_id, names[K.HUB_PROFILES.key]) for d in inventory]
    devices.sort(key=lambda d: (d.type, d.name, d.mac))
    return MistView(ledger.total, None, bindings, groups, devices, site.get("address"), site.get("timezone"))


async def _names(ctx: AppContext, org_id: str, kind: K.Kind) -> dict[str, str]:
    """Mist id -> natural key, from the object map the workflow keeps (no calls)."""
    return {ref.mist_id: key for key, ref in (await ctx.store.get_objects(org_id, kind.key)).items()}


def _device(raw: dict[str, Any], site_id: str, profiles: dict[str, str]) -> DeviceRow:
    assigned = "this site" if raw.get("site_id") == site_id else str(raw.get("site_id") or "unassigned")
    profile = raw.get("deviceprofile_id")
    if profile:
        assigned += f", hub profile {profiles.get(str(profile), profile)}"
    connected = raw.get("connected")
    return DeviceRow(name=str(raw.get("name") or ""), type=str(raw.get("type") or ""),
                     model=str(raw.get("model") or ""), mac=str(raw.get("mac") or ""),
                     serial=str(raw.get("serial") or ""), assignment=assigned,
                     firmware=str(raw.get("version") or "unknown"),
                     connected=connected if isinstance(connected, bool) else None)
