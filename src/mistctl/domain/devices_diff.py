"""Step 2 (and the hub gateways of step 5) in the plan: devices to claim, assign, name and bind.

Devices are found in the org inventory (listed with `vc=true`, so virtual-chassis members are there
too) by MAC, serial or claim code (`magic`, compared upper case without dashes). A device listed by
MAC or serial that the inventory does not hold cannot be placed: its site's device change names it,
so the plan is not empty, apply fails that site at step 2 and drift reports it.
An order (`activation_code`) is claimed on every plan until all its devices have shipped (Mist answers
the others `inventory_pending`); then the state store holds its MACs and they are placed like any device.
"""

from __future__ import annotations

from typing import Any

from mistctl.domain.claim import CLAIM_BATCH, normalise_claim_code, normalise_mac
from mistctl.domain.plan import Action, Change, Problem

CLAIM_PREFIX = "claim:"  # a device known by its claim code until apply has claimed it
ORDER_PREFIX = "order:"  # the devices of an order, known by its activation code until apply has claimed it
ORDERS = "orders"  # the change kind (and the state store's record) of an order's activation code
HUB_GATEWAYS = "hub_gateways"  # the change kind: a hub profile assigned to its hub gateways
DEVICE_NAMES = "device_names"  # the change kind: names given to a site's devices


class InventoryIndex:
    """The org inventory by MAC, serial and claim code."""

    def __init__(self, inventory: list[dict[str, Any]], orders: dict[str, list[str]] | None = None) -> None:
        self.orders = orders or {}  # activation code -> the MACs of its order, once every device shipped
        self.by: dict[str, dict[str, dict[str, Any]]] = {"mac": {}, "serial": {}, "claim_code": {}}
        for dev in inventory:
            if dev.get("mac"):
                self.by["mac"][normalise_mac(str(dev["mac"]))] = dev
            if dev.get("serial"):
                self.by["serial"][str(dev["serial"])] = dev
            if dev.get("magic"):
                self.by["claim_code"][normalise_claim_code(str(dev["magic"]))] = dev

    def find(self, ref: dict[str, str]) -> tuple[str, dict[str, Any] | None]:
        """How the device is named (mac, serial, claim_code) and its inventory record, if any."""
        for field_name in ("mac", "serial", "claim_code"):
            if ref.get(field_name):
                return field_name, self.by[field_name].get(ref[field_name])
        return "mac", None


def missing_message(how: str, value: str) -> str:
    """Why a device listed by MAC or serial cannot be placed."""
    return f"device {how} {value} is not in the org's inventory: claim it first, or list it by claim_code"


def diff_devices(site: str, devices: list[dict[str, str]], site_live: dict[str, Any] | None,
                 inventory: InventoryIndex, problems: list[Problem]) -> tuple[list[Change], list[str]]:
    """A site's device change (assign, and the devices that are nowhere), its names change, its claims."""
    site_id = str(site_live["id"]) if site_live else None
    macs: list[str] = []
    claims: list[str] = []
    missing: list[str] = []
    for ref in devices:
        if ref.get("activation_code"):
            _order(ref["activation_code"], site_id, inventory, macs, claims, missing)
            continue
        how, dev = inventory.find(ref)
        if dev is None and how == "claim_code":
            claims.append(ref["claim_code"])
            macs.append(CLAIM_PREFIX + ref["claim_code"])
        elif dev is None:
            missing.append(f"{how} {ref[how]}")
            problems.append(Problem("devices", ref[how], missing_message(how, ref[how]), site=site, fatal=False))
        elif site_id is None or dev.get("site_id") != site_id:
            macs.append(normalise_mac(str(dev["mac"])))
    action: Action = "assign" if macs or missing else "noop"
    body: dict[str, Any] = {"macs": macs} if macs else {}
    if missing:
        body["missing"] = missing
    assign = Change(action, 2, "devices", site, site=site, mist_id=site_id, body=body, phase="site",
                    calls=1 if macs else 0)
    return [assign, _diff_names(site, site_id, devices, inventory)], claims


def _order(code: str, site_id: str | None, inventory: InventoryIndex, macs: list[str], claims: list[str],
           missing: list[str]) -> None:
    """An order's devices: claimed by its activation code until every one has shipped, then by their MACs."""
    if code not in inventory.orders:
        claims.append(ORDER_PREFIX + code)
        macs.append(ORDER_PREFIX + code)
        return
    for mac in inventory.orders[code]:
        dev = inventory.by["mac"].get(mac)
        if dev is None:
            missing.append(f"mac {mac}")
        elif site_id is None or dev.get("site_id") != site_id:
            macs.append(mac)


def _diff_names(site: str, site_id: str | None, devices: list[dict[str, str]],
                inventory: InventoryIndex) -> Change:
    """Names given in the fleet that the devices do not carry yet (a device without one is left alone)."""
    names: dict[str, str] = {}
    ids: dict[str, dict[str, str]] = {}  # mac -> the device's id and type, as the inventory shows them
    diff: dict[str, list[Any]] = {}
    for ref in devices:
        if not ref.get("name"):
            continue
        how, dev = inventory.find(ref)
        if dev is None and how != "claim_code":
            continue  # the device change fails the site for it
        key = CLAIM_PREFIX + ref["claim_code"] if dev is None else normalise_mac(str(dev["mac"]))
        live = (dev or {}).get("name") or None
        if live == ref["name"]:
            continue
        names[key] = ref["name"]
        diff[key] = [live, ref["name"]]
        if dev is not None and dev.get("id") and dev.get("type"):
            ids[key] = {"id": str(dev["id"]), "type": str(dev["type"])}
    if not names:
        return Change("noop", 2, DEVICE_NAMES, site, site=site, mist_id=site_id, phase="site")
    # one PUT per name, and one list of the site's devices when a device to name has no known id yet
    calls = len(names) + any(key not in ids for key in names)
    return Change("update", 2, DEVICE_NAMES, site, site=site, mist_id=site_id, body={"names": names, "ids": ids},
                  diff=diff, phase="site", calls=calls)


def claim_changes(claims: list[str]) -> list[Change]:
    """The claim codes to claim, in batches of `CLAIM_BATCH`, and each order's activation code."""
    codes = [c for c in claims if not c.startswith(ORDER_PREFIX)]
    orders = [c[len(ORDER_PREFIX):] for c in claims if c.startswith(ORDER_PREFIX)]
    return [
        *(Change("claim", 2, "claims", f"batch-{i // CLAIM_BATCH + 1}",
                 body={"claim_codes": codes[i : i + CLAIM_BATCH]}, phase="site", calls=1)
          for i in range(0, len(codes), CLAIM_BATCH)),
        *(Change("claim", 2, ORDERS, code, body={"activation_code": code}, phase="site", calls=1)
          for code in dict.fromkeys(orders)),
    ]


def diff_hub_gateways(wanted: dict[str, list[str]], profile_ids: dict[str, str], inventory: InventoryIndex,
                      problems: list[Problem]) -> list[Change]:
    """Per hub profile, its hub gateways (by MAC) that do not carry it yet: assigned once sites are done."""
    changes: list[Change] = []
    for name, gateways in wanted.items():
        profile_id = profile_ids.get(name)
        todo: list[str] = []
        diff: dict[str, list[Any]] = {}
        for mac in gateways:
            dev = inventory.by["mac"].get(mac)
            if dev is None:
                problems.append(Problem(HUB_GATEWAYS, mac, f"hub gateway {mac} of hub profile {name!r} is not in "
                                        "the org's inventory yet: list it at a site (by claim_code) so apply "
                                        "claims it first", fatal=False))
            if dev is None or profile_id is None or dev.get("deviceprofile_id") != profile_id:
                todo.append(mac)
                diff[mac] = [(dev or {}).get("deviceprofile_id"), name]
        if todo:
            changes.append(Change("assign", 5, HUB_GATEWAYS, name, mist_id=profile_id, body={"macs": todo},
                                  diff=diff, phase="bind", calls=1))
        else:
            changes.append(Change("noop", 5, HUB_GATEWAYS, name, mist_id=profile_id, phase="bind"))
    return changes
