"""`JSONResponse` rendered by orjson: the twin's answers are JSON, and the standard library's encoder took
a tenth of a call's CPU under bench_twin's load.

The bytes mean what Starlette's would: compact, UTF-8. What orjson renders differently falls back to
Starlette's encoder: a value it cannot encode (an integer past 64 bits, a non-text key) raises, and any
`null` in the output is rendered again by the standard library, which refuses NaN (orjson writes it as
null) exactly as before.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as _StarletteJSON


class JSONResponse(_StarletteJSON):
    """Starlette's JSONResponse, rendered by orjson when that gives the same document."""

    def render(self, content: Any) -> bytes:
        try:
            body = orjson.dumps(content)
        except (TypeError, orjson.JSONEncodeError):
            return super().render(content)
        return super().render(content) if b"null" in body else body
