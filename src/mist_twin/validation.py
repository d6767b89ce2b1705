"""Request bodies checked against the Mist spec's schemas (extracted into schemas.json).

The validators are compiled once per process, on first use. A 400's detail names the field and the
rule it breaks, never the value sent (a wrong-typed passphrase must not be echoed back).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from mist_twin.errors import bad_request


@cache
def _document() -> dict[str, Any]:
    text = resources.files("mist_twin").joinpath("schemas.json").read_text()
    doc: dict[str, Any] = json.loads(text)
    return doc


@cache
def _validator(operation_id: str, part: str) -> Draft202012Validator | None:
    doc = _document()
    schema = doc["operations"][operation_id][part]
    if schema is None:
        return None
    return Draft202012Validator({**schema, "$defs": doc["$defs"]})


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
    if rule == "additionalProperties":
        return f"{prefix}{error.message}"  # the message quotes field names only, not values
    if rule in ("oneOf", "anyOf"):
        return f"{prefix}does not match any of the allowed shapes"
    return f"{prefix}fails the rule {rule}={json.dumps(error.validator_value)}"


def _words(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join("null" if v is None else str(v) for v in value)
    return str(value)
