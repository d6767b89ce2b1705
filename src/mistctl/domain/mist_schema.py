"""Mist's own schemas for the fleet's org kinds, as compiled JSON Schema validators.

The schemas come from the packaged `mist_schemas.json` (extracted from the vendored spec by
`scripts/extract_fleet_schemas.py`), read and compiled once per process on first use. Two readings
of the spec are mistctl's own:

- An object schema that lists `properties` and says nothing of other keys is taken as closed: Mist
  silently drops a key it does not know, so `power_mni` under `band_5` is a typo to report, not a
  setting to send. (The spec marks no schema closed, so without this no nested typo would be caught.)
- A string holding a `{{variable}}` matches any schema: Mist renders site variables before it applies
  a value, so `vlan_id: "{{data_vlan}}"` stands for the integer the site's variable holds.

Only the `ipv4` and `ipv6` formats are checked: the `uuid` fields hold names in a fleet file.

An object is first checked by `quickschema` (no jsonschema import, no compiling): a valid object, nearly
every one, ends there; jsonschema is imported and the kind's validator compiled only to word errors.
"""

from __future__ import annotations

import json
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import islice
from typing import TYPE_CHECKING, Any

from mistctl.domain.quickschema import is_valid
from mistctl.domain.variables import is_variable

if TYPE_CHECKING:  # jsonschema is imported on first use: every mistctl command imports this module
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

#: Problems reported per object at most (a list of 10,000 wrong items is one mistake made often).
MAX_PER_OBJECT = 10


@dataclass(frozen=True)
class SchemaError:
    """One place an object breaks its Mist schema: the path to it and the jsonschema error."""

    path: tuple[str | int, ...]
    error: ValidationError


def _skip_variables(check: Any) -> Any:
    def keyword(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
        if isinstance(instance, str) and is_variable(instance):
            return iter(())
        return iter(check(validator, value, instance, schema) or ())

    return keyword


@cache
def _validator_class() -> Any:
    from jsonschema import Draft202012Validator, validators

    keywords = {name: _skip_variables(check) for name, check in Draft202012Validator.VALIDATORS.items()}
    return validators.extend(Draft202012Validator, keywords)  # type: ignore[no-untyped-call]


_DATA = frozenset({"enum", "const", "default", "required"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs"})


class _Prepared:
    """The kinds' schemas closed (see the module docstring) and with `$ref`s inlined.

    Inlining is what keeps validation fast: a `$ref` lookup costs more than the check it leads to.
    The spec's schemas have no reference loops; each definition is prepared once and shared.
    """

    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.done: dict[str, Any] = {}

    def definition(self, ref: str) -> Any:
        name = ref.rsplit("/", 1)[-1]
        if name not in self.done:
            self.done[name] = self.node(self.defs[name])
        return self.done[name]

    def node(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.node(item) for item in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"$ref"}:
            return self.definition(node["$ref"])
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {name: self.node(sub) for name, sub in value.items()}
            else:
                out[key] = value if key in _DATA else self.node(value)
        if "properties" in node and "additionalProperties" not in node and "patternProperties" not in node:
            out["additionalProperties"] = False
        return out


@cache
def _document() -> dict[str, Any]:
    # pkgutil reads it through the package's loader (a zip too), without importlib.resources (4 ms to import)
    data = pkgutil.get_data("mistctl.domain", "mist_schemas.json")
    if data is None:  # a loader that cannot read files: none that installs mistctl
        raise FileNotFoundError("mistctl.domain/mist_schemas.json")
    doc: dict[str, Any] = json.loads(data.decode("utf-8"))
    return doc


@cache
def _prepared() -> _Prepared:
    return _Prepared(_document()["$defs"])


@cache
def prepared_schema(kind_key: str) -> Any:
    """One org kind's schema (by fleet key), closed and with its `$ref`s inlined."""
    return _prepared().definition(_document()["kinds"][kind_key])


@cache
def validator(kind_key: str) -> Validator:
    """The compiled validator of one org kind (by fleet key), built once."""
    schema = prepared_schema(kind_key)
    # `$defs` stays for a `$ref` with sibling keywords (not inlined; the spec has none today).
    from jsonschema import FormatChecker

    formats = FormatChecker(formats=("ipv4", "ipv6"))
    compiled: Validator = _validator_class()({**schema, "$defs": _document()["$defs"]}, format_checker=formats)
    return compiled


def schema_errors(kind_key: str, obj: dict[str, Any]) -> list[SchemaError]:
    """Where `obj` breaks its kind's Mist schema, at every depth (at most `MAX_PER_OBJECT`)."""
    if is_valid(prepared_schema(kind_key), obj):  # sure: no error to word (quickschema.py)
        return []
    found = islice(validator(kind_key).iter_errors(obj), MAX_PER_OBJECT)
    return [SchemaError(tuple(error.absolute_path), error) for error in found]

