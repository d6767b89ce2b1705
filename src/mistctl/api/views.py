"""Read-only views of what the state store recorded: runs, their progress per step and site, sites, events.

No Mist calls: the CLI's `mistctl status` reads the same records, so runs started either way show here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator

from mistctl.api.schemas import DeploymentView, RunView, SiteProgress, SiteView, StepProgress, StepRecordView
from mistctl.domain.kinds import STEP_NAMES
from mistctl.store.models import Run, SiteState, SiteStatus
from mistctl.store.port import StateStore
from mistctl.workflow.runlock import shown_status

SITE_PAGE = 500
KEEPALIVE = 15.0  # seconds between SSE comments when nothing happens


def run_view(run: Run) -> RunView:
    """A run without its plan."""
    return RunView(id=run.id, kind=run.kind, org_id=run.org_id, status=run.status,
                   requested_by=run.requested_by, created_at=run.created_at, started_at=run.started_at,
                   finished_at=run.finished_at, counts=dict(run.counts), error=run.error)


async def deployment_view(store: StateStore, run: Run) -> DeploymentView:
    """A run with its step records counted by step, and the sites it last touched."""
    steps = await store.get_steps(run.org_id, run_id=run.id)
    per_step: dict[int, dict[str, int]] = defaultdict(lambda: {"done": 0, "failed": 0})
    for rec in steps:
        if rec.status in ("done", "failed"):
            per_step[rec.step][rec.status] += 1
    progress = [StepProgress(step=n, name=STEP_NAMES.get(n, "site_groups"), done=c["done"],
                             failed=c["failed"]) for n, c in sorted(per_step.items())]
    return DeploymentView(run=run_view(run), steps=progress, sites=await _sites_of(store, run))


async def _sites_of(store: StateStore, run: Run) -> list[SiteProgress]:
    return [SiteProgress(name=s.name, status=s.status, site_id=s.site_id, failed_step=s.failed_step,
                         error=s.error) async for s in site_states(store, run.org_id) if s.last_run_id == run.id]


async def site_states(store: StateStore, org_id: str | None,
                      status: SiteStatus | None = None) -> AsyncIterator[SiteState]:
    """Every recorded site of the org (in one state, when given), read `SITE_PAGE` at a time."""
    offset = 0
    while True:
        page = await store.list_site_states(org_id, status, offset=offset, limit=SITE_PAGE)
        for state in page:
            yield state
        if len(page) < SITE_PAGE:
            return
        offset += SITE_PAGE


async def site_view(store: StateStore, org_id: str | None, name: str) -> SiteView | None:
    """A site's recorded state and step history, or None when nothing was recorded for it."""
    state = await store.get_site_state(org_id, name)
    if state is None:
        return None
    steps = await store.get_steps(state.org_id, site=name)
    return SiteView(
        name=state.name, org_id=state.org_id, status=state.status, site_id=state.site_id, zone=state.zone,
        number=state.number, last_run_id=state.last_run_id, failed_step=state.failed_step, error=state.error,
        steps=[StepRecordView(step=r.step, kind=r.kind, key=r.key, status=r.status, mist_id=r.mist_id,
                              error=r.error, run_id=r.run_id, updated_at=r.updated_at) for r in steps],
    )


async def event_stream(store: StateStore, run_id: str, after: int = 0,
                       keepalive: float = KEEPALIVE) -> AsyncIterator[str]:
    """Server-sent events of a run: every event after `after`, then `end` once the run has finished."""
    while True:
        run = await store.get_run(run_id, include_plan=False)
        if run is not None:
            run = (await shown_status(store, [run]))[0]  # a run whose process died ends the stream
        finished = run is None or run.is_terminal
        events = (await store.events_since(run_id, after) if finished
                  else await store.wait_events(run_id, after, timeout=keepalive))
        for seq, event in events:
            after = seq
            data = json.dumps(event, default=str)
            yield f"id: {seq}\nevent: {event.get('type', 'message')}\ndata: {data}\n\n"
        if finished and len(events) < 1000:
            status = run.status if run else "unknown"
            yield f"event: end\ndata: {json.dumps({'run_id': run_id, 'status': status})}\n\n"
            return
        if not events:
            yield ": keep-alive\n\n"
