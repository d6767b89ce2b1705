"""The client reads an answer's JSON with orjson, except where orjson would read it differently from the
standard library (what httpx's `Response.json` used): those answers are read exactly as before. It writes a
request's body with orjson where its bytes are httpx's (`json_body`), with the standard library elsewhere."""

from __future__ import annotations

import enum
import json
import random
from typing import Any

import pytest

from mistctl.domain.jsonbytes import json_body
from mistctl.mist.reply import Reply
from mistctl.mist.wire import json_or_none


def reply(content: bytes) -> Reply:
    return Reply(200, {"content-type": "application/json"}, content)


@pytest.mark.parametrize("content", [
    b'{"id": "9777c1a0", "modified_time": 1700000000, "ratio": 0.5, "tags": ["a", null, true]}',
    b'{"big": 123456789012345678901234567890}',  # orjson alone: 1.2345678901234568e+29, a float
    b'{"low": -9300000000000000000}',  # below -2**63
    b'{"serial": "12345678901234567890123"}',  # a long digit run inside a string: still read the same
    b'[NaN, Infinity, -Infinity]',
    b'{"a": 1e400}',
    b'\xef\xbb\xbf{"bom": 1}',
])
def test_answers_read_as_the_standard_library_reads_them(content: bytes) -> None:
    got = json_or_none(reply(content))
    want = json.loads(content)
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
    assert [type(v) for v in _leaves(got)] == [type(v) for v in _leaves(want)]


def test_big_integer_stays_exact() -> None:
    assert json_or_none(reply(b'{"n": 123456789012345678901234567890}')) == {"n": 123456789012345678901234567890}


@pytest.mark.parametrize("content", [b"", b"   ", b"<html>bad gateway</html>", b'{"a": '])
def test_empty_or_not_json_is_none(content: bytes) -> None:
    assert json_or_none(reply(content)) is None


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for k in sorted(value) for leaf in _leaves(value[k])]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def httpx_bytes(body: Any) -> bytes:
    """What httpx sends for `json=body` (its own settings)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


@pytest.mark.parametrize("body", [
    {"name": "Site-1", "vars": {"lan": "10.0.0.0/24", "note": "caf\u00e9 \u2028 \U0001f600 \" \\ \n\t\x00\x1f\x7f"}},
    {"op": "assign", "macs": ["5c5b350e0001"], "no_reassign": False, "managed": True, "n": -9223372036854775808},
    {"latlng": {"lat": 37.37, "lng": -122.03}, "tiny": 1e-05, "huge": 1e16, "zero": -0.0},  # floats: json writes
    {"cleared": None, "text": "nullable"},
    {"big": 2**64, "neg": -(2**64)},  # past 64 bits: orjson refuses, json writes
    {1: "an int key", "x": (1, 2)},
    {"colour": Colour.RED, "level": Level.HIGH},  # str / int subclasses: json writes their values
    ["a", 1, True, {"b": []}],
    "10:1e5",  # a string that looks like a float's spelling
])
def test_bodies_are_the_bytes_httpx_sends(body: Any) -> None:
    assert json_body(body) == httpx_bytes(body)


def test_random_bodies_are_the_bytes_httpx_sends() -> None:
    rng = random.Random(16)

    def value(depth: int) -> Any:
        pick = rng.random()
        if depth > 3 or pick < 0.5:
            return rng.choice(["", "x", "\u00e9\u4e2d", "\x01", "1e5", rng.randint(-(2**63), 2**63 - 1),
                               rng.uniform(-1e20, 1e20), 1e-7, True, False, None])
        if pick < 0.8:
            keys = ["a", "b", "name", "vars", "\u00fc"]
            return {rng.choice(keys): value(depth + 1) for _ in range(rng.randint(0, 4))}
        return [value(depth + 1) for _ in range(rng.randint(0, 4))]

    for _ in range(3000):
        body = value(0)
        assert json_body(body) == httpx_bytes(body)


@pytest.mark.parametrize("body", [{"lat": float("nan")}, [float("inf")], {"when": object()}])
def test_what_json_refuses_is_refused_as_before(body: Any) -> None:
    with pytest.raises((ValueError, TypeError)) as got:
        json_body(body)
    with pytest.raises(got.type):
        httpx_bytes(body)
