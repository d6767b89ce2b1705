"""A live org as a fleet file's data: what `mistctl import` writes (pure; the reading is in workflow).

Org objects keep Mist's field names, minus the fields the server sets, the defaults it fills in and
empty values; references by id become names (`template`, `applies_to`, label names). Secrets become
`${NAME}` environment references. Sites get their templates, groups, devices (by MAC) and variables:
placed in the inferred IP plan when they fit it (only the variables it does not produce stay their
own), else plan-less with all their variables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.envrefs import env_name, is_env_ref, is_secret_field
from mistctl.domain.infer_plan import Inference, infer
from mistctl.domain.mist_fields import FIELDS, REQUIRED
from mistctl.domain.variables import is_variable

#: Fields Mist sets on every object; never written to a fleet.
SERVER_SET = frozenset({"id", "org_id", "created_time", "modified_time", "msp_id", "for_site", "site_id"})
#: Values Mist fills in when a create leaves the field out (the twin's `rules.py` defaults, as Mist's).
DEFAULTS: dict[str, dict[str, Any]] = {
    "wlans": {"enabled": True, "hide_ssid": False, "vlan_enabled": False, "auth": {"type": "open"}},
    "wlan_policies": {"enabled": True, "action": "allow"},
    "psks": {"usage": "multi", "max_usage": 0},
    "hub_profiles": {"type": "gateway"},
}
_DERIVED = {("site_groups", "site_ids")}  # Mist derives a group's sites from the sites' sitegroup_ids
_EMPTY: tuple[Any, ...] = (None, "", [], {})
_FIRST = ("name", "ssid", "order", "template")
_DEFAULTABLE = ("country_code", "timezone", "gateway_template", "switch_template", "rf_template", "site_groups")
_SITE_FIELDS = ("address", "country_code", "timezone", "notes")
_SITE_TEMPLATES = (("gatewaytemplate_id", "gateway_template", K.GATEWAY_TEMPLATES),
                   ("networktemplate_id", "switch_template", K.SWITCH_TEMPLATES),
                   ("rftemplate_id", "rf_template", K.RF_TEMPLATES))


@dataclass
class LiveOrg:
    """What the importer read: org objects by fleet kind key, sites, each site's vars, the inventory."""

    org_id: str
    objects: dict[str, list[dict[str, Any]]] = field(repr=False)  # secrets as Mist answered them
    sites: list[dict[str, Any]]
    site_vars: dict[str, dict[str, str]]  # site id -> its variables
    inventory: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Imported:
    """The fleet's data and what the user must know: secrets to export, sites off the plan, notes."""

    fleet: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict)  # env name -> where it is used
    inference: Inference | None = None
    notes: list[str] = field(default_factory=list)


class _Names:
    """Mist id -> name, per kind, for the references the fleet writes by name."""

    def __init__(self, live: LiveOrg) -> None:
        self.by: dict[str, dict[str, str]] = {
            key: {str(o.get("id")): str(o.get("name")) for o in objs} for key, objs in live.objects.items()
        }
        self.by[K.SITES.key] = {str(s.get("id")): str(s.get("name")) for s in live.sites}
        self.notes: list[str] = []

    def of(self, kind: K.Kind, mist_id: Any, where: str) -> str | None:
        name = self.by.get(kind.key, {}).get(str(mist_id))
        if name is None:
            self.notes.append(f"{where}: {kind.title} id {mist_id} is not in the org: left out")
        return name

    def many(self, kind: K.Kind, ids: Any, where: str) -> list[str]:
        names = (self.of(kind, i, where) for i in (ids if isinstance(ids, list) else []))
        return [n for n in names if n is not None]


def build_fleet(live: LiveOrg, *, site_inference: Inference | None = None, complete: bool = True) -> Imported:
    """The fleet data for a live org (`site_inference`: a plan already inferred from these sites).

    `complete=False` also places sites that lack some planned variables (the first apply adds them).
    """
    names = _Names(live)
    out = Imported(fleet={"org_id": live.org_id})
    org: dict[str, list[dict[str, Any]]] = {}
    for kind in K.ORG_KINDS:
        entries = [_org_entry(kind, obj, names, out.secrets) for obj in live.objects.get(kind.key, [])]
        if entries:
            org[kind.key] = sorted(entries, key=_sort_key)
    by_name = {str(s.get("name")): live.site_vars.get(str(s.get("id")), {}) for s in live.sites}
    inference = site_inference or infer(by_name, complete=complete)
    out.inference = inference
    if inference.spec is not None:
        out.fleet["ip_plan"] = inference.spec.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
        out.fleet["ip_plan"]["reserved"] = _reserved(org, inference.spec.supernet)
        out.fleet["zones"] = [{"id": z, "name": n} for z, n in sorted(inference.zones.items())]
    if org:
        out.fleet["org"] = org
    devices = _devices_by_site(live.inventory)
    sites = [_site_entry(s, names, inference, devices) for s in sorted(live.sites, key=_site_name)]
    defaults = _shared(sites)
    if defaults:
        out.fleet["site_defaults"] = defaults
    out.fleet["sites"] = sites
    out.notes = names.notes
    return out


def _shared(sites: list[dict[str, Any]]) -> dict[str, Any]:
    """Values every site has alike, moved to `site_defaults` (a 500-site file names its template once)."""
    if len(sites) < 2:
        return {}
    defaults = {}
    for key in _DEFAULTABLE:
        values = [s.get(key) for s in sites]
        if values[0] is not None and all(v == values[0] for v in values):
            defaults[key] = values[0]
            for site in sites:
                del site[key]
    return defaults


def _sort_key(entry: dict[str, Any]) -> tuple[str, str]:
    return str(entry.get("template", "")), str(entry.get("name", entry.get("ssid", entry.get("order", ""))))


def _site_name(site: dict[str, Any]) -> str:
    return str(site.get("name"))


def _org_entry(kind: K.Kind, obj: dict[str, Any], names: _Names, secrets: dict[str, str]) -> dict[str, Any]:
    label = f"{kind.title} '{obj.get('name') or obj.get('ssid') or obj.get('order')}'"
    body = {k: v for k, v in obj.items() if k in FIELDS[kind.key] and k not in SERVER_SET
            and (kind.key, k) not in _DERIVED}
    template = body.pop("template_id", None) if kind in (K.WLANS, K.WLAN_POLICIES) else None
    if template is not None:
        body["template"] = names.of(K.WLAN_TEMPLATES, template, label)
    if kind is K.WLAN_TEMPLATES:
        _applies_to(body, names, label)
    if kind is K.WLAN_POLICIES:
        for key in ("src_wxtags", "dst_allow_wxtags", "dst_deny_wxtags"):
            if key in body:
                body[key] = names.many(K.LABELS, body[key], label)
    defaults, required = DEFAULTS.get(kind.key, {}), REQUIRED[kind.key]
    body = {k: v for k, v in body.items()
            if k in required or not (v in _EMPTY or (k in defaults and defaults[k] == v))}
    body = {**{k: body[k] for k in _FIRST if k in body}, **body}  # identity first, for people reading it
    prefix = (body.get("template", ""), body.get("ssid")) if kind is K.WLANS else (body.get("name"),)
    entry: dict[str, Any] = _secrets_to_env(body, [kind.key.removesuffix("s"), *map(str, prefix)], label, secrets)
    return entry


def _applies_to(body: dict[str, Any], names: _Names, label: str) -> None:
    applies = body.pop("applies", None) or {}
    out = {"site_groups": names.many(K.SITE_GROUPS, applies.get("sitegroup_ids"), label),
           "sites": names.many(K.SITES, applies.get("site_ids"), label)}
    if applies.get("org_id"):
        names.notes.append(f"{label} applies to the whole org, which a fleet cannot say: list its sites")
    if any(out.values()):
        body["applies_to"] = {k: v for k, v in out.items() if v}


def _secrets_to_env(value: Any, words: list[str], label: str, secrets: dict[str, str], path: str = "") -> Any:
    if isinstance(value, list):
        return [_secrets_to_env(v, words, label, secrets, path) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        where = f"{path}.{key}" if path else key
        if is_secret_field(key) and isinstance(item, str) and item and not is_variable(item) and not is_env_ref(item):
            name = _unique(env_name(*words, key), secrets)
            secrets[name] = f"{label} {where}"
            out[key] = f"${{{name}}}"
        else:
            out[key] = _secrets_to_env(item, words, label, secrets, where)
    return out


def _unique(name: str, taken: dict[str, str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def _reserved(org: dict[str, list[dict[str, Any]]], supernet: IPv4Network) -> list[str]:
    """Literal network subnets inside the plan's supernet: reserved, so no site block is planned there."""
    nets = []
    for net in org.get(K.NETWORKS.key, []):
        try:
            subnet = IPv4Network(str(net.get("subnet", "")).strip())
        except ValueError:
            continue
        if subnet.overlaps(supernet):
            nets.append(subnet)
    return [str(n) for n in sorted(set(nets))]


def _devices_by_site(inventory: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for dev in sorted(inventory, key=lambda d: str(d.get("mac"))):
        if dev.get("site_id") and dev.get("mac"):
            ref = {"mac": str(dev["mac"]).lower()}
            if dev.get("name"):
                ref["name"] = str(dev["name"])
            out.setdefault(str(dev["site_id"]), []).append(ref)
    return out


def _site_entry(site: dict[str, Any], names: _Names, inference: Inference,
                devices: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    name, label = _site_name(site), f"site '{_site_name(site)}'"
    entry: dict[str, Any] = {"name": name}
    placement = inference.placements.get(name)
    if placement is not None and placement.fits:
        entry["zone"], entry["number"] = placement.zone, placement.number
    entry.update({k: site[k] for k in _SITE_FIELDS if site.get(k) not in _EMPTY})
    latlng = site.get("latlng")
    if isinstance(latlng, dict) and "lat" in latlng and "lng" in latlng:
        entry["latlng"] = {"lat": latlng["lat"], "lng": latlng["lng"]}
    for wire, key, kind in _SITE_TEMPLATES:
        if site.get(wire):
            found = names.of(kind, site[wire], label)
            if found is not None:
                entry[key] = found
    groups = names.many(K.SITE_GROUPS, site.get("sitegroup_ids"), label)
    if groups:
        entry["site_groups"] = groups
    own = placement.own if placement is not None else {}
    if own:
        entry["vars"] = dict(sorted(own.items()))
    if devices.get(str(site.get("id"))):
        entry["devices"] = devices[str(site.get("id"))]
    return entry
