"""`{{variable}}` references: Mist's site-variable syntax, found and rendered in any JSON-like value.

Mist renders site variables server-side, so mistctl sends templates with their references intact;
these helpers let validation check every reference is defined and let previews show the result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: A reference as Mist writes it; spaces inside the braces are tolerated, as Mist does.
VARIABLE_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: A name a site variable may have so that templates can reference it.
VARIABLE_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def find_variables(obj: Any) -> set[str]:
    """The names of all `{{variable}}` references in a value (dict keys, values, list items, strings)."""
    found: set[str] = set()
    _collect(obj, found)
    return found


def _collect(obj: Any, found: set[str]) -> None:
    if isinstance(obj, str):
        if "{{" in obj:
            found.update(VARIABLE_RE.findall(obj))
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            _collect(key, found)
            _collect(value, found)
    elif isinstance(obj, list | tuple):
        for item in obj:
            _collect(item, found)


def is_variable(value: Any) -> bool:
    """True when a value is a string holding at least one `{{variable}}` reference."""
    return isinstance(value, str) and VARIABLE_RE.search(value) is not None


def substitute(obj: Any, variables: Mapping[str, str]) -> Any:
    """A copy of a value with every defined `{{variable}}` replaced; undefined ones are left as written."""
    if isinstance(obj, str):
        if "{{" not in obj:
            return obj
        return VARIABLE_RE.sub(lambda m: variables.get(m.group(1), m.group(0)), obj)
    if isinstance(obj, Mapping):
        return {substitute(k, variables): substitute(v, variables) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [substitute(item, variables) for item in obj]
    return obj
