"""`JSONResponse` rendered by orjson: the twin's answers are JSON, and the standard library's encoder took
a tenth of a call's CPU under bench_twin's load.

The bytes mean what Starlette's would: compact, UTF-8. What orjson renders differently falls back to
Starlette's encoder: a value it cannot encode (an integer past 64 bits, a non-text key) raises, and a
float that is NaN or infinite, which orjson writes as `null` where the standard library refuses it (a
500, as before). Only an answer with a `null` token can hide one, so only those are searched
(`plainjson.is_plain`); a `null` inside a text ("nullable") is not a token and costs nothing.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as _StarletteJSON

from mist_twin.plainjson import is_plain


def _has_null_token(body: bytes) -> bool:
    """A `null` token in compact JSON follows `:`, `,` or `[` (or is the whole document); a text may hold
    those too, which only costs a search of the content."""
    if b"null" not in body:
        return False
    return body == b"null" or b":null" in body or b",null" in body or b"[null" in body


class JSONResponse(_StarletteJSON):
    """Starlette's JSONResponse, rendered by orjson when that gives the same document."""

    def render(self, content: Any) -> bytes:
        try:
            body = orjson.dumps(content)
        except (TypeError, orjson.JSONEncodeError):
            return super().render(content)
        if _has_null_token(body) and not is_plain(content):
            return super().render(content)
        return body
