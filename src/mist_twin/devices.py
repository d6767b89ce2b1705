"""The pool of claimable devices: generated from a seed or loaded from a JSON file.

A pool device is `{claim_code, mac, serial, model, type, version, activation_code?, claimed, shipped?}`
(`shipped: false`: ordered under its activation code but not shipped yet).
Claiming its code (POST /orgs/{org_id}/inventory) turns it into an inventory record of the org.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
from pathlib import Path
from typing import Any

Device = dict[str, Any]

#: (type, model, serial prefix, firmware version) of the models the twin hands out.
MODELS: tuple[tuple[str, str, str, str], ...] = (
    ("ap", "AP45", "A17", "0.14.29543"),
    ("ap", "AP34", "A07", "0.14.29543"),
    ("ap", "AP43", "A07", "0.12.27452"),
    ("switch", "EX2300-C-12P", "JW36", "22.4R3-S2.11"),
    ("switch", "EX4100-F-12P", "FC40", "23.4R2-S2.3"),
    ("gateway", "SRX320", "CW48", "22.4R3-S3.2"),
    ("gateway", "SSR120", "TH01", "6.2.5-5.r2"),
)
#: Relative weights: an AP-heavy estate, as sites usually are (several APs per switch and gateway).
WEIGHTS = (4, 3, 2, 2, 1, 1, 1)
DEVICE_KEYS = ("claim_code", "mac", "serial", "model", "type")
DEVICE_TYPES = ("ap", "switch", "gateway")
ACTIVATION_GROUP = 5  # generated devices share an activation code by fives
_ALNUM = string.ascii_uppercase + string.digits
CLAIM_CODE_LENGTH = 15


def generate_pool(seed: int, count: int) -> list[Device]:
    """`count` distinct devices, the same for the same seed."""
    rng = random.Random(seed)
    pool: list[Device] = []
    macs: set[str] = set()
    activation = ""
    for index in range(count):
        kind, model, prefix, version = rng.choices(MODELS, weights=WEIGHTS)[0]
        mac = _unique_mac(rng, macs)
        if index % ACTIVATION_GROUP == 0:
            activation = "AC" + "".join(rng.choices(_ALNUM, k=10))
        pool.append(
            {
                "claim_code": _fifteen("".join(rng.choices(_ALNUM, k=rng.randint(13, 15))), mac),
                "mac": mac,
                "serial": prefix + "".join(rng.choices(string.digits, k=10)),
                "model": model,
                "type": kind,
                "version": version,
                "activation_code": activation,
                "claimed": False,
            }
        )
    return pool


def _fifteen(code: str, mac: str) -> str:
    """Mist claim codes are 15 letters and digits: pad a short one from the MAC's digest (no rng draw,
    so the rest of a seed's pool stays as it was)."""
    digest = hashlib.sha256(mac.encode()).digest()
    return code + "".join(_ALNUM[b % len(_ALNUM)] for b in digest[: CLAIM_CODE_LENGTH - len(code)])


def normalise_claim_code(code: str) -> str:
    """`6jg8e-ptfv2-a9z2n` -> `6JG8EPTFV2A9Z2N`: Mist keeps claim codes upper case without dashes."""
    return code.replace("-", "").replace(" ", "").strip().upper()


def _unique_mac(rng: random.Random, taken: set[str]) -> str:
    while True:
        mac = "5c5b35" + "".join(rng.choices("0123456789abcdef", k=6))
        if mac not in taken:
            taken.add(mac)
            return mac


def version_for(model: str, kind: str) -> str:
    """The firmware a device of this model starts with."""
    for _kind, known_model, _prefix, version in MODELS:
        if known_model == model:
            return version
    return next(version for k, _m, _p, version in MODELS if k == kind)


def normalise_device(raw: Any, where: str) -> Device:
    """A pool device from user data, or ValueError naming the entry and the missing/bad key."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object with keys {', '.join(DEVICE_KEYS)}")
    missing = [key for key in DEVICE_KEYS if not isinstance(raw.get(key), str) or not raw[key]]
    if missing:
        raise ValueError(f"{where}: missing or empty string field(s) {', '.join(missing)}")
    if raw["type"] not in DEVICE_TYPES:
        raise ValueError(f"{where}: type must be one of {', '.join(DEVICE_TYPES)}, not {raw['type']!r}")
    device: Device = {key: raw[key] for key in DEVICE_KEYS}
    device["mac"] = device["mac"].lower().replace(":", "").replace("-", "")
    device["claim_code"] = normalise_claim_code(device["claim_code"])
    device["version"] = str(raw.get("version") or version_for(device["model"], device["type"]))
    device["activation_code"] = str(raw.get("activation_code") or "").upper()
    device["claimed"] = False
    if raw.get("shipped") is False:  # ordered, not shipped yet: an activation code answers it pending
        device["shipped"] = False
    return device


def load_pool(path: Path) -> list[Device]:
    """The devices listed in a JSON file (a list of objects with claim_code, mac, serial, model, type)."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"devices file {path}: cannot read it as JSON ({exc.__class__.__name__})") from None
    if not isinstance(raw, list):
        raise ValueError(f"devices file {path}: expected a JSON list of device objects")
    pool = [normalise_device(item, f"devices file {path}, entry {n}") for n, item in enumerate(raw)]
    check_unique(pool, f"devices file {path}")
    return pool


def check_unique(pool: list[Device], where: str) -> None:
    """ValueError when two devices share a claim code or a MAC."""
    for key in ("claim_code", "mac"):
        seen: set[str] = set()
        for device in pool:
            if device[key] in seen:
                raise ValueError(f"{where}: {key} {device[key]} appears twice")
            seen.add(device[key])


def device_id(mac: str) -> str:
    """Mist's device id: a fixed prefix and the MAC."""
    return f"00000000-0000-0000-1000-{mac}"


def inventory_record(device: Device, org_id: str, now: int) -> dict[str, Any]:
    """The org inventory object a claimed device becomes."""
    return {
        "id": device_id(device["mac"]),
        "mac": device["mac"],
        "serial": device["serial"],
        "model": device["model"],
        "sku": device["model"],
        "type": device["type"],
        "magic": device["claim_code"],
        "name": "",
        "org_id": org_id,
        "deviceprofile_id": None,
        "version": device["version"],
        "connected": False,
        "adopted": device["type"] != "ap",
        "hw_rev": "",
        "created_time": now,
        "modified_time": now,
    }
