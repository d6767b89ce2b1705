"""Mist's time query parameters: `start`/`end` (epoch seconds, `now`, or relative `-1d`), `duration`
(`1d`, `2h`, `10m`, `1w`) and `interval`; a bad value is a 400 that names the parameter."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.datastructures import QueryParams

from mist_twin.errors import bad_request

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SPAN = re.compile(r"^(\d+)([smhdw])$")
DEFAULT_DURATION = 86400  # the spec's default `duration` is 1d


@dataclass(frozen=True)
class Window:
    """A time range in epoch seconds."""

    start: float
    end: float


def span_seconds(raw: str, name: str) -> int:
    """`7d` -> 604800; a bare number is seconds; 400 naming `name` otherwise."""
    text = raw.strip().lower()
    if text.isdigit():
        return int(text)
    found = _SPAN.match(text)
    if found is None:
        raise bad_request(f"{name}: expected a duration such as 10m, 2h, 1d or 1w")
    return int(found.group(1)) * _UNITS[found.group(2)]


def point(raw: str, name: str, now: float) -> float:
    """An epoch time from `1700000000`, `now` or `-1d` (relative to now)."""
    text = raw.strip().lower()
    if text == "now":
        return now
    if text.startswith("-"):
        return now - span_seconds(text[1:], name)
    try:
        return float(text)
    except ValueError:
        raise bad_request(f"{name}: expected epoch seconds, 'now' or a relative time such as -1d") from None


def window(query: QueryParams, now: float) -> Window:
    """The window a query asks for: `end` (default now), and `start` (default end - `duration`, 1d)."""
    end = point(query["end"], "end", now) if query.get("end") else now
    if query.get("start"):
        start = point(query["start"], "start", now)
    else:
        start = end - (
            span_seconds(query["duration"], "duration") if query.get("duration") else DEFAULT_DURATION
        )
    if start >= end:
        raise bad_request("start: must be before end")
    return Window(start, end)


def interval(query: QueryParams, default: int) -> int:
    """The `interval` query parameter in seconds (at least 1)."""
    raw = query.get("interval")
    return max(1, span_seconds(raw, "interval")) if raw else default
