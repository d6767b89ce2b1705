"""The in-memory call budget, the retry policy's arithmetic and the call meter."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from mistctl.mist import (
    CallMeter,
    CallRecord,
    InMemoryCallBudget,
    ManualClock,
    RetryPolicy,
    token_fingerprint,
)
from mistctl.mist.retry import parse_retry_after

HOUR = 3600.0


async def test_windows_align_to_the_top_of_the_hour():
    clock = ManualClock(HOUR * 1000 + 1234)
    budget = InMemoryCallBudget(clock)
    state = await budget.state("k")
    assert state.reset_in == HOUR - 1234
    assert (state.limit, state.used, state.reserve) == (5000, 0, 50)
    assert state.remaining == 4950


async def test_reserve_counts_until_the_limit_then_says_how_long_to_wait():
    clock = ManualClock(HOUR * 10 + 3590)
    budget = InMemoryCallBudget(clock, limit=3, headroom=0)
    assert [await budget.reserve("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await budget.reserve("k") == pytest.approx(10)
    assert (await budget.state("k")).used == 3
    clock.advance(10)
    assert await budget.reserve("k") == 0.0
    assert (await budget.state("k")).used == 1


async def test_tokens_have_separate_windows():
    budget = InMemoryCallBudget(ManualClock(0.5), limit=1, headroom=0)
    assert await budget.reserve("a") == 0.0
    assert await budget.reserve("b") == 0.0
    assert await budget.reserve("a") > 0


async def test_a_window_skipped_entirely_keeps_the_grid():
    clock = ManualClock(HOUR * 5 + 100)
    budget = InMemoryCallBudget(clock, limit=2, headroom=0)
    await budget.reserve("k")
    clock.advance(HOUR * 3)
    state = await budget.state("k")
    assert state.used == 0
    assert state.reset_in == pytest.approx(HOUR - 100)


async def test_sync_adopts_mists_count_and_reset_time():
    clock = ManualClock(HOUR * 7 + 10)
    budget = InMemoryCallBudget(clock, headroom=0)
    await budget.sync("k", used=4990, limit=5000, reset_in=120)
    state = await budget.state("k")
    assert (state.used, state.remaining, state.reset_in) == (4990, 10, 120)
    clock.advance(121)
    state = await budget.state("k")
    assert state.used == 0 and state.reset_in == pytest.approx(HOUR - 1)


async def test_exhaust_without_retry_after_waits_for_the_window():
    clock = ManualClock(HOUR * 2 + 600)
    budget = InMemoryCallBudget(clock)
    assert await budget.exhaust("k") == HOUR - 600
    assert await budget.reserve("k") == pytest.approx(HOUR - 600)


async def test_exhaust_with_retry_after_moves_the_reset():
    clock = ManualClock(HOUR * 2 + 600)
    budget = InMemoryCallBudget(clock)
    assert await budget.exhaust("k", retry_after=42) == 42
    clock.advance(42)
    assert await budget.reserve("k") == 0.0


def test_headroom_is_a_share_of_the_limit_with_at_least_one_call():
    budget = InMemoryCallBudget(ManualClock(), limit=20, headroom=0.01)
    assert budget._reserve_of(20) == 1
    assert budget._reserve_of(1) == 0


@pytest.mark.parametrize("kw", [{"limit": 0}, {"window": 0}, {"headroom": 1.0}])
def test_a_nonsense_budget_is_refused(kw):
    with pytest.raises(ValueError):
        InMemoryCallBudget(ManualClock(), **kw)


def test_fingerprint_is_twelve_hex_digits_and_not_the_token():
    fp = token_fingerprint("very-secret-token")
    assert len(fp) == 12 and int(fp, 16) >= 0
    assert fp not in "very-secret-token"
    assert token_fingerprint("very-secret-token") == fp != token_fingerprint("other")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7.0), (" 2.5 ", 2.5), ("-3", 0.0), (None, None), ("", None), ("soon", None)],
)
def test_retry_after_in_seconds(value, expected):
    assert parse_retry_after(value, 0.0) == expected


def test_retry_after_as_an_http_date():
    assert parse_retry_after(formatdate(1_000_060, usegmt=True), 1_000_000) == pytest.approx(60)


def test_backoff_doubles_within_its_cap_with_jitter():
    policy = RetryPolicy(backoff_base=1, backoff_cap=5)
    rng = random.Random(0)
    for failures, full in [(1, 1), (2, 2), (3, 4), (4, 5), (9, 5)]:
        for _ in range(20):
            assert full / 2 <= policy.backoff(failures, rng) <= full


def test_after_reset_lands_after_the_reset_and_is_capped():
    policy = RetryPolicy(rate_jitter=2, max_rate_wait=100)
    rng = random.Random(0)
    waits = [policy.after_reset(10, rng) for _ in range(50)]
    assert all(10 <= w <= 12 for w in waits) and len(set(waits)) > 1
    assert policy.after_reset(500, rng) <= 102


def _rec(method: str, status: int | None, outcome: str) -> CallRecord:
    return CallRecord(method, "/api/v1/self", "/api/v1/self", status, outcome, 0.01, 1, "abc")


def test_the_meter_counts_and_forwards_records():
    seen: list[CallRecord] = []
    meter = CallMeter(seen.append)
    meter.record(_rec("GET", 200, "ok"))
    before = meter.snapshot()
    meter.record(_rec("GET", 429, "rate_limited"))
    meter.record(_rec("POST", None, "transport_error"))
    after = meter.snapshot()
    assert after.total == 3 and len(seen) == 3
    assert dict(after.by_method) == {"GET": 2, "POST": 1}
    delta = after - before
    assert delta.total == 2
    assert dict(delta.by_outcome) == {"rate_limited": 1, "transport_error": 1}
    assert dict(delta.by_template) == {"GET /api/v1/self": 1, "POST /api/v1/self": 1}
    with pytest.raises(TypeError):
        before.by_method["GET"] = 5  # type: ignore[index]


async def test_a_synced_reset_within_a_second_of_the_grid_snaps_to_it():
    clock = ManualClock(HOUR * 7 + 10)
    budget = InMemoryCallBudget(clock, headroom=0)
    await budget.sync("k", used=1, limit=5000, reset_in=HOUR - 10 + 0.6)
    assert (await budget.state("k")).reset_in == pytest.approx(HOUR - 10)
