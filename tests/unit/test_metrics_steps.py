"""The step histogram takes each org kind's own seconds from its step event: kinds of one round are told
together (`workflow/apply.py`), so the time between two events would give the round to the first and 0 to
the others."""

from __future__ import annotations

from mistctl.api.metrics import ApiMetrics


def _sum(metrics: ApiMetrics, step: str) -> float | None:
    return metrics.registry.get_sample_value("mistctl_step_duration_seconds_sum", {"step": step})


def test_a_step_event_with_seconds_is_observed_as_its_own_time() -> None:
    now = iter([0.0, 10.0, 10.0, 12.0])
    metrics = ApiMetrics(monotonic=lambda: next(now))
    timer = metrics.step_timer()
    timer({"type": "step", "step": 3, "kind": "applications", "seconds": 0.25})
    timer({"type": "step", "step": 4, "kind": "networks", "seconds": 0.5})
    timer({"type": "step", "step": 6, "kind": "gateway_templates"})  # an older event: the time since the last
    assert _sum(metrics, "applications") == 0.25
    assert _sum(metrics, "networks") == 0.5
    assert _sum(metrics, "gateway_templates") == 2.0
