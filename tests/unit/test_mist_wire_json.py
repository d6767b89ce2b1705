"""The client reads an answer's JSON with orjson, except where orjson would read it differently from the
standard library (what httpx's `Response.json` used): those answers are read exactly as before."""

from __future__ import annotations

import json

import pytest

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
