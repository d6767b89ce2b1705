"""The twin's orjson-rendered answers are the documents Starlette's encoder would write (mist_twin/jsonresp.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.responses import JSONResponse as StarletteJSON

from mist_twin.jsonresp import JSONResponse
from mist_twin.plainjson import is_plain

SAMPLES: list[Any] = [
    {"name": "café-ünïcode ☕", "vlan_id": 10, "ratio": 2.5, "on": True, "tags": ["a", "b"], "nested": {"x": []}},
    [{"id": "1", "site_ids": []}, {"id": "2", "site_ids": ["s"]}],
    {"gone": None, "text": "null"},  # a null token: searched for NaN, then orjson's bytes
    {"note": "nullable, null, [null] :null"},  # the word in a text: not a null token
    [None, 1.5, {"x": [None, (2.5, None)]}],
    None,
    {1: "a non-text key"},  # orjson refuses it: the standard library's "1"
    {"big": 2**70},  # past 64 bits: the standard library
]


@pytest.mark.parametrize("content", SAMPLES)
def test_the_bytes_parse_to_what_starlette_writes(content: Any) -> None:
    ours, theirs = JSONResponse(content).body, StarletteJSON(content).body
    assert json.loads(ours) == json.loads(theirs)
    assert ours == theirs  # compact, UTF-8, keys in order: the same bytes for these documents


@pytest.mark.parametrize(
    "content",
    [
        {"x": float("nan")},
        {"x": [1, {"y": float("inf")}]},
        [{"ok": None}, {"deep": [[float("-inf")]]}],
        {"t": (1.0, float("nan"))},
        float("nan"),
    ],
)
def test_nan_and_infinities_are_still_refused_as_before(content: Any) -> None:
    with pytest.raises(ValueError):
        StarletteJSON(content)
    with pytest.raises(ValueError):
        JSONResponse(content)  # orjson alone would have written null


def test_a_float_subclass_beside_a_null_is_left_to_the_standard_library() -> None:
    class Ratio(float):
        pass

    content = {"gone": None, "r": Ratio("nan")}
    assert not is_plain(content)
    with pytest.raises(ValueError):
        JSONResponse(content)


def test_finite_only_searches_every_container() -> None:
    assert is_plain({"a": [1, 2.5, None, "nan", {"b": (True, -0.0)}]})
    assert not is_plain({"a": [1, {"b": (True, float("inf"))}]})
    assert not is_plain([{"big": 2**63}]) and is_plain([{"big": 2**63 - 1, "small": -(2**63)}])
    assert not is_plain({1: "a non-text key"}) and not is_plain({"x": {"y": b"bytes"}})


def test_headers_and_status_are_starlettes() -> None:
    answer = JSONResponse({"detail": "x"}, status_code=404, headers={"X-Page-Total": "3"})
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/json"
    assert answer.headers["x-page-total"] == "3" and answer.headers["content-length"] == str(len(answer.body))
