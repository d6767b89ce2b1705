"""The runs of `MemoryStore`: each run's record kept without its plan, and the plan as JSON text.

A plan is the big part of a run and is seldom read back whole: keeping it as text copies it once on the
way in (`json.dumps`) and once on the way out when asked for (`json.loads`), as the SQLite and Redis stores
hand back a plan read from JSON; a heartbeat, a counter or a status never copies it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from mistctl.store._common import check_page, parse_patch
from mistctl.store.errors import RecordNotFound, RecordRejected
from mistctl.store.models import Run, RunStatus


class MemoryRuns:
    """The runs part of the `StateStore` port in memory."""

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}  # without their plans
        self._plans: dict[str, str] = {}  # run id -> its plan as JSON text ("" for an empty plan)

    async def create_run(self, run: Run) -> Run:
        """Persist a new run."""
        if run.id in self._runs:
            raise RecordRejected(f"run {run.id} already exists; create runs with a fresh id")
        self._plans[run.id] = _plan_text(run.plan)
        self._runs[run.id] = run.model_copy(update={"plan": {}}).model_copy(deep=True)
        return run  # the caller's own: it shares nothing with the copy stored

    async def get_run(self, run_id: str, *, include_plan: bool = True) -> Run | None:
        """The run (its plan left out unless `include_plan`), or None."""
        run = self._runs.get(run_id)
        return None if run is None else self._copy_out(run, include_plan)

    async def update_run(self, run_id: str, **changes: Any) -> Run:
        """Set the given fields only; the run without its plan (a heartbeat copies no plan)."""
        patch = parse_patch(run_id, changes).changes()
        run = self._require_run(run_id)
        if "plan" in patch:
            self._plans[run_id] = _plan_text(patch.pop("plan"))
        run = run.model_copy(update=copy.deepcopy(patch))
        self._runs[run_id] = run
        return run.model_copy(deep=True)

    async def incr_run_counts(self, run_id: str, deltas: Mapping[str, int]) -> dict[str, int]:
        """Add deltas to the run's counters."""
        run = self._require_run(run_id)
        counts = dict(run.counts)
        for name, delta in deltas.items():
            counts[name] = counts.get(name, 0) + int(delta)
        self._runs[run_id] = run.model_copy(update={"counts": counts})
        return dict(counts)

    async def list_runs(
        self, limit: int = 50, status: RunStatus | None = None, *, include_plan: bool = False
    ) -> list[Run]:
        """Newest first."""
        check_page(limit)
        runs = [r for r in self._runs.values() if status is None or r.status == status]
        runs.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return [self._copy_out(r, include_plan) for r in runs[:limit]]

    async def request_cancel(self, run_id: str) -> Run:
        """Flag the run for cancellation."""
        return await self.update_run(run_id, cancel_requested=True)

    def _require_run(self, run_id: str) -> Run:
        run = self._runs.get(run_id)
        if run is None:
            raise RecordNotFound(f"run {run_id} not found; list runs with `mistctl status`")
        return run

    def _copy_out(self, run: Run, include_plan: bool) -> Run:
        """A deep copy of a stored run, with its plan read from its text when asked for."""
        text = self._plans.get(run.id, "") if include_plan else ""
        return run.model_copy(deep=True, update={"plan": json.loads(text)} if text else None)


def _plan_text(plan: dict[str, Any]) -> str:
    return json.dumps(plan) if plan else ""
