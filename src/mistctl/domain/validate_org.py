"""Validation of the org-level Mist objects: fields, identities, references by name and value rules.

Field names are checked against Mist's own schemas (`mist_fields`, generated from the spec), so a
typo such as `vlan_idd` is caught offline. Value rules: SSID at most 32 bytes, PSK passphrases 8..63
characters (a WPA2 passphrase; messages give the length, never the value), VLANs 1..4094 or a
`{{variable}}`, literal network subnets valid, not overlapping each other, and outside the site
address plan unless `reserved` covers them.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from ipaddress import IPv4Network
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.claim import is_mac
from mistctl.domain.envrefs import is_env_ref
from mistctl.domain.errors import Issue
from mistctl.domain.fleet import IpPlanSpec, OrgDesign, Site
from mistctl.domain.mist_fields import FIELDS, REQUIRED, SCHEMAS
from mistctl.domain.origins import Origins
from mistctl.domain.refs import (
    APPLIES_TO_KEYS,
    OWN_KEYS,
    REFS,
    Ref,
    describe,
    identity,
    local_names,
    ref_values,
    reference_name,
    walk,
)
from mistctl.domain.validate_schema import schema_issues
from mistctl.domain.variables import is_variable

_SERVER_SET = frozenset({"id", "org_id", "created_time", "modified_time", "msp_id", "for_site", "site_id"})
_BY_NAME_INSTEAD = {
    ("wlans", "template_id"): "use template: <WLAN template name>",
    ("wlan_policies", "template_id"): "use template: <WLAN template name>",
    ("wlan_templates", "applies"): "use applies_to with site_groups and/or sites, each a list of names",
    ("site_groups", "site_ids"): "list the group in each site's site_groups instead",
}
_DEFAULTED = {("hub_profiles", "type")}  # the engine sets type: gateway
_GATEWAY_VLANS = ("port_config.*.vlan_id", "networks[].vlan_id")
VLAN_FIELDS: dict[str, tuple[str, ...]] = {
    "networks": ("vlan_id",),
    "wlans": ("vlan_id", "dynamic_psk.default_vlan_id"),
    "psks": ("vlan_id",),
    "switch_templates": ("networks.*.vlan_id",),
    "gateway_templates": _GATEWAY_VLANS,
    "hub_profiles": _GATEWAY_VLANS,
}

#: Paths whose values the rules below check with their own messages (the schema pass skips them).
_RULED = {
    **VLAN_FIELDS,
    "wlans": (*VLAN_FIELDS["wlans"], "auth.psk"),
    "psks": (*VLAN_FIELDS["psks"], "passphrase"),
    "hub_profiles": (*VLAN_FIELDS["hub_profiles"], "type"),
}


def check_org(org: OrgDesign, sites: Sequence[Site], plan: IpPlanSpec | None, origins: Origins) -> list[Issue]:
    """Every org-object problem: fields, duplicates, references, values, subnets."""
    issues: list[Issue] = []
    for kind in K.ORG_KINDS:
        seen: dict[str, int] = {}
        for i, obj in enumerate(org.objects(kind.key)):
            origin, item = origins.of_object(kind.key, i), describe(kind.key, obj, i)
            problems = _field_problems(kind.key, obj) + _own_key_problems(kind.key, obj)
            problems += _value_problems(kind.key, obj)
            key = identity(kind.key, obj)
            if key is not None and key in seen:
                other = origins.of_object(kind.key, seen[key])
                problems.append(f"is defined twice (also at {other}): each {kind.title} must be unique")
            if key is not None:
                seen.setdefault(key, i)
            issues += [Issue.at(origin, item, p) for p in problems]
    issues += _object_ref_issues(org, sites, origins)
    issues += _site_ref_issues(org, sites, origins)
    issues += _subnet_issues(org, plan, origins)
    issues += schema_issues(org, origins, _RULED)
    return issues


def _field_problems(kind_key: str, obj: Mapping[str, Any]) -> list[str]:
    allowed = FIELDS[kind_key] | OWN_KEYS.get(kind_key, frozenset())
    problems = []
    for key in obj:
        if (kind_key, key) in _BY_NAME_INSTEAD:
            problems.append(f"'{key}' holds Mist ids: {_BY_NAME_INSTEAD[(kind_key, key)]}")
        elif key in _SERVER_SET:
            problems.append(f"'{key}' is set by Mist: remove it")
        elif key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(f"unknown field '{key}' (not in Mist's {SCHEMAS[kind_key]} schema){hint}")
    for key in sorted(REQUIRED[kind_key] - obj.keys()):
        if (kind_key, key) not in _DEFAULTED:
            empty = " (an empty list is fine)" if key.endswith("wxtags") else ""
            problems.append(f"Mist requires '{key}': add it{empty}")
    if K.BY_KEY[kind_key].identity == "name" and "name" not in obj and "name" not in REQUIRED[kind_key]:
        problems.append("needs a name: mistctl identifies this kind by name")
    return problems


def _own_key_problems(kind_key: str, obj: Mapping[str, Any]) -> list[str]:
    problems = []
    if kind_key == K.WLANS.key and not isinstance(obj.get("template"), str):
        problems.append("needs template: <WLAN template name> (Mist WLANs belong to a WLAN template)")
    if kind_key == K.WLAN_POLICIES.key and "template" in obj and not isinstance(obj["template"], str):
        problems.append("template must be the name of a WLAN template")
    if kind_key == K.WLAN_TEMPLATES.key and "applies_to" in obj:
        applies = obj["applies_to"]
        ok = isinstance(applies, Mapping) and set(applies) <= APPLIES_TO_KEYS
        ok = ok and all(isinstance(v, list) and all(isinstance(n, str) for n in v) for v in applies.values())
        if not ok:
            problems.append("applies_to must map site_groups and/or sites to lists of names")
    if kind_key == K.HUB_PROFILES.key and obj.get("type", "gateway") != "gateway":
        problems.append("a hub profile is a gateway device profile: type must be gateway (or left out)")
    if kind_key == K.HUB_PROFILES.key and "gateways" in obj:
        problems += _gateway_problems(obj["gateways"])
    return problems


def _gateway_problems(gateways: Any) -> list[str]:
    if not isinstance(gateways, list) or not all(isinstance(m, str) for m in gateways):
        return ["gateways must be a list of the hub gateways' MACs (e.g. [5c5b35000001])"]
    return [f"gateways: '{m}' is not a MAC of 12 hex digits (e.g. 5c5b35000001)" for m in gateways if not is_mac(m)]


def _value_problems(kind_key: str, obj: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    if kind_key == K.WLANS.key:
        ssid = obj.get("ssid")
        if isinstance(ssid, str) and not 1 <= len(ssid.encode()) <= 32:
            problems.append(f"ssid is {len(ssid.encode())} bytes: an SSID holds 1 to 32 bytes")
        auth = obj.get("auth")
        if isinstance(auth, Mapping) and "psk" in auth:
            problems += _passphrase_problems(auth["psk"], "auth.psk")
    if kind_key == K.PSKS.key and "passphrase" in obj:
        problems += _passphrase_problems(obj["passphrase"], "passphrase")
    for path in VLAN_FIELDS.get(kind_key, ()):
        shown = path.replace("[]", "").replace(".*.", ".<each>.")
        problems += [f"{shown}: {p}" for p in (_vlan_problem(v) for v in walk(obj, path)) if p]
    return problems


def _passphrase_problems(value: Any, field: str) -> list[str]:
    if is_variable(value) or is_env_ref(value):  # an unset ${NAME} is reported by the parser
        return []
    if not isinstance(value, str):
        return [f"{field} must be a string of 8 to 63 characters"]
    if not 8 <= len(value) <= 63:
        return [f"{field} is {len(value)} characters: a passphrase has 8 to 63"]
    return []


def _vlan_problem(value: Any) -> str | None:
    if value is None or is_variable(value):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return f"VLAN '{value}' must be a number 1..4094 or a {{{{variable}}}}"
    if not 1 <= value <= 4094:
        return f"VLAN {value} is outside 1..4094"
    return None


def _target_names(org: OrgDesign, sites: Sequence[Site]) -> dict[str, set[str]]:
    names = {k.key: {n for o in org.objects(k.key) if (n := reference_name(k.key, o))} for k in K.ORG_KINDS}
    names[K.SITES.key] = {s.name for s in sites}
    return names


def _missing_message(ref: Ref, name: str) -> str:
    target = K.BY_KEY[ref.target_kind_key]
    where = "sites" if target is K.SITES else f"org.{target.key}"
    return (
        f"{ref.field} names {target.title} '{name}', which the fleet does not define: add it to {where} or fix the name"
    )


def _object_ref_issues(org: OrgDesign, sites: Sequence[Site], origins: Origins) -> list[Issue]:
    names = _target_names(org, sites)
    issues = []
    for ref in REFS:
        if ref.kind_key == K.SITES.key:
            continue
        for i, obj in enumerate(org.objects(ref.kind_key)):
            known = names[ref.target_kind_key] | ref.builtin
            local = local_names(obj, ref)
            for name in ref_values(obj, ref):
                if name not in known and name not in local:
                    item = describe(ref.kind_key, obj, i)
                    issues.append(Issue.at(origins.of_object(ref.kind_key, i), item, _missing_message(ref, name)))
    return issues


def _site_ref_issues(org: OrgDesign, sites: Sequence[Site], origins: Origins) -> list[Issue]:
    # Grouped by missing name: a wrong default template would otherwise give one issue per site.
    names = _target_names(org, sites)
    missing: dict[tuple[Ref, str], list[int]] = defaultdict(list)
    site_refs = [r for r in REFS if r.kind_key == K.SITES.key]
    for i, site in enumerate(sites):
        for ref in site_refs:  # site refs are plain attributes: read them directly (100,000-site fleets)
            value = getattr(site, ref.field)
            for name in value if isinstance(value, list) else (value,) if value else ():
                if name not in names[ref.target_kind_key]:
                    missing[(ref, name)].append(i)
    issues = []
    for (ref, name), where in missing.items():
        first = sites[where[0]].name
        item = f"site '{first}'" if len(where) == 1 else f"site '{first}' and {len(where) - 1} more"
        issues.append(Issue.at(origins.of_site(where[0]), item, _missing_message(ref, name)))
    return issues


def _subnet_issues(org: OrgDesign, plan: IpPlanSpec | None, origins: Origins) -> list[Issue]:
    issues: list[Issue] = []
    seen: list[tuple[IPv4Network, str]] = []
    for i, obj in enumerate(org.networks):
        subnet = obj.get("subnet")
        if not isinstance(subnet, str) or is_variable(subnet):
            continue
        origin, item = origins.of_object(K.NETWORKS.key, i), describe(K.NETWORKS.key, obj, i)
        net, problem = _parse_subnet(subnet)
        if net is None:
            issues.append(Issue.at(origin, item, problem))
            continue
        for other, other_name in seen:
            if net.overlaps(other):
                issues.append(Issue.at(origin, item, f"subnet {net} overlaps network '{other_name}' ({other})"))
        if plan is not None and net.overlaps(plan.supernet) and not any(net.subnet_of(r) for r in plan.reserved):
            issues.append(
                Issue.at(
                    origin,
                    item,
                    f"subnet {net} lies in the site address plan ({plan.supernet}):"
                    " add it to ip_plan.reserved or use a {{variable}} from the plan",
                )
            )
        seen.append((net, str(obj.get("name"))))
    return issues


def _parse_subnet(text: str) -> tuple[IPv4Network | None, str]:
    try:
        return IPv4Network(text.strip()), ""
    except ValueError:
        pass
    try:
        loose = IPv4Network(text.strip(), strict=False)
    except ValueError:
        return None, f"subnet '{text}' is not an IPv4 CIDR such as 192.168.10.0/24"
    return None, f"subnet '{text}' has host bits set: write {loose} (the gateway goes in 'gateway')"
