"""Times and durations in one human form across the CLI: `2026-12-02 08:45:12 UTC` and `23h59m`.

Durations keep their two largest units (`23h59m`, `5m30s`, `2d3h`, `45s`): what a person reads at a
glance, and a spelling `--soak`/`--grace` accept back. Times are UTC to the second, never microseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def human_duration(seconds: float | None) -> str:
    """`23h59m` for 86399 s; `-` for None; `0s` for nothing left."""
    if seconds is None:
        return "-"
    left = max(0, int(seconds))
    parts: list[str] = []
    for unit, size in _UNITS:
        if left >= size or parts:
            parts.append(f"{left // size}{unit}")
            left %= size
        if len(parts) == 2:
            break
    shown = [p for p in parts if not p.startswith("0")]
    return "".join(shown) or "0s"


def human_time(value: datetime | str | None) -> str:
    """`2026-12-02 08:45:12 UTC` for a datetime or an ISO string; `-` for None; other text as it is."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if value.tzinfo is not None else "")
