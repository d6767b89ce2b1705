"""Closed request schemas: Mist refuses a field it does not know, at every depth.

The spec never says `additionalProperties: false`, yet Mist answers 400 `invalid field: <name>` for
an unknown field. So every object schema that lists its `properties` (and is not a map: no
`additionalProperties`, no `patternProperties`) is closed here before request bodies are checked
against it. An `allOf` of such schemas is merged into one closed schema first, so each part accepts
the others' fields. Answers are still checked against the open schemas (Mist adds fields freely).
"""

from __future__ import annotations

from typing import Any

#: Keywords whose value maps names to schemas.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
#: Keywords whose value is data, never a schema.
_DATA = frozenset({"default", "enum", "const", "required"})


def close_defs(defs: dict[str, Any]) -> dict[str, Any]:
    """A closed copy of the schema definitions (the input is left as it is)."""
    return {name: close(schema, defs) for name, schema in defs.items()}


def close(node: Any, defs: dict[str, Any]) -> Any:
    """A copy of a schema node where every listed-properties object refuses other fields."""
    if isinstance(node, list):
        return [close(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "allOf" in node:
        node = _merge_all_of(node, defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DATA:
            out[key] = value
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: close(sub, defs) for name, sub in value.items()}
        else:
            out[key] = close(value, defs)
    if _is_record(node):
        out["additionalProperties"] = False
    return out


def _is_record(node: dict[str, Any]) -> bool:
    """An object with named fields, not a map."""
    return "properties" in node and "additionalProperties" not in node and "patternProperties" not in node


def _merge_all_of(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """`allOf` of record schemas as one record: the union of their fields and of their required ones."""
    parts = [_resolve(part, defs) for part in node["allOf"]]
    if not all(_is_record(part) for part in parts):
        return node  # not only records: leave it open rather than refuse valid bodies
    merged: dict[str, Any] = {key: value for key, value in node.items() if key != "allOf"}
    merged["type"] = "object"
    merged["properties"] = {name: sub for part in parts for name, sub in part["properties"].items()}
    required = sorted({name for part in parts for name in part.get("required", ())})
    if required:
        merged["required"] = required
    return merged


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    ref = node.get("$ref") if isinstance(node, dict) else None
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _resolve(defs[ref.removeprefix("#/$defs/")], defs)
    return node


def reachable_defs(schema: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """The definitions `schema` refers to (`#/$defs/<name>`), directly or through one another."""
    found: dict[str, Any] = {}
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name not in found:
                    found[name] = defs[name]
                    stack.append(defs[name])
            stack.extend(value for key, value in node.items() if key not in _DATA)
    return found
