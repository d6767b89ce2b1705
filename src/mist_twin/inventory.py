"""The org inventory: claiming devices from the pool, assigning them to sites, listing them."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams

from mist_twin.devices import normalise_claim_code
from mist_twin.errors import bad_request
from mist_twin.state import INVENTORY, MANAGEMENT, POOL, TwinState
from mist_twin.store import Obj

LIST_FILTERS = ("serial", "model", "type", "mac", "site_id")
_CLAIM_ITEM_KEYS = ("mac", "serial", "model", "type")


def normalise_mac(mac: str) -> str:
    """`5C:5B:35:0E:00:01` -> `5c5b350e0001`, as Mist stores MACs."""
    return mac.lower().replace(":", "").replace("-", "").replace(".", "")


def claim_item(device: Obj) -> Obj:
    """The `inventory_added` / `inventory_duplicated` entry for a device."""
    return {**{key: device[key] for key in _CLAIM_ITEM_KEYS}, "magic": device["claim_code"]}


def claim_codes(twin: TwinState, codes: list[str]) -> tuple[Obj, bool]:
    """Claim devices by claim code; returns Mist's answer and whether it is a 400."""
    answer: dict[str, list[Any]] = {key: [] for key in ("added", "duplicated", "error", "reason")}
    answer["inventory_added"], answer["inventory_duplicated"] = [], []
    with twin.store.batch():
        for code in codes:
            device = twin.store.get(POOL, normalise_claim_code(code))  # Mist takes `6JG8E-PTFV2-A9Z2N` too
            if device is None:
                answer["error"].append(code)
                answer["reason"].append(f"{code}: invalid claim code")
            elif device["claimed"]:
                answer["duplicated"].append(code)
                answer["inventory_duplicated"].append(claim_item(device))
            else:
                twin.claim_device(device)
                answer["added"].append(code)
                answer["inventory_added"].append(claim_item(device))
    failed = not answer["added"] and bool(answer["error"])
    return answer, failed


def claim_activation(twin: TwinState, code: str, kind: str) -> Obj:
    """Claim every pool device ordered under an activation code (`response_claim_license`)."""
    wanted = code.strip().upper()
    devices = [d for d in twin.store.all(POOL) if d.get("activation_code") == wanted]
    if not devices:
        raise bad_request(f"code: {code} is not a valid activation code")
    added: list[Obj] = []
    duplicated: list[Obj] = []
    pending: list[Obj] = []
    if kind != "license":
        with twin.store.batch():
            for device in devices:
                if device.get("shipped") is False:  # ordered, not shipped: claimed later (`inventory_pending`)
                    pending.append({"mac": device["mac"]})
                    continue
                (duplicated if device["claimed"] else added).append(claim_item(device))
                if not device["claimed"]:
                    twin.claim_device(device)
    return {
        "license_added": [],
        "license_duplicated": [],
        "license_error": [],
        "inventory_added": added,
        "inventory_duplicated": duplicated,
        "inventory_pending": pending,
    }


def listed(twin: TwinState, query: QueryParams) -> list[Obj]:
    """Inventory records matching the query's filters (`unassigned=false` hides unassigned ones)."""
    show_unassigned = query.get("unassigned", "true").lower() != "false"
    wanted = {name: query[name] for name in LIST_FILTERS if query.get(name)}
    if "mac" in wanted:
        wanted["mac"] = normalise_mac(wanted["mac"])
    after = query.get("modified_after")
    records = []
    for record in twin.store.all(INVENTORY):
        if any(str(record.get(name)) != value for name, value in wanted.items()):
            continue
        if not show_unassigned and not record.get("site_id"):
            continue
        if after and after.isdigit() and record["modified_time"] <= int(after):
            continue
        records.append(record)
    return records


def _targets(twin: TwinState, body: Obj) -> list[tuple[str, Obj | None]]:
    """(mac as sent, record or None) for the `macs` (or `serials`) of an inventory update."""
    if body.get("macs"):
        return [(mac, twin.store.get(INVENTORY, normalise_mac(mac))) for mac in body["macs"]]
    by_serial = {record["serial"]: record for record in twin.store.all(INVENTORY)}
    return [(serial, by_serial.get(serial)) for serial in body.get("serials") or ()]


def change(twin: TwinState, body: Obj) -> Obj:
    """`PUT /orgs/{org_id}/inventory`: assign, unassign or delete devices (`{op, success, error, reason}`).

    The caller answers 400 with this same body when any MAC failed (the others are done).
    """
    op = body["op"]
    if op not in ("assign", "unassign", "delete"):
        raise bad_request(f"op: {op} is not supported by the twin (assign, unassign, delete are)")
    site_id = body.get("site_id")
    if op == "assign" and (not site_id or twin.store.get("sites", site_id) is None):
        raise bad_request("site_id: an existing site id is required to assign devices")
    answer: Obj = {"op": op, "success": [], "error": [], "reason": []}
    with twin.store.batch():
        for sent, record in _targets(twin, body):
            problem = _apply(twin, op, record, site_id, bool(body.get("no_reassign")))
            if not problem and op == "assign" and record is not None:
                _remember_management(twin, record, body)
            if problem:
                answer["error"].append(sent)
                answer["reason"].append(f"{sent}: {problem}")
            else:
                answer["success"].append(sent)
    return answer


def _remember_management(twin: TwinState, record: Obj, body: Obj) -> None:
    """Whether Mist will push config to the device: an adopted switch or gateway only with `managed: true`."""
    adopted = bool(record.get("adopted")) and record["type"] in ("switch", "gateway")
    managed = (not adopted or bool(body.get("managed"))) and not body.get("disable_auto_config")
    twin.store.put(MANAGEMENT, record["mac"], {"mac": record["mac"], "managed": managed,
                                               "disable_auto_config": bool(body.get("disable_auto_config"))})


def _apply(twin: TwinState, op: str, record: Obj | None, site_id: str | None, no_reassign: bool) -> str:
    """Perform one device's change; returns why it failed ('' on success)."""
    if record is None:
        return "not in the org inventory"
    if op == "delete":
        twin.store.delete(INVENTORY, record["mac"])
        device = twin.store.get(POOL, record["magic"])
        if device is not None:
            twin.store.put(POOL, device["claim_code"], {**device, "claimed": False})
        return ""
    if op == "assign" and no_reassign and record.get("site_id") not in (None, site_id):
        return "already assigned to another site"
    kept = {k: v for k, v in record.items() if k != "site_id"}  # unassigned: no site_id at all (never null)
    new_site = {"site_id": site_id} if op == "assign" else {}
    twin.store.put(INVENTORY, record["mac"], {**kept, **new_site, "modified_time": twin.now()})
    return ""
