"""`mistctl apply --json`: one JSON object per line on stdout, for pipelines; the human output goes to stderr.

The stream: `{"type": "plan", ...}` (summary, estimated calls, ETA), `{"type": "run", "id": ...}`, then
the engine's events as they happen (`step`, `site_done`, `site_pending`, `site_failed`, `org_failed`, ...)
and last `{"type": "report", ...}`: the outcome (`ok`, writes, calls, sites done, failed, pending).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console

from mistctl.cli.json_out import echo_line
from mistctl.cli.render import LiveProgress, ProgressPrinter, apply_progress
from mistctl.domain.plan import Plan


class JsonEvents:
    """The apply's progress as JSON lines on stdout."""

    def __enter__(self) -> JsonEvents:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __call__(self, event: dict[str, Any]) -> None:
        echo_line(event)


def progress_for(as_json: bool, total_sites: int, out: Console,
                 calls: Callable[[], int]) -> JsonEvents | LiveProgress | ProgressPrinter:
    """JSON lines for `--json`, else the bar or the plain lines (cli/render.py)."""
    return JsonEvents() if as_json else apply_progress(total_sites, out, calls)


class JsonStream:
    """The stream's own lines (plan, run, report); each a no-op unless `--json` was given."""

    def __init__(self, on: bool) -> None:
        self.on = on

    def plan(self, plan: Plan, eta: float) -> None:
        """The first line: what the run will do."""
        if self.on:
            echo_line({"type": "plan", "org_id": plan.org_id, "summary": plan.summary(),
                       "estimated_calls": plan.estimated_calls, "eta_seconds": round(eta, 1)}
                      | ({"target": plan.target} if plan.target is not None else {}))

    def run(self, run_id: str, org_id: str) -> None:
        """The run's id, before its first write."""
        if self.on:
            echo_line({"type": "run", "id": run_id, "org_id": org_id})

    def report(self, result: Any, *, run_id: str | None, calls: int, gate_code: int | None = None) -> None:
        """The last line: the outcome."""
        if not self.on:
            return
        failed = {name: {"step": step, "error": err} for name, (step, err) in result.sites_failed.items()}
        echo_line({"type": "report", "run_id": run_id, "ok": result.ok and not gate_code,
                   "writes": result.writes, "calls": calls, "sites_done": sorted(result.sites_done),
                   "sites_failed": failed, "sites_pending": result.sites_pending, "org_failed": result.org_failed,
                   "cancelled": result.cancelled})

    def nothing(self, *, calls: int) -> None:
        """The last line when the org already matches the fleet: no run, no write."""
        if self.on:
            echo_line({"type": "report", "run_id": None, "ok": True, "writes": 0, "calls": calls,
                       "sites_done": [], "sites_failed": {}, "sites_pending": {}, "org_failed": {},
                       "cancelled": False})
