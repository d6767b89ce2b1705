"""quickschema answers "valid" only when jsonschema finds no error, and "invalid" (when sure) only when
jsonschema finds one: checked on the example's org objects and thousands of seeded mutations of them,
every kind, at every depth, with values of every JSON type, variables, addresses and duplicates."""

from __future__ import annotations

import copy
import functools
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from mistctl.domain import mist_schema
from mistctl.domain.mist_fields import FIELDS
from mistctl.domain.quickschema import Unsure, _valid, is_valid
from mistctl.domain.refs import OWN_KEYS

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml"
POOL: list[Any] = [None, True, False, 0, 1, 1.0, 2.5, -5, 4094, 5000, 99999, float("nan"), "", "x", "24", "5",
                   "psk", "{{data_vlan}}", "10.0.0.1", "10.0.0.0/24", "::1", "fe80::1%eth0", "999.1.1.1",
                   [], ["a"], ["a", "a"], [1, 1.0], [1, True], [{"a": 1}, {"a": 1}], [{"a": 1}, {"a": 2}],
                   {}, {"zz": 1}, {"type": "psk"}]


@functools.cache
def _objects() -> list[tuple[str, dict[str, Any]]]:  # the objects are copied before a mutation
    org = yaml.load(EXAMPLE.read_text(), Loader=yaml.CSafeLoader)["org"]
    out = []
    for kind, objs in org.items():
        allowed = FIELDS[kind] - OWN_KEYS.get(kind, frozenset())
        out += [(kind, {k: v for k, v in obj.items() if k in allowed}) for obj in objs]
    return out


def _containers(value: Any) -> list[Any]:
    found = [value] if isinstance(value, dict | list) else []
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for child in children:
        found += _containers(child)
    return found


def _known_keys(schema: Any) -> list[str]:
    return sorted(schema.get("properties", {})) if isinstance(schema, dict) else []


def _mutate(rng: random.Random, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    for _ in range(rng.randint(1, 3)):
        target = rng.choice(_containers(obj))
        value = copy.deepcopy(rng.choice(POOL))
        if isinstance(target, list):
            if target:
                target[rng.randrange(len(target))] = value
            else:
                target.append(value)
        elif target is obj and rng.random() < 0.6:  # a top-level field Mist's schema knows, any value
            target[rng.choice(_known_keys(mist_schema.prepared_schema(kind)))] = value
        elif target and rng.random() < 0.5:
            target[rng.choice(sorted(target))] = value
        else:
            target[rng.choice(["zz", "name", "type", "enabled"])] = value
    return obj


def _jsonschema_errors(kind: str, obj: dict[str, Any]) -> list[Any]:
    return list(mist_schema.validator(kind).iter_errors(obj))


def test_the_example_objects_are_valid_without_jsonschema() -> None:
    for kind, obj in _objects():
        assert _valid(mist_schema.prepared_schema(kind), obj) is True, (kind, obj)
        assert _jsonschema_errors(kind, obj) == []


@pytest.mark.parametrize("seed", range(6))
def test_quick_answers_agree_with_jsonschema_on_mutated_objects(seed: int) -> None:
    rng = random.Random(seed)
    answers = {"valid": 0, "invalid": 0, "unsure": 0}
    for _ in range(400):
        kind, base = rng.choice(_objects())
        obj = _mutate(rng, kind, base)
        errors = _jsonschema_errors(kind, obj)
        try:
            quick = _valid(mist_schema.prepared_schema(kind), obj)
        except Unsure:
            answers["unsure"] += 1
            assert is_valid(mist_schema.prepared_schema(kind), obj) is False  # jsonschema decides
            continue
        answers["valid" if quick else "invalid"] += 1
        assert quick == (not errors), (kind, obj, [e.message for e in errors])
    assert answers["valid"] > 20 and answers["invalid"] > 100  # both answers were really exercised


def test_a_variable_passes_every_keyword_but_a_false_schema_refuses_everything() -> None:
    assert is_valid({"type": "integer", "minimum": 1, "enum": [1, 2]}, "{{vlan}}")
    assert not is_valid(False, "{{vlan}}")
    assert not is_valid({"type": "integer"}, "vlan")


def test_types_enums_and_uniqueness_follow_jsonschema_not_python() -> None:
    assert not is_valid({"type": "integer"}, True) and is_valid({"type": "integer"}, 3.0)
    assert not is_valid({"enum": [1]}, True) and is_valid({"enum": [1]}, 1.0) and not is_valid({"enum": ["1"]}, 1)
    assert not is_valid({"uniqueItems": True}, [1, 1.0]) and is_valid({"uniqueItems": True}, [1, True])
    assert not is_valid({"uniqueItems": True}, [{"a": [1]}, {"a": [1.0]}])
    assert is_valid({"format": "ipv4"}, 12) and not is_valid({"format": "ipv6"}, "fe80::1%eth0")


def test_a_keyword_it_does_not_know_is_left_to_jsonschema() -> None:
    with pytest.raises(Unsure):
        _valid({"pattern": "^a"}, "a")
    assert not is_valid({"pattern": "^a"}, "a")
