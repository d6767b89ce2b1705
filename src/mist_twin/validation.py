"""Request bodies checked against the Mist spec's schemas (extracted into schemas.json).

The validators are compiled once per process, on first use. A 400's detail names the field and the
rule it breaks, never the value sent (a wrong-typed passphrase must not be echoed back). Requests meet
closed schemas (`strict.py`): an unknown field is Mist's `invalid field: <path>`.

A body is first checked by jsonschema-rs (compiled from the same closed schema, formats not asserted,
as `jsonschema` does not assert them either): a site's body took half a millisecond in `jsonschema`
and a few microseconds there. Only a body it refuses, or one it may read differently from Python (a
NaN, an integer past 64 bits: `plainjson.is_plain`), goes through `jsonschema`, which decides and
words the 400. tests/unit/test_twin_fastcheck.py holds the two to the same verdict on generated bodies.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from mist_twin.errors import bad_request
from mist_twin.plainjson import is_plain
from mist_twin.strict import close_defs, reachable_defs


@cache
def _document() -> dict[str, Any]:
    text = resources.files("mist_twin").joinpath("schemas.json").read_text()
    doc: dict[str, Any] = json.loads(text)
    return doc


@cache
def _closed_defs() -> dict[str, Any]:
    return close_defs(_document()["$defs"])


@cache
def _validator(operation_id: str, part: str) -> Draft202012Validator | None:
    """Requests are checked against closed schemas (unknown fields refused), answers against open ones."""
    doc = _document()
    schema = doc["operations"][operation_id][part]
    if schema is None:
        return None
    defs = _closed_defs() if part == "request" else doc["$defs"]
    return Draft202012Validator({**schema, "$defs": defs})


@cache
def fast_validator(operation_id: str) -> jsonschema_rs.Validator | None:
    """The operation's closed request schema compiled by jsonschema-rs (with the definitions it uses)."""
    schema = _document()["operations"][operation_id]["request"]
    if schema is None:
        return None
    defs = reachable_defs(schema, _closed_defs())
    return jsonschema_rs.Draft202012Validator({**schema, "$defs": defs}, validate_formats=False)


def operations() -> dict[str, Any]:
    """The served operations: operationId -> {method, path, request, response}."""
    ops: dict[str, Any] = _document()["operations"]
    return ops


def parse_json(raw: bytes) -> Any:
    """The JSON of a request body, or Mist's 400 for a parse error."""
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise bad_request(f"JSON parse error - {exc}") from None


def check_request(operation_id: str, body: Any) -> None:
    """Raise a 400 TwinError when `body` does not fit the operation's request schema."""
    validator = _validator(operation_id, "request")
    if validator is None:
        return
    fast = fast_validator(operation_id)
    if fast is not None and is_plain(body) and fast.is_valid(body):
        return
    error = best_match(validator.iter_errors(body))
    if error is not None:
        raise bad_request(describe(error))


def response_errors(operation_id: str, body: Any) -> list[str]:
    """What is wrong with an answer body per the spec (empty when it conforms); for self-checks."""
    validator = _validator(operation_id, "response")
    if validator is None:
        return []
    return [describe(error) for error in validator.iter_errors(body)]


def field_path(error: ValidationError) -> str:
    """A dotted path to the offending field: `applies.site_ids[0]` (empty at the top)."""
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe(error: ValidationError) -> str:
    """A detail that names the field and the rule, without quoting the value sent."""
    where = field_path(error)
    rule = error.validator
    if rule == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        name = f"{where}.{missing}" if where else missing
        return f"{name}: this field is required"
    prefix = f"{where}: " if where else "body: "
    if rule == "type":
        return f"{prefix}must be of type {_words(error.validator_value)}"
    if rule == "enum":
        return f"{prefix}must be one of {_words(error.validator_value)}"
    if rule == "additionalProperties" and error.validator_value is False:
        return unknown_fields(error)
    if rule in ("oneOf", "anyOf"):
        return _closest_shape(error) or f"{prefix}does not match any of the allowed shapes"
    return f"{prefix}fails the rule {rule}={json.dumps(error.validator_value)}"


def _closest_shape(error: ValidationError) -> str | None:
    """When the shape that fits best fails only for unknown fields, name them (a gateway profile's typo)."""
    by_branch: dict[Any, list[ValidationError]] = {}
    for sub in error.context or ():
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    if not by_branch:
        return None
    fewest = min(len(errors) for errors in by_branch.values())
    closest = [errors for errors in by_branch.values() if len(errors) == fewest]
    if len(closest) != 1 or any(e.validator != "additionalProperties" for e in closest[0]):
        return None
    return describe(closest[0][0])


def unknown_fields(error: ValidationError) -> str:
    """Mist's `invalid field: <name>` for the fields a closed schema does not list (names, not values)."""
    where = field_path(error)
    known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    instance = error.instance if isinstance(error.instance, dict) else {}
    names = sorted(str(name) for name in instance if name not in known)
    return "invalid field: " + ", ".join(f"{where}.{name}" if where else name for name in names)


def _words(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join("null" if v is None else str(v) for v in value)
    return str(value)
