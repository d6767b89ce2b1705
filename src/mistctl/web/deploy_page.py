"""A deployment's page: steps, sites done and failed, calls against the rate budget, ETA, final report.

Read from the state store (the run, its counters, step records and site states: the same view as
`GET /deployments/{id}`) and the service's call budget; no Mist calls. The ETA extrapolates the pace
so far: writes made against the writes the run's plan estimated, or else sites finished against sites.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mistctl.api.context import AppContext
from mistctl.api.schemas import DeploymentView, SiteProgress
from mistctl.api.views import deployment_view
from mistctl.domain.kinds import STEP_NAMES
from mistctl.mist.budget import BudgetState, token_fingerprint
from mistctl.store.models import Run, utcnow
from mistctl.web.drafts import DRAFTS
from mistctl.workflow.runlock import org_lock

DONE_SHOWN = 200  # a 2,000-site run lists its failures in full, its successes up to this many


@dataclass
class StepRow:
    step: int
    name: str
    done: int
    failed: int


@dataclass(frozen=True)
class Waiting:
    """The run holding the org a pending run waits for: its id, kind, who started it, the lock's holder line."""

    run_id: str
    kind: str | None
    requested_by: str | None
    holder: str


@dataclass
class DeploymentPage:
    """Everything the deployment page (and its live part) shows."""

    run: Run
    steps: list[StepRow]
    done: list[SiteProgress]
    failed: list[SiteProgress]
    total: int
    writes: int
    calls: int | None
    estimated_calls: int | None
    budget: BudgetState | None
    elapsed: float | None
    eta: float | None
    waiting: Waiting | None = None
    retryable: bool = False  # the console holds the run's fleet, so its failed sites can be retried

    @property
    def finished(self) -> int:
        return len(self.done) + len(self.failed)

    @property
    def percent(self) -> int:
        """Sites finished, or for a run with no sites, 100 once it ended."""
        if not self.total:
            return 100 if self.run.is_terminal else 0
        return min(100, round(100 * self.finished / self.total))

    @property
    def done_shown(self) -> list[SiteProgress]:
        return self.done[:DONE_SHOWN]


def elapsed_seconds(run: Run, now: datetime) -> float | None:
    """Seconds the run has been (or was) running."""
    if run.started_at is None:
        return None
    return ((run.finished_at or now) - run.started_at).total_seconds()


def eta_seconds(run: Run, elapsed: float | None, *, finished: int, total: int,
                estimated_calls: int | None) -> float | None:
    """Seconds left at the pace so far (None once ended, or before there is a pace to go by)."""
    if run.is_terminal or not elapsed:
        return None
    writes = run.counts.get("writes", 0)
    if estimated_calls and writes:
        return elapsed / writes * max(0, estimated_calls - writes)
    if total and finished:
        return elapsed / finished * max(0, total - finished)
    return None


async def deployment_page(ctx: AppContext, run: Run) -> DeploymentPage:
    """The run's page data, read now."""
    view: DeploymentView = await deployment_view(ctx.store, run)
    done = [s for s in view.sites if s.status == "done"]
    failed = [s for s in view.sites if s.status in ("failed", "sle_failed")]
    total = max(run.counts.get("sites_total", 0), len(view.sites))
    estimated = run.plan.get("estimated_calls") if run.plan else None
    estimated_calls = int(estimated) if isinstance(estimated, int | float) else None
    elapsed = elapsed_seconds(run, utcnow())
    tokens = ctx.server_tokens
    budget = await ctx.budget.state(token_fingerprint(tokens[0])) if tokens else None
    steps = [StepRow(p.step, STEP_NAMES.get(p.step, p.name), p.done, p.failed) for p in view.steps]
    return DeploymentPage(
        waiting=await waiting_for(ctx, run), retryable=DRAFTS.fleet_of(run.id) is not None,
        run=run, steps=steps, done=done, failed=failed, total=total, writes=run.counts.get("writes", 0),
        calls=run.counts.get("calls"), estimated_calls=estimated_calls, budget=budget, elapsed=elapsed,
        eta=eta_seconds(run, elapsed, finished=len(done) + len(failed), total=total,
                        estimated_calls=estimated_calls),
    )


async def waiting_for(ctx: AppContext, run: Run) -> Waiting | None:
    """What a pending run waits for: the run holding its org's lock (None when it does not wait)."""
    if run.status != "pending":
        return None
    lock = await ctx.store.get_lock(org_lock(run.org_id))
    if lock is None or lock.owner == run.id:
        return None
    holder = await ctx.store.get_run(lock.owner, include_plan=False)
    return Waiting(lock.owner, holder.kind if holder else None, holder.requested_by if holder else None,
                   lock.holder)
