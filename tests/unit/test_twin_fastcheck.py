"""jsonschema-rs and jsonschema give the same verdict on the twin's request bodies (mist_twin/validation.py).

The twin accepts a body jsonschema-rs finds valid without asking jsonschema, so the two must agree:
bodies are generated from every request schema (seeded: mostly valid, with wrong types, values out of
range, unknown fields, duplicates and missing required fields mixed in) and both verdicts compared.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

import pytest

from mist_twin import validation as V
from mist_twin.errors import TwinError
from mist_twin.plainjson import is_plain

WILD: list[Any] = [None, True, False, 0, 1, -1, 1.0, 2.5, 2**40, -(2**40), "", "x", [], {}, ["x"], {"x": 1}, 65536]
BODIES_PER_OPERATION = 150


class Bodies:
    """Random bodies for a schema (closed `$defs`), a little wrong now and then."""

    def __init__(self, defs: dict[str, Any], seed: int, wrong: float = 0.04) -> None:
        self.defs, self.rng, self.wrong = defs, random.Random(seed), wrong

    def make(self, node: Any, depth: int = 0) -> Any:
        rng = self.rng
        if not isinstance(node, dict) or rng.random() < self.wrong:
            return rng.choice(WILD)
        ref = node.get("$ref")
        if isinstance(ref, str):
            return self.make(self.defs[ref.removeprefix("#/$defs/")], depth)
        for key in ("anyOf", "oneOf", "allOf"):
            if key in node:
                return self.make(rng.choice(node[key]), depth)
        if "enum" in node:
            return rng.choice(node["enum"])
        if "const" in node:
            return node["const"]
        kinds = node.get("type") or ("object" if "properties" in node else None)
        if kinds is None:
            return rng.choice(WILD)
        kind = rng.choice(kinds) if isinstance(kinds, list) else kinds
        return getattr(self, f"_{kind}")(node, depth)

    def _object(self, node: dict[str, Any], depth: int) -> dict[str, Any]:
        rng, body = self.rng, {}
        required = set(node.get("required", ()))
        properties = node.get("properties", {})
        optional = min(0.5, 3 / (1 + len(properties))) if depth == 0 else 0.1  # about 3 fields at the top
        for name, sub in properties.items():
            chance = 0.95 if name in required else optional
            if rng.random() < chance:
                body[name] = self.make(sub, depth + 1)
        extra = node.get("additionalProperties")
        if rng.random() < 0.05 or (isinstance(extra, dict) and rng.random() < 0.5):
            body[f"extra_{rng.randrange(3)}"] = self.make(extra, depth + 1) if isinstance(extra, dict) else 1
        return body

    def _array(self, node: dict[str, Any], depth: int) -> list[Any]:
        rng = self.rng
        items = [self.make(node.get("items"), depth + 1) for _ in range(rng.randrange(3 if depth < 3 else 1))]
        if items and rng.random() < 0.2:
            items.append(items[0])  # a duplicate, for uniqueItems
        return items

    def _string(self, node: dict[str, Any], depth: int) -> str:
        del depth
        return self.rng.choice(["", "a", "abc", "10.0.0.1", "2001:db8::1", "x" * 70, str(node.get("minLength", ""))])

    def _integer(self, node: dict[str, Any], depth: int) -> int | float:
        del depth
        low, high = node.get("minimum", -5), node.get("maximum", 5000)
        return self.rng.choice([low, high, low - 1, high + 1, 0, 1, 7, 1.0, 2**31, float(high)])

    def _number(self, node: dict[str, Any], depth: int) -> int | float:
        return self.rng.choice([self._integer(node, depth), 0.5, -2.25, 1e300])

    def _boolean(self, node: dict[str, Any], depth: int) -> bool:
        del node, depth
        return self.rng.random() < 0.5

    def _null(self, node: dict[str, Any], depth: int) -> None:
        del node, depth


def request_operations() -> list[str]:
    return sorted(op for op, spec in V.operations().items() if spec["request"] is not None)


@pytest.mark.parametrize("operation", request_operations())
def test_both_validators_agree_on_generated_bodies(operation: str) -> None:
    slow, fast = V._validator(operation, "request"), V.fast_validator(operation)
    assert slow is not None and fast is not None
    schema = V.operations()[operation]["request"]
    bodies = Bodies(V._closed_defs(), seed=zlib.crc32(operation.encode()))
    verdicts = []
    for _ in range(BODIES_PER_OPERATION):
        body = bodies.make(schema)
        assert is_plain(body)
        verdict = slow.is_valid(body)
        assert fast.is_valid(body) == verdict, body
        verdicts.append(verdict)
    assert any(verdicts) and not all(verdicts), "the generator made bodies of one kind only"


def test_the_generated_bodies_are_both_valid_and_invalid() -> None:
    valid = invalid = 0
    for operation in request_operations():
        slow = V._validator(operation, "request")
        assert slow is not None
        bodies = Bodies(V._closed_defs(), seed=7)
        for _ in range(40):
            if slow.is_valid(bodies.make(V.operations()[operation]["request"])):
                valid += 1
            else:
                invalid += 1
    assert valid > 200 and invalid > 200, (valid, invalid)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "g", "nme": "typo"},  # an unknown field: jsonschema words Mist's 400
        {"name": 5},
        {"name": float("nan")},  # not plain: jsonschema alone decides
        {"name": "g", "id": 2**80},
    ],
)
def test_a_refused_body_keeps_jsonschemas_wording(body: dict[str, Any]) -> None:
    slow = V._validator("createOrgSiteGroup", "request")
    assert slow is not None
    with pytest.raises(TwinError) as refused:
        V.check_request("createOrgSiteGroup", body)
    assert refused.value.status == 400
    assert refused.value.body == {"detail": V.describe(V.best_match(slow.iter_errors(body)))}  # type: ignore[arg-type]
