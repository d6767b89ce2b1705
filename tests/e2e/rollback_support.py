"""Helpers for the rollback e2e tests: the two fleets, and the org compared object by object."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from mistctl.domain import kinds as K
from mistctl.domain.desired import REFS, SERVER_FIELDS, natural_key
from mistctl.domain.normalize import rewrite_refs
from tests.support.engine import EXAMPLE

NEW_SITE = "Store-NEW-009"
NEW_PSK_PASSPHRASE = "rollback-secret-pass-77"
RUN_ID = re.compile(r"run ([0-9a-f]{32}): applying")


def fleets(tmp: Path) -> tuple[Path, Path]:
    """The example's named stores (A), and A with a new WLAN, site and PSK, an RF template changed,
    a site's address changed, a label and the WLAN policy using it gone (B)."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["sites"] = [s for s in data["sites"] if "name" in s]
    data["name"] = "retail"  # two versions of one fleet: one owner (README "Who owns what")
    a = tmp / "fleet-a.yaml"
    a.write_text(yaml.safe_dump(data, sort_keys=False))
    org = data["org"]
    org["wlans"].append({"ssid": "Store-Staff", "template": "store-wifi", "auth": {"type": "open"},
                         "bands": ["5"]})
    org["rf_templates"][0]["band_5"]["power_max"] = 15
    org["labels"] = [lb for lb in org["labels"] if lb["name"] != "store-internal"]
    org["wlan_policies"] = [p for p in org["wlan_policies"] if p["order"] != 2]
    org["psks"].append({"name": "rollback-guests", "ssid": "Store-IoT", "passphrase": NEW_PSK_PASSPHRASE,
                        "usage": "multi"})
    phl = next(s for s in data["sites"] if s["name"] == "Store-PHL-003")
    phl["address"] = "1 Rollback Way, Philadelphia, PA 19103"
    data["sites"].append({"name": NEW_SITE, "zone": 1, "number": 9, "address": "9 New St, Boston, MA 02110"})
    b = tmp / "fleet-b.yaml"
    b.write_text(yaml.safe_dump(data, sort_keys=False))
    return a, b


def org_by_key(state: dict[str, Any]) -> dict[str, Any]:
    """Every managed kind (and the inventory's assignments) by natural key, server fields left out and
    references written as names, so objects recreated with new ids compare equal; lists keep duplicates."""
    kinds = (*K.ORG_KINDS, K.SITES)
    names: dict[str, dict[str, str]] = {}
    out: dict[str, Any] = {}
    for kind in kinds:
        objs = state.get(kind.collection, [])
        if kind is K.HUB_PROFILES:
            objs = [o for o in objs if o.get("type") == "gateway"]
        templates = names.get(K.WLAN_TEMPLATES.key, {})
        keyed = [(natural_key(kind, o, templates.get(str(o.get("template_id")))), o) for o in objs]
        names[kind.key] = {str(o["id"]): key for key, o in keyed}
        out[kind.key] = keyed
    result: dict[str, Any] = {}
    for kind in kinds:
        def to_name(target: K.Kind, value: Any) -> Any:
            return names.get(target.key, {}).get(str(value), f"unknown:{value}")

        result[kind.key] = sorted((
            (key, rewrite_refs({k: v for k, v in o.items() if k not in SERVER_FIELDS}, REFS.get(kind.key, ()),
                               to_name))
            for key, o in out[kind.key]
        ), key=lambda pair: (pair[0], json.dumps(pair[1], sort_keys=True, default=str)))
    sites = names[K.SITES.key]
    result["inventory"] = sorted((d["mac"], sites.get(str(d.get("site_id")))) for d in state.get("inventory", []))
    return result
