"""Is an object valid under a (prepared) Mist schema? Answered without jsonschema when the answer is sure.

Importing jsonschema and compiling the kinds' validators costs more than a small fleet's whole check,
and a valid object (nearly all of them) has no errors to word. `is_valid` implements the keywords the
prepared schemas use, with jsonschema's Draft 2020-12 meaning and `mist_schema`'s variable rule (a
string holding a `{{variable}}` passes every keyword); it answers True only when jsonschema would find
no error. Anything it is not sure of (another keyword, an enum or uniqueness test on values other than
plain scalars, an odd Python type, a format that does not parse) raises `Unsure` inside and is answered
False: the caller then asks jsonschema, which words the errors (mist_schema.schema_errors).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from mistctl.domain.variables import is_variable

#: Keywords that only annotate (jsonschema checks nothing for them).
_ANNOTATIONS = frozenset({"default", "readOnly", "writeOnly", "description", "title", "examples", "deprecated",
                          "$comment", "$defs"})
_JSON_TYPES = (dict, list, str, int, float, bool, type(None))


class Unsure(Exception):
    """The quick check cannot say for sure; jsonschema decides."""


def is_valid(schema: Any, instance: Any) -> bool:
    """True only when jsonschema (Draft 2020-12, ipv4/ipv6 formats, variables skipped) finds no error."""
    try:
        return _valid(schema, instance)
    except Unsure:
        return False


def _is_type(instance: Any, name: str) -> bool:
    if name == "string":
        return isinstance(instance, str)
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    if isinstance(instance, bool):
        return False
    if name == "integer":
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    if name == "number":
        return isinstance(instance, int | float)
    raise Unsure(name)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _valid(schema: Any, instance: Any) -> bool:  # noqa: C901, PLR0911, PLR0912 (one branch per keyword)
    if schema is True:
        return True
    if schema is False:
        return False  # jsonschema's error for a false schema is not a keyword's: variables do not pass it
    if not isinstance(schema, dict) or not isinstance(instance, _JSON_TYPES):
        raise Unsure("schema or instance")
    if isinstance(instance, str) and is_variable(instance):
        return True
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "type":
            if not any(_is_type(instance, name) for name in (value if isinstance(value, list) else [value])):
                return False
        elif key == "properties":
            if isinstance(instance, dict) and not all(
                    _valid(sub, instance[name]) for name, sub in value.items() if name in instance):
                return False
        elif key == "additionalProperties":
            if isinstance(instance, dict) and not _additional(schema, value, instance):
                return False
        elif key == "items":
            if isinstance(instance, list) and not all(_valid(value, item) for item in instance):
                return False
        elif key == "required":
            if isinstance(instance, dict) and any(name not in instance for name in value):
                return False
        elif key == "enum":
            if not any(_equal(each, instance) for each in value):
                return False
        elif key in ("minimum", "maximum"):
            if _number(instance) and (instance < value if key == "minimum" else instance > value):
                return False
        elif key in ("minLength", "maxLength"):
            if isinstance(instance, str) and (len(instance) < value if key == "minLength" else len(instance) > value):
                return False
        elif key == "uniqueItems":
            if value and isinstance(instance, list) and not _unique(instance):
                return False
        elif key == "format":
            if not _format(value, instance):
                return False
        elif key == "anyOf":
            if not _any_of(value, instance):
                return False
        elif key == "oneOf":
            if sum(_valid(sub, instance) for sub in value) != 1:
                return False
        else:
            raise Unsure(key)
    return True


def _additional(schema: dict[str, Any], allowed: Any, instance: dict[Any, Any]) -> bool:
    if "patternProperties" in schema:
        raise Unsure("patternProperties")
    known = schema.get("properties", {})
    extras = [key for key in instance if key not in known]
    if isinstance(allowed, dict):
        return all(_valid(allowed, instance[key]) for key in extras)
    return bool(allowed) or not extras


def _equal(each: Any, instance: Any) -> bool:
    """jsonschema's `equal` for a scalar instance (True is not 1, "1" is not 1)."""
    if isinstance(instance, str):
        return bool(each == instance)
    if instance is None or isinstance(instance, bool):
        return each is instance
    if _number(instance):
        return _number(each) and bool(each == instance)
    raise Unsure("enum of a collection")


def _unique(items: list[Any]) -> bool:
    """jsonschema's `uniq`: no two items `equal` (True is not 1, 1 is 1.0, mappings by their items)."""
    return len({_key(item) for item in items}) == len(items)


def _key(value: Any) -> Any:
    """A hashable stand-in for `value`, equal for two values exactly when jsonschema's `equal` says so."""
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return type(value), value
    if _number(value) and value == value:  # noqa: PLR0124 (NaN is never equal, not even to itself)
        return float, value
    if isinstance(value, list):
        return list, tuple(_key(item) for item in value)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return dict, frozenset((k, _key(v)) for k, v in value.items())
    raise Unsure("uniqueItems")


def _format(name: Any, instance: Any) -> bool:
    if name not in ("ipv4", "ipv6") or not isinstance(instance, str):
        return True  # only ipv4 and ipv6 are checked (mist_schema.validator), and only on strings
    try:
        if name == "ipv4":
            ipaddress.IPv4Address(instance)
            return True
        return not ipaddress.IPv6Address(instance).scope_id
    except ValueError:
        raise Unsure("format") from None


def _any_of(subschemas: list[Any], instance: Any) -> bool:
    unsure = False
    for sub in subschemas:
        try:
            if _valid(sub, instance):
                return True
        except Unsure:
            unsure = True
    if unsure:
        raise Unsure("anyOf")
    return False
