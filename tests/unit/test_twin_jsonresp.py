"""The twin's orjson-rendered answers are the documents Starlette's encoder would write (mist_twin/jsonresp.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.responses import JSONResponse as StarletteJSON

from mist_twin.jsonresp import JSONResponse

SAMPLES: list[Any] = [
    {"name": "café-ünïcode ☕", "vlan_id": 10, "ratio": 2.5, "on": True, "tags": ["a", "b"], "nested": {"x": []}},
    [{"id": "1", "site_ids": []}, {"id": "2", "site_ids": ["s"]}],
    {"gone": None, "text": "null"},  # null: rendered by the standard library again
    {1: "a non-text key"},  # orjson refuses it: the standard library's "1"
    {"big": 2**70},  # past 64 bits: the standard library
]


@pytest.mark.parametrize("content", SAMPLES)
def test_the_bytes_parse_to_what_starlette_writes(content: Any) -> None:
    ours, theirs = JSONResponse(content).body, StarletteJSON(content).body
    assert json.loads(ours) == json.loads(theirs)
    assert ours == theirs  # compact, UTF-8, keys in order: the same bytes for these documents


def test_nan_is_still_refused_as_before() -> None:
    with pytest.raises(ValueError):
        StarletteJSON({"x": float("nan")})
    with pytest.raises(ValueError):
        JSONResponse({"x": float("nan")})  # orjson alone would have written null


def test_headers_and_status_are_starlettes() -> None:
    answer = JSONResponse({"detail": "x"}, status_code=404, headers={"X-Page-Total": "3"})
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/json"
    assert answer.headers["x-page-total"] == "3" and answer.headers["content-length"] == str(len(answer.body))
