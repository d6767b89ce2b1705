"""Whether a value holds only JSON's plain types: what a fast encoder or validator reads as Python does.

orjson writes a NaN or infinite float as `null` (the standard library refuses it), and a Rust validator
reads neither those nor integers past 64 bits as Python does; a subclass of a plain type may behave
differently too. So the fast paths take only values this check passes and leave the rest to the
standard library and to `jsonschema`, exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_SCALARS = (str, bool, type(None))
_CONTAINERS = (dict, list, tuple)
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def is_plain(content: Any) -> bool:
    """True when `content` holds only texts, booleans, None, finite floats, 64-bit integers, dicts with
    text keys, lists and tuples (exact types, no subclasses); False otherwise."""
    stack = [content]
    while stack:
        values = _members(stack.pop())
        if values is None:
            return False
        for value in values:
            kind = type(value)
            if kind is str:
                continue
            if kind in _CONTAINERS:
                stack.append(value)
            elif not _plain_scalar(value):
                return False
    return True


def _members(node: Any) -> Iterable[Any] | None:
    """A container's values (None for a dict with a key that is not text); a scalar stands for itself."""
    kind = type(node)
    if kind is dict:
        return node.values() if all(type(key) is str for key in node) else None
    return node if kind is list or kind is tuple else (node,)


def _plain_scalar(value: Any) -> bool:
    kind = type(value)
    if kind is float:
        return bool(value - value == 0.0)  # NaN and the infinities give NaN
    if kind is int:
        return bool(_INT_MIN <= value <= _INT_MAX)
    return kind in _SCALARS
