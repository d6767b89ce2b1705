"""Names that cannot attack a terminal: control characters refused in a fleet, escaped on output.

A site or object name holding `ESC[2J` (clear the screen), an OSC window-title sequence, a bell or a
bidi override would act on the operator's terminal when printed raw. The fleet refuses them (a name may
hold no control character at all; other text only tab and newlines); everything printed from the fleet
or read back from Mist goes through `printable`, which shows such characters as `\\x1b`, `\\u202e`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from mistctl.domain.errors import Issue, Origin

# C0, DEL, C1, and the invisible bidi and line controls (a "trojan source" name reads differently).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_TEXT_ALLOWED = frozenset("\t\n\r")
NAME_FIELDS = frozenset({"name", "ssid", "site", "zone", "template"})


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object, *, lines: bool = False) -> str:
    """`value` as text with every control character shown escaped (`lines`: newlines and tabs kept)."""
    text = str(value)
    if lines:
        return _CONTROL.sub(lambda m: m.group() if m.group() in "\t\n" else _escape(m.group()), text)
    return _CONTROL.sub(lambda m: _escape(m.group()), text)


def has_control(text: str) -> bool:
    """True when `text` holds any control character (tab and newlines included)."""
    return _CONTROL.search(text) is not None


def control_chars(text: str, *, name: bool = True) -> list[str]:
    """The control characters in `text`, escaped (`name=False`: tab and newlines are allowed)."""
    return [_escape(c) for c in _CONTROL.findall(text) if name or c not in _TEXT_ALLOWED]


def unsafe_strings(data: Any, path: str = "") -> Iterator[tuple[str, str, list[str]]]:
    """(where, the text escaped, its control characters) for each unsafe string or key in `data`."""
    if isinstance(data, Mapping):
        yield from _unsafe_in_mapping(data, path)
    elif isinstance(data, list | tuple):
        for i, item in enumerate(data):
            if isinstance(item, str):
                if _CONTROL.search(item):
                    yield f"{path}[{i}]", printable(item), control_chars(item)
            elif isinstance(item, Mapping | list | tuple):
                yield from unsafe_strings(item, f"{path}[{i}]")


def _unsafe_in_mapping(data: Mapping[Any, Any], path: str) -> Iterator[tuple[str, str, list[str]]]:
    for key, value in data.items():
        text_key = str(key)
        if _CONTROL.search(text_key):
            yield _join(path, key), printable(key), control_chars(text_key)
        if isinstance(value, str):
            found = control_chars(value, name=text_key in NAME_FIELDS) if _CONTROL.search(value) else None
            if found:
                yield _join(path, key), printable(value), found
        elif isinstance(value, Mapping | list | tuple):  # the path is built only where it is needed
            yield from unsafe_strings(value, _join(path, key))


def _join(path: str, key: object) -> str:
    return f"{path}.{printable(key)}" if path else printable(key)


def text_issues(data: Any, origin: Origin, prefix: str = "") -> list[Issue]:
    """One issue per string (or key) of `data` holding a control character, naming where and which."""
    return [
        Issue.at(origin, where, f"holds the control character(s) {', '.join(dict.fromkeys(bad))} ('{shown}'): "
                                "a name may hold none, other text only tabs and newlines; remove them")
        for where, shown, bad in unsafe_strings(data, prefix)
    ]
