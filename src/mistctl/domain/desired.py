"""The desired Mist objects of a fleet: what the org should hold once the 13 steps have run.

Desired bodies use Mist's wire field names, but their references to other mistctl-managed objects
hold *names* (``template_id: "corp"``); the `REFS` table says which fields those are, so the diff can
translate live ids back to names and the apply can translate names to ids once the targets exist.
Keys that are mistctl's own (``template``, ``applies_to``) are turned into Mist fields here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mistctl.domain import kinds as K
from mistctl.domain.claim import normalise_mac
from mistctl.domain.jsonbytes import compact_json
from mistctl.domain.kinds import Kind

if TYPE_CHECKING:
    from mistctl.domain.fleet import Fleet, Site


@dataclass(frozen=True)
class WireRef:
    """A field of a Mist object that holds the id (or ids) of another managed object."""

    path: tuple[str, ...]
    target: Kind
    many: bool = False


REFS: dict[str, tuple[WireRef, ...]] = {
    K.SITES.key: (
        WireRef(("sitegroup_ids",), K.SITE_GROUPS, many=True),
        WireRef(("gatewaytemplate_id",), K.GATEWAY_TEMPLATES),
        WireRef(("networktemplate_id",), K.SWITCH_TEMPLATES),
        WireRef(("rftemplate_id",), K.RF_TEMPLATES),
    ),
    K.WLAN_TEMPLATES.key: (
        WireRef(("applies", "sitegroup_ids"), K.SITE_GROUPS, many=True),
        WireRef(("applies", "site_ids"), K.SITES, many=True),
    ),
    K.WLANS.key: (WireRef(("template_id",), K.WLAN_TEMPLATES),),
    K.WLAN_POLICIES.key: (
        WireRef(("template_id",), K.WLAN_TEMPLATES),
        WireRef(("src_wxtags",), K.LABELS, many=True),
        WireRef(("dst_allow_wxtags",), K.LABELS, many=True),
        WireRef(("dst_deny_wxtags",), K.LABELS, many=True),
    ),
}

#: Fields that hold secrets: never printed, stored or hashed in the clear.
SECRET_FIELDS = frozenset({"passphrase", "old_passphrase", "psk"})  # psk: a WLAN auth passphrase
#: Fields the server sets; never compared, never sent.
SERVER_FIELDS = frozenset(
    {"id", "org_id", "created_time", "modified_time", "for_site", "site_id", "msp_id", "tzoffset"}
)


@dataclass
class DesiredObject:
    """One object mistctl wants to exist in the org (or one site's part of it)."""

    kind: Kind
    key: str
    body: dict[str, Any]
    site: str | None = None

    @property
    def refs(self) -> tuple[WireRef, ...]:
        return REFS.get(self.kind.key, ())

    def hash(self) -> str:
        """A stable fingerprint of the desired body (secrets included, so a new passphrase shows)."""
        return canonical_hash(self.body)


@dataclass
class DesiredSite:
    """A site's three per-site parts: the site object, its variables, its devices."""

    site: DesiredObject
    vars: dict[str, str]
    devices: list[dict[str, str]] = field(default_factory=list)
    zone: int = 0
    number: int = 0


@dataclass
class DesiredState:
    """Everything the fleet file asks for, keyed for the diff."""

    org: dict[str, dict[str, DesiredObject]]  # kind key -> natural key -> object
    sites: dict[str, DesiredSite]
    hub_gateways: dict[str, list[str]] = field(default_factory=dict)  # hub profile -> its gateways' MACs
    ip_plan: dict[str, Any] | None = None  # the fleet's IP plan (as JSON), recorded with each site deployed

    def org_objects(self, kind: Kind) -> dict[str, DesiredObject]:
        return self.org.get(kind.key, {})


def canonical_hash(value: Any) -> str:
    """sha256 over the canonical JSON form of a value (sorted keys, no spaces)."""
    return hashlib.sha256(compact_json(value, sort_keys=True, ensure_ascii=True, default=str)).hexdigest()


def natural_key(kind: Kind, body: dict[str, Any], template_name: str | None = None) -> str:
    """The identity of an object within its kind: its name, or ssid/order within its WLAN template."""
    if kind.identity == "name":
        return str(body.get("name", ""))
    return f"{template_name or ''}/{body.get(kind.identity, '')}"


def build_desired(fleet: Fleet, site_vars: dict[str, dict[str, str]]) -> DesiredState:
    """Turn a validated fleet (and each site's planned variables) into desired Mist objects."""
    org: dict[str, dict[str, DesiredObject]] = {}
    hubs: dict[str, list[str]] = {}
    for kind in K.ORG_KINDS:
        entries: Iterable[dict[str, Any]] = getattr(fleet.org, kind.key)
        objs = [_org_object(kind, dict(entry), hubs) for entry in entries]
        org[kind.key] = {o.key: o for o in objs}
    sites = {s.name: _desired_site(s, site_vars.get(s.name, {})) for s in fleet.sites}
    ip_plan = fleet.ip_plan.model_dump(mode="json") if fleet.ip_plan is not None else None
    return DesiredState(org=org, sites=sites, hub_gateways=hubs, ip_plan=ip_plan)


def _org_object(kind: Kind, entry: dict[str, Any], hubs: dict[str, list[str]]) -> DesiredObject:
    template = entry.pop("template", None)
    gateways = entry.pop("gateways", None)  # mistctl's own key: the hub gateways (MACs) of a hub profile
    if kind is K.WLAN_TEMPLATES:
        entry = _wlan_template_body(entry)
    elif kind is K.HUB_PROFILES:
        entry.setdefault("type", "gateway")
    if template is not None:
        entry["template_id"] = template
    obj = DesiredObject(kind, natural_key(kind, entry, template), entry)
    if kind is K.HUB_PROFILES and gateways:
        hubs[obj.key] = list(dict.fromkeys(normalise_mac(str(mac)) for mac in gateways))
    return obj


def _wlan_template_body(entry: dict[str, Any]) -> dict[str, Any]:
    applies_to = entry.pop("applies_to", None) or {}
    applies: dict[str, Any] = {}
    if applies_to.get("site_groups"):
        applies["sitegroup_ids"] = list(applies_to["site_groups"])
    if applies_to.get("sites"):
        applies["site_ids"] = list(applies_to["sites"])
    if applies:
        entry["applies"] = applies
    return entry


def _desired_site(site: Site, variables: dict[str, str]) -> DesiredSite:
    body: dict[str, Any] = {"name": site.name}
    optional = {
        "address": site.address,
        "country_code": site.country_code,
        "timezone": site.timezone,
        "gatewaytemplate_id": site.gateway_template,
        "networktemplate_id": site.switch_template,
        "rftemplate_id": site.rf_template,
    }
    body.update({k: v for k, v in optional.items() if v})
    if site.latlng is not None:
        body["latlng"] = {"lat": site.latlng.lat, "lng": site.latlng.lng}
    if site.notes:
        body["notes"] = site.notes
    if site.site_groups:
        body["sitegroup_ids"] = list(site.site_groups)
    devices = [d.model_dump(exclude_none=True) for d in site.devices]
    obj = DesiredObject(K.SITES, site.name, body, site=site.name)
    return DesiredSite(obj, dict(variables), devices, zone=site.zone or 0, number=site.number or 0)
