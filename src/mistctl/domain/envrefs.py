"""`${NAME}` in a fleet's secret fields: the value is read from the environment, never written in the file.

Only fields whose name says they hold a secret (passphrase, psk, secret, password...) are expanded,
and only when the whole value is one reference (``psk: ${STORE_WIFI_PSK}``), so nothing else in an
org object can change meaning. `mistctl import` writes such references for every secret it finds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mistctl.domain.fleet import redact as _redact_like

ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def is_env_ref(value: Any) -> bool:
    """True for a whole-value `${NAME}` reference."""
    return isinstance(value, str) and ENV_REF.match(value) is not None


def is_secret_field(key: Any) -> bool:
    """Whether a field name holds a secret (the same rule the fleet's reprs redact by)."""
    return bool(_redact_like({key: "x"}) == {key: "***"})


@dataclass(frozen=True)
class Unset:
    """A reference to an environment variable that is not set: where, and which."""

    path: str
    name: str


def expand(obj: Any, env: Mapping[str, str], path: str = "") -> tuple[Any, list[Unset]]:
    """`obj` with the `${NAME}` values of secret fields replaced from `env`; the unset ones.

    A mapping or list with nothing to replace is returned as it is (not copied): the YAML line table
    finds a nested mapping by its identity, so a copy would lose the line of a nested problem."""
    unset: list[Unset] = []
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            where = f"{path}.{key}" if path else str(key)
            if is_secret_field(key) and is_env_ref(value):
                name = ENV_REF.match(value).group(1)  # type: ignore[union-attr]
                if name in env:
                    out[key] = env[name]
                    continue
                unset.append(Unset(where, name))
                out[key] = value
                continue
            out[key], found = expand(value, env, where)
            unset += found
        same = all(out[key] is value for key, value in obj.items())
        return (obj if same else out), unset
    if isinstance(obj, list):
        items = []
        for i, value in enumerate(obj):
            item, found = expand(value, env, f"{path}[{i}]")
            items.append(item)
            unset += found
        same = all(a is b for a, b in zip(items, obj, strict=True))
        return (obj if same else items), unset
    return obj, unset


def env_name(*parts: str) -> str:
    """An environment variable name from words: `env_name("wlan", "Corp Wi-Fi", "psk")` -> WLAN_CORP_WI_FI_PSK."""
    text = "_".join(p for p in parts if p)
    name = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()
    return name if name and not name[0].isdigit() else f"MIST_{name}"
