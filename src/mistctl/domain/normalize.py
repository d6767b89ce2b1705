"""Compare desired Mist objects with live ones without false differences.

Mist answers with server-set fields and defaults the fleet file never mentions; an object is
unchanged when every field the fleet file sets has the same value live. Absent, null, empty list
and empty dict are one value. Lists of ids compare as sets (Mist does not keep their order).
References are compared by name: `to_names` rewrites a live object's id fields into names first.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from mistctl.domain.desired import SECRET_FIELDS, WireRef
from mistctl.domain.fleet import is_secret_key
from mistctl.domain.redactwalk import LEAVES, Walk, redacting_walk

_EMPTY: tuple[Any, ...] = (None, [], {}, "")


def same(desired: Any, live: Any) -> bool:
    """True when the live value satisfies the desired one (desired dict keys are a subset)."""
    if desired in _EMPTY and live in _EMPTY:
        return True
    if isinstance(desired, Mapping):
        return isinstance(live, Mapping) and all(same(v, live.get(k)) for k, v in desired.items())
    if isinstance(desired, list):
        return isinstance(live, list) and _same_list(desired, live)
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired is live
    if isinstance(desired, int | float) and isinstance(live, int | float):
        return float(desired) == float(live)
    return bool(desired == live)


def _same_list(desired: list[Any], live: list[Any]) -> bool:
    if len(desired) != len(live):
        return False
    if all(isinstance(x, str) for x in desired) and all(isinstance(x, str) for x in live):
        return sorted(desired) == sorted(live)
    return all(same(d, v) for d, v in zip(desired, live, strict=True))


def field_diff(desired: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Top-level fields whose live value differs: field -> (live, desired)."""
    return {k: (live.get(k), v) for k, v in desired.items() if not same(v, live.get(k))}


def get_path(obj: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at a nested path, or None."""
    cur: Any = obj
    for part in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


def set_path(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set a nested value, creating the dicts on the way."""
    cur = obj
    for part in path[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[part] = nxt
        cur = nxt
    cur[path[-1]] = value


def rewrite_refs(obj: Mapping[str, Any], refs: tuple[WireRef, ...], mapping: Any) -> dict[str, Any]:
    """A deep-enough copy of `obj` whose reference fields are mapped through `mapping(kind, value)`.

    `mapping` returns the translated value, or None to drop it (an unknown reference).
    """
    out = _copy_ref_parents(obj, refs)
    for ref in refs:
        value = get_path(out, ref.path)
        if value is None:
            continue
        if ref.many:
            mapped = [m for v in value if (m := mapping(ref.target, v)) is not None]
            set_path(out, ref.path, mapped)
        else:
            set_path(out, ref.path, mapping(ref.target, value))
    return out


def _copy_ref_parents(obj: Mapping[str, Any], refs: tuple[WireRef, ...]) -> dict[str, Any]:
    out = dict(obj)
    for ref in refs:
        if len(ref.path) > 1 and isinstance(out.get(ref.path[0]), Mapping):
            out[ref.path[0]] = dict(out[ref.path[0]])
    return out


@functools.lru_cache(maxsize=4096)  # a plan of thousands of sites repeats a few dozen field names
def _plain_field(key: Any) -> bool:
    return not (key in SECRET_FIELDS or is_secret_key(key))


def _redact_secret(_key: Any, value: Any, walk: Walk) -> Any:
    if value:  # a secret, an object under a secret name included, is replaced whole
        return "<redacted>"
    return value if type(value) in LEAVES else walk(value)  # "", 0, None, [], {}: kept (copied)


redact = redacting_walk(
    _plain_field, _redact_secret, list,
    doc="A copy with secret fields replaced by a marker (for plans, logs and the store).",
)
