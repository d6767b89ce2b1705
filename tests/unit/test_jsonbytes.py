"""`compact_json` writes with orjson only where its bytes are the standard library's: a canonical hash
(sorted keys, ASCII, `default=str`) stays the hash every recorded step and saved plan was made with."""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import random
from typing import Any

import pytest

from mistctl.domain.desired import canonical_hash
from mistctl.domain.jsonbytes import compact_json


def hash_as_before(value: Any) -> str:
    raw = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


@pytest.mark.parametrize("value", [
    {"b": 1, "a": ["x", True, None], "c": {"z": "10.0.0.0/24", "y": -3}},
    {"name": "caf\u00e9", "emoji": "\U0001f600", "del": "\x7f", "ctl": "\x01\n\"\\"},  # json escapes, orjson not
    {"lat": 37.37, "tiny": 1e-07, "nan": float("nan")},  # floats: json's spelling
    {"when": datetime.date(2026, 12, 2), "amount": decimal.Decimal("1.5"), "set": {1}},  # default=str
    {"big": 2**70},
    {3: "an int key"},
    "plain text",
])
def test_hashes_are_the_ones_made_before(value: Any) -> None:
    assert canonical_hash(value) == hash_as_before(value)


def test_random_values_hash_as_before_and_bodies_spell_as_before() -> None:
    rng = random.Random(2)
    texts = ["", "a", "Z_0", "\u00e9", "\u4e2d", "\x7f", "\x1f", '"', "\\", "1e5", ":1.5"]

    def value(depth: int) -> Any:
        pick = rng.random()
        if depth > 3 or pick < 0.5:
            return rng.choice([rng.choice(texts), rng.randint(-(2**65), 2**65), rng.randint(-9, 9),
                               rng.uniform(-1e20, 1e20), True, False, None])
        if pick < 0.8:
            return {rng.choice(texts): value(depth + 1) for _ in range(rng.randint(0, 4))}
        return [value(depth + 1) for _ in range(rng.randint(0, 4))]

    for _ in range(3000):
        item = value(0)
        assert canonical_hash(item) == hash_as_before(item)
        assert compact_json(item) == json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()
