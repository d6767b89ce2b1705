"""examples/fleet.yaml is valid, realistic, and its org objects are valid Mist bodies per the spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mistctl.domain.fleet import Fleet
from mistctl.domain.ipplan import site_variables
from mistctl.domain.kinds import ORG_KINDS
from mistctl.domain.mist_fields import SCHEMAS
from mistctl.domain.refs import OWN_KEYS
from mistctl.domain.variables import substitute
from mistctl.fleetio import load_fleet

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml"


@pytest.fixture(scope="module")
def example() -> Fleet:
    return load_fleet(EXAMPLE)


@pytest.fixture(scope="module")
def validator_for(mist_spec):
    registry = Registry().with_resource("urn:mist", Resource(contents=mist_spec, specification=DRAFT202012))

    def make(schema: str) -> jsonschema.Draft202012Validator:
        ref = {"$ref": f"urn:mist#/components/schemas/{schema}"}
        return jsonschema.Draft202012Validator(ref, registry=registry)

    return make


def _errors(validator: jsonschema.Draft202012Validator, body: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def test_the_example_is_a_realistic_fleet(example):
    assert [z.name for z in example.zones] == ["us-east", "us-central", "us-west"]
    assert len(example.sites) == 20
    assert all(example.org.objects(kind.key) for kind in ORG_KINDS)
    from_csv = example.site("Store-DEN-006")
    assert from_csv is not None and from_csv.vars == {"store_code": "DEN006"}
    assert from_csv.gateway_template == "store-spoke" and from_csv.timezone == "America/Denver"
    assert {w["ssid"] for w in example.org.wlans} == {"Store-Corp", "Store-Guest", "Store-IoT"}


def test_the_example_sites_have_their_planned_variables(example):
    seattle = example.site("Store-SEA-001")
    assert seattle is not None
    variables = site_variables(example, seattle)
    assert variables["data_subnet"] == "10.64.1.0/24" and variables["voice_vlan"] == "31"


def test_every_example_object_is_a_valid_mist_body(example, validator_for):
    first_site_vars = site_variables(example, example.sites[0])
    for kind in ORG_KINDS:
        validator = validator_for(SCHEMAS[kind.key])
        for obj in example.org.objects(kind.key):
            body = {k: v for k, v in obj.items() if k not in OWN_KEYS.get(kind.key, ())}
            assert _errors(validator, body) == [], (kind.key, obj.get("name") or obj.get("ssid"))
            assert _errors(validator, substitute(body, first_site_vars)) == []


def test_the_schema_check_catches_a_bad_body(validator_for):
    errors = _errors(validator_for("wlan"), {"ssid": "x", "auth": {"type": "wpa9"}})
    assert errors and "auth" in errors[0]
