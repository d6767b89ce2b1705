"""Prometheus metrics of one service instance, in a registry of its own (two apps never share counters).

Mist calls by outcome and the 429s come from the Mist client's call hook; the budget left per token and
the runs by status are read when `/metrics` is scraped; step durations come from the workflow's events.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from mistctl.domain.kinds import STEP_NAMES
from mistctl.mist.budget import CallBudget
from mistctl.mist.meter import OK, CallRecord
from mistctl.store.models import RUN_STATUSES
from mistctl.store.port import StateStore
from mistctl.workflow.ports import Progress

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RUNS_COUNTED = 1000  # the runs gauge counts the newest runs only: a scrape must stay cheap
_STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


class ApiMetrics:
    """The service's metrics and the hooks that feed them."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self.registry = CollectorRegistry()
        r = self.registry
        self.mist_calls = Counter("mistctl_mist_calls", "Mist API calls by outcome", ["outcome"], registry=r)
        self.rate_limited = Counter("mistctl_mist_rate_limited", "Mist answers 429 (rate limit)", registry=r)
        self.budget_left = Gauge("mistctl_mist_budget_remaining",
                                 "Calls left in the rate window of the service's own tokens, by position in "
                                 "MIST_APITOKEN (callers' tokens are never labels)", ["token"], registry=r)
        self.step_seconds = Histogram("mistctl_step_duration_seconds",
                                      "Time per workflow step (org kinds) and per site", ["step"],
                                      buckets=_STEP_BUCKETS, registry=r)
        self.runs = Gauge("mistctl_runs", f"Runs by status (the newest {RUNS_COUNTED})", ["status"],
                          registry=r)
        self.http_requests = Counter("mistctl_http_requests", "HTTP requests served",
                                     ["method", "route", "status"], registry=r)
        self.http_seconds = Histogram("mistctl_http_request_duration_seconds", "HTTP request duration",
                                      ["method", "route"], registry=r)
        self.last_ok_call = float("-inf")  # monotonic time of the last Mist call answered 2xx

    def on_call(self, call: CallRecord) -> None:
        """Hook for every Mist client: count the call by outcome."""
        self.mist_calls.labels(call.outcome).inc()
        if call.status == 429:
            self.rate_limited.inc()
        if call.outcome == OK:
            self.last_ok_call = self.monotonic()

    def step_timer(self) -> Progress:
        """A progress sink for one run: times each org step and each site from the workflow's events."""
        started = self.monotonic()
        marks = {"last": started}

        def on_event(event: dict[str, Any]) -> None:
            now = self.monotonic()
            if event.get("type") == "step":  # kinds of one round are told together: each says its own seconds
                name = STEP_NAMES.get(int(event.get("step", 0)), str(event.get("kind")))
                seconds = event.get("seconds")
                self.step_seconds.labels(name).observe(float(seconds) if seconds is not None else now - marks["last"])
                marks["last"] = now
            elif event.get("type") in ("site_done", "site_failed"):
                self.step_seconds.labels("site").observe(now - marks["last"])

        return on_event

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one HTTP request served."""
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_seconds.labels(method, route).observe(seconds)

    async def refresh(self, store: StateStore, budget: CallBudget, tokens: list[str],
                      budget_of: Callable[[str], str] = str) -> None:
        """Read the gauges that are not fed by hooks: budget left per own token (`tokens`: their fingerprints,
        labelled 1, 2 ... by position; `budget_of` maps one to its owner's budget key: one admin's tokens
        share one), runs by status."""
        for position, token in enumerate(tokens, start=1):
            key = budget_of(token)
            state = await budget.state(key)
            self.budget_left.labels(str(position)).set(state.remaining)
        counts = dict.fromkeys(RUN_STATUSES, 0)
        for run in await store.list_runs(limit=RUNS_COUNTED):
            counts[run.status] = counts.get(run.status, 0) + 1
        for status, count in counts.items():
            self.runs.labels(status).set(count)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
