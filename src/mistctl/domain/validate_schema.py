"""Org objects checked against Mist's own schemas at every depth: types, enums, ranges, unknown keys.

A value Mist would refuse with a 400 (`ssid: 12345`, `auth.type: bogus`, `bands: 5`) is found here,
offline, before anything is written. The top level's unknown and required keys are `validate_org`'s
(with its hints and mistctl's own keys); this pass reports what lies below and every wrong value.
Messages give the path, the line of the nearest mapping and the rule, never the value (it may be a
passphrase).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mistctl.domain import kinds as K
from mistctl.domain.errors import Issue, Origin
from mistctl.domain.fleet import OrgDesign
from mistctl.domain.mist_fields import FIELDS
from mistctl.domain.mist_schema import schema_errors
from mistctl.domain.origins import Origins
from mistctl.domain.refs import OWN_KEYS, describe

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

_TYPES = {"string": "a string", "integer": "a whole number", "number": "a number", "boolean": "true or false",
          "array": "a list", "object": "a mapping", "null": "null"}
_SHOWN_CHOICES = 12


def schema_issues(org: OrgDesign, origins: Origins, ruled: Mapping[str, tuple[str, ...]]) -> list[Issue]:
    """Every org object's departures from its Mist schema, one issue each.

    `ruled` lists, per kind, the paths (`validate_org`'s walk syntax) whose values a rule of
    `validate_org` already checks with a better message (VLANs, passphrases): not reported twice.
    """
    issues: list[Issue] = []
    for kind in K.ORG_KINDS:
        allowed = FIELDS[kind.key] - OWN_KEYS.get(kind.key, frozenset())
        patterns = [_pattern(p) for p in ruled.get(kind.key, ())]
        for i, obj in enumerate(org.objects(kind.key)):
            body = {k: v for k, v in obj.items() if k in allowed}
            origin, item = origins.of_object(kind.key, i), describe(kind.key, obj, i)
            for found in schema_errors(kind.key, body):
                if not found.path and found.error.validator == "required":
                    continue  # the top level's required keys are validate_org's, with its exceptions
                if any(_matches(p, found.path) for p in patterns):
                    continue
                where = _line(obj, found.path, origins.lines) or origin.line
                issues.append(Issue.at(Origin(origin.file, where), item, message(found.path, found.error)))
    return issues


def non_text_key(obj: Any) -> str | None:
    """The path of the first mapping key that is not text (`{1: x}`), or None: Mist's keys are strings."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(obj, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    return path_text((*path, str(key)))
                stack.append((value, (*path, key)))
        elif isinstance(node, list):
            stack.extend((item, (*path, i)) for i, item in enumerate(node))
    return None


def _pattern(path: str) -> list[str]:
    """`networks[].vlan_id` -> ["networks", "[]", "vlan_id"]; `*` stands for any key."""
    return [part for name in path.split(".") for part in ((name[:-2], "[]") if name.endswith("[]") else (name,))]


def _matches(pattern: list[str], path: tuple[str | int, ...]) -> bool:
    if len(pattern) != len(path):
        return False
    return all(
        isinstance(got, int) if want == "[]" else (want == "*" and isinstance(got, str)) or want == got
        for want, got in zip(pattern, path, strict=True)
    )


def _line(obj: Any, path: tuple[str | int, ...], lines: Mapping[int, int]) -> int | None:
    """The line of the deepest mapping on the path that the YAML recorded (None: use the object's)."""
    line, node = None, obj
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        line = lines.get(id(node), line)
    return line


def path_text(path: tuple[str | int, ...]) -> str:
    """`port_config.ge-0/0/0.ip_config.type`, `bands[0]`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def message(path: tuple[str | int, ...], error: ValidationError) -> str:
    """What is wrong at `path` and what Mist wants there, in words, without the value."""
    where = path_text(path)
    rule = error.validator
    if rule == "additionalProperties":
        return _unknown_keys(where, error)
    if rule == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return f"{where + '.' if where else ''}{missing}: Mist requires it: add it"
    if rule in ("anyOf", "oneOf") and error.context:
        from jsonschema.exceptions import best_match

        closest = best_match(error.context)  # its path is from the object's top, maybe deeper than `path`
        return message(tuple(closest.absolute_path), closest)
    return f"{where or 'the object'}: {_rule(rule, error.validator_value)}"


def _unknown_keys(where: str, error: ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    known = sorted(schema.get("properties", {}))
    unknown = sorted(str(k) for k in error.instance if k not in known) if isinstance(error.instance, dict) else []
    name = unknown[0] if unknown else "?"
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known[:_SHOWN_CHOICES])}"
    more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
    inside = f"{where}: " if where else ""
    return f"{inside}unknown key '{name}'{more}, not in Mist's schema here; {hint}"


def _rule(rule: Any, value: Any) -> str:
    words: dict[str, Callable[[], str]] = {
        "type": lambda: f"must be {_type_words(value)}",
        "enum": lambda: f"must be one of {_choices(value)}",
        "const": lambda: f"must be {json.dumps(value)}",
        "minimum": lambda: f"must be at least {value}",
        "maximum": lambda: f"must be at most {value}",
        "minLength": lambda: f"must have at least {value} characters",
        "maxLength": lambda: f"must have at most {value} characters",
        "minItems": lambda: f"must list at least {value} items",
        "maxItems": lambda: f"must list at most {value} items",
        "uniqueItems": lambda: "must not list an item twice",
        "pattern": lambda: f"must match the pattern {value}",
        "format": lambda: f"must be an {value} address" if value in ("ipv4", "ipv6") else f"must be a {value}",
    }
    found = words.get(str(rule))
    return found() if found else f"breaks Mist's rule {rule}={json.dumps(value)[:80]}"


def _type_words(value: Any) -> str:
    kinds = value if isinstance(value, list) else [value]
    return " or ".join(_TYPES.get(str(k), str(k)) for k in kinds if k != "null") or "null"


def _choices(values: Any) -> str:
    shown = [json.dumps(v) for v in values if v is not None][:_SHOWN_CHOICES]
    more = ", ..." if len(values) > _SHOWN_CHOICES else ""
    return ", ".join(shown) + more
