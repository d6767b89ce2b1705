"""How fleet objects reference each other by name: one table, used by validation and by the engine.

A `Ref` says that a field of one kind names objects of another kind. Paths are dotted, with:
``*`` every value of a mapping, ``[]`` after a name every item of that list, ``<keys>`` the keys of
a mapping (Mist keys `ip_configs`/`dhcpd_config` by network name). Site fields use the kind key
"sites". A ref may also accept names defined inside the same object (`local`: a switch template's
own `networks`) and names Mist predefines (`builtin`: the "any" application).

Identity: an object is known by its `name`, except a WLAN (its `ssid` within its WLAN template) and
a WLAN policy (its `order` within its WLAN template). References to WLANs name their `ssid`.
The PSK -> WLAN ssid reference is an error, not a warning: a PSK for an SSID no fleet WLAN
broadcasts never authenticates anyone, and a typo there is far likelier than a WLAN managed elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mistctl.domain import kinds as K


@dataclass(frozen=True)
class Ref:
    """A field of `kind_key` objects that names objects of `target_kind_key`."""

    kind_key: str
    field: str
    target_kind_key: str
    many: bool = False
    local: str | None = None  # a field of the same object whose names also resolve the reference
    builtin: frozenset[str] = frozenset()  # names Mist predefines, always valid


_GW_REFS: tuple[tuple[str, str, bool, frozenset[str]], ...] = (
    ("port_config.*.networks", "networks", True, frozenset()),
    ("port_config.*.port_network", "networks", False, frozenset()),
    ("ip_configs.<keys>", "networks", True, frozenset()),
    ("dhcpd_config.<keys>", "networks", True, frozenset({"enabled"})),
    ("service_policies[].tenants", "networks", True, frozenset({"any"})),
    ("service_policies[].services", "applications", True, frozenset({"any"})),
    ("path_preferences.*.paths[].networks", "networks", True, frozenset()),
)
_SWITCH_BUILTIN_NETWORKS = frozenset({"default"})

REFS: tuple[Ref, ...] = (
    Ref("sites", "gateway_template", "gateway_templates"),
    Ref("sites", "switch_template", "switch_templates"),
    Ref("sites", "rf_template", "rf_templates"),
    Ref("sites", "site_groups", "site_groups", many=True),
    Ref("networks", "routed_for_networks", "networks", many=True),
    *(
        Ref(kind, path, target, many, local="networks", builtin=builtin)
        for kind in ("gateway_templates", "hub_profiles")
        for path, target, many, builtin in _GW_REFS
    ),
    Ref("switch_templates", "import_org_networks", "networks", many=True),
    *(
        Ref(
            "switch_templates",
            f"port_usages.*.{field}",
            "networks",
            many,
            "networks",
            _SWITCH_BUILTIN_NETWORKS,
        )
        for field, many in (("port_network", False), ("voip_network", False), ("networks", True))
    ),
    Ref("wlan_templates", "applies_to.site_groups", "site_groups", many=True),
    Ref("wlan_templates", "applies_to.sites", "sites", many=True),
    Ref("wlans", "template", "wlan_templates"),
    Ref("wlan_policies", "template", "wlan_templates"),
    *(
        Ref("wlan_policies", field, "labels", many=True)
        for field in ("src_wxtags", "dst_allow_wxtags", "dst_deny_wxtags", "dst_wxtags", "apply_tags")
    ),
    Ref("psks", "ssid", "wlans"),
)

#: Keys that are mistctl's own: the engine turns them into Mist fields (ids), they never reach Mist as is.
OWN_KEYS: dict[str, frozenset[str]] = {
    "wlans": frozenset({"template"}),
    "wlan_policies": frozenset({"template"}),
    "wlan_templates": frozenset({"applies_to"}),
    "hub_profiles": frozenset({"gateways"}),  # the hub gateways (MACs) the profile is assigned to
}
#: The keys allowed under a WLAN template's `applies_to`.
APPLIES_TO_KEYS = frozenset({"site_groups", "sites"})


def refs_of(kind_key: str) -> tuple[Ref, ...]:
    """The references a kind's objects make."""
    return tuple(r for r in REFS if r.kind_key == kind_key)


def walk(obj: Any, path: str) -> Iterator[Any]:
    """Every value found at a dotted path (see the module docstring for `*`, `[]` and `<keys>`)."""
    yield from _walk(obj, path.split("."))


def _walk(obj: Any, parts: list[str]) -> Iterator[Any]:
    if not parts:
        yield obj
        return
    head, rest = parts[0], parts[1:]
    if head == "<keys>":
        if isinstance(obj, Mapping):
            yield from (k for k in obj if not rest)
        return
    if not isinstance(obj, Mapping):
        return
    if head == "*":
        for value in obj.values():
            yield from _walk(value, rest)
        return
    if head.endswith("[]"):
        items = obj.get(head[:-2])
        for item in items if isinstance(items, list) else ():
            yield from _walk(item, rest)
        return
    if head in obj:
        yield from _walk(obj[head], rest)


def ref_values(obj: Any, ref: Ref) -> list[str]:
    """The names an object gives in one reference field (empty when the field is absent)."""
    names: list[str] = []
    for value in walk(obj, ref.field):
        if isinstance(value, str):
            names.append(value)
        elif isinstance(value, list):
            names.extend(v for v in value if isinstance(v, str))
    return names


def local_names(obj: Mapping[str, Any], ref: Ref) -> set[str]:
    """Names defined inside the object itself that satisfy the reference (its own networks)."""
    if ref.local is None:
        return set()
    value = obj.get(ref.local)
    if isinstance(value, Mapping):
        return {str(k) for k in value}
    if isinstance(value, list):
        return {str(v["name"]) for v in value if isinstance(v, Mapping) and "name" in v}
    return set()


def reference_name(kind_key: str, obj: Mapping[str, Any]) -> str | None:
    """The name by which other objects reference this one (its name; a WLAN's ssid)."""
    field = "ssid" if kind_key == K.WLANS.key else "name"
    value = obj.get(field)
    return value if isinstance(value, str) else None


def identity(kind_key: str, obj: Mapping[str, Any]) -> str | None:
    """The object's unique key within its kind: name, or template/ssid, template/order."""
    kind = K.BY_KEY[kind_key]
    value = obj.get(kind.identity)
    if value is None or isinstance(value, dict | list):
        return None
    if kind.identity == "name":
        return str(value)
    return f"{obj.get('template') or ''}/{value}"


def describe(kind_key: str, obj: Mapping[str, Any], index: int) -> str:
    """How messages name an object: `WLAN 'Store-Corp' (template 'store-wifi')`, `PSK 'scanners'`."""
    kind = K.BY_KEY[kind_key]
    value = obj.get(kind.identity)
    if value is None or isinstance(value, dict | list):
        return f"{kind.title} #{index + 1} in org.{kind_key}"
    label = f"{kind.title} '{value}'" if kind.identity != "order" else f"{kind.title} order {value}"
    template = obj.get("template")
    return f"{label} (template '{template}')" if template and kind.identity != "name" else label
