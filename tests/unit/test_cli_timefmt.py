"""Times and durations in one human form (cli/timefmt.py, domain/durations.human_duration)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mistctl.cli.render import format_eta
from mistctl.cli.timefmt import human_duration, human_time
from mistctl.domain.durations import parse_duration


@pytest.mark.parametrize(("seconds", "shown"), [
    (86399, "23h59m"), (86400, "1d"), (90061, "1d1h"), (3600, "1h"), (3661, "1h1m"), (330, "5m30s"),
    (60, "1m"), (45, "45s"), (0, "0s"), (0.4, "0s"), (None, "-"), (-5, "0s")])
def test_durations_keep_their_two_largest_units(seconds: float | None, shown: str) -> None:
    assert human_duration(seconds) == shown


@given(st.integers(min_value=0, max_value=30 * 86400))
def test_a_shown_duration_reads_back_within_its_last_unit(seconds: int) -> None:
    back = parse_duration(human_duration(seconds))
    assert back <= seconds and seconds - back < (3600 if seconds >= 86400 else 60 if seconds >= 3600 else 1)


def test_the_eta_uses_the_same_form() -> None:
    assert format_eta(3725.4) == "1h2m" and format_eta(185) == "3m5s"


def test_times_are_utc_to_the_second() -> None:
    at = datetime(2026, 12, 2, 9, 45, 12, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert human_time(at) == "2026-12-02 07:45:12 UTC"
    assert human_time(at.astimezone(UTC).isoformat()) == "2026-12-02 07:45:12 UTC"
    assert human_time(None) == "-" and human_time("not a time") == "not a time"
