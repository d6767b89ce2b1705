"""Durations as operators write them (`30s`, `5m`, `1h`, `1h30m`, `2d`), parsed in one place.

Every Day 2 option that takes a time (`--soak`, `--grace`, the rollout's completion budget) goes
through `parse_duration`, so the CLI, the HTTP service and the workflows agree on the spelling.
"""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[smhd])+")
MAX_SECONDS = 30 * 86400  # a month: anything longer is a typo, not a soak or a grace period


def parse_duration(text: str | float | int, *, what: str = "duration") -> float:
    """Seconds in `text` (`90`, `30s`, `5m`, `1h30m`, `2d`); `ValueError` naming `what` otherwise."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        raw = str(text).strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", raw):
            seconds = float(raw)
        elif _WHOLE.fullmatch(raw):
            seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(raw))
        else:
            raise ValueError(f"{what} {text!r} is not a duration: write it like 30s, 5m, 1h or 1h30m")
    if seconds < 0 or seconds > MAX_SECONDS:
        raise ValueError(f"{what} {text!r} is out of range: between 0s and {MAX_SECONDS // 86400}d")
    return seconds


def format_duration(seconds: float) -> str:
    """`1h30m`, `5m`, `45s`: the short form `parse_duration` reads back."""
    s = int(round(seconds))
    if s == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            parts.append(f"{s // size}{unit}")
            s %= size
    return "".join(parts)


_HUMAN_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def human_duration(seconds: float | None) -> str:
    """The two largest units, as people read a time left or taken: `23h59m` for 86399 s, `5m30s`, `2d3h`;
    `-` for None, `0s` for nothing left. `parse_duration` reads it back (rounded down)."""
    if seconds is None:
        return "-"
    left = max(0, int(seconds))
    parts: list[str] = []
    for unit, size in _HUMAN_UNITS:
        if left >= size or parts:
            parts.append(f"{left // size}{unit}")
            left %= size
        if len(parts) == 2:
            break
    shown = [p for p in parts if not p.startswith("0")]
    return "".join(shown) or "0s"
