"""Times and durations in one human form across the CLI: `2026-12-02 08:45:12 UTC` and `23h59m`.

Durations keep their two largest units (`23h59m`, `5m30s`, `2d3h`, `45s`): what a person reads at a
glance, and a spelling `--soak`/`--grace` accept back. Times are UTC to the second, never microseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mistctl.domain.durations import human_duration

__all__ = ["human_duration", "human_time"]

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
