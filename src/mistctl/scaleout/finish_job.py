"""The last job of a queued deployment, `finish(run_id)`: the late WLAN-template bindings, then (queued with
consent, every site done) the plan's deletes (`mistctl.scaleout.deletes`), the run's final status, the locks
released (`mistctl.scaleout.jobguard.end_run`). See `mistctl.scaleout.jobs` for the other two."""

from __future__ import annotations

from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.diff import LiveState
from mistctl.domain.plan import Change, Plan
from mistctl.mist.errors import MistError
from mistctl.scaleout.deletes import queued_deletes
from mistctl.scaleout.jobguard import Stop, guard, job_mist
from mistctl.scaleout.locks import renew_run_locks
from mistctl.scaleout.queue import RunBook
from mistctl.scaleout.seal import SealError
from mistctl.scaleout.state import WorkerState
from mistctl.store.models import Run
from mistctl.workflow.apply import Applier
from mistctl.workflow.deploy import desired_state


async def finish(ctx: dict[str, Any], run_id: str) -> None:
    """Late bindings, the final status, the locks released."""
    await guard(ctx, run_id, _finish)


async def _finish(w: WorkerState, run: Run) -> None:
    book = w.book(run.id)
    opts = await book.options()
    binding = opts["binds"] and not run.cancel_requested
    bind_errors = await _bind(w, run, book, opts["binds"]) if binding else {}
    failures = await book.failures()
    if opts["consent"].allow_delete and not (run.cancel_requested or failures or bind_errors):
        bind_errors = await _deletes(w, run, book, opts)
    counts = await w.store.incr_run_counts(run.id, {})  # adds nothing: the counts as they are now
    raise Stop(_status(run, counts, failures, bind_errors), _summary(failures, bind_errors))


async def _bind(w: WorkerState, run: Run, book: RunBook, binds: list[dict[str, Any]]) -> dict[str, str]:
    """WLAN templates that apply to sites this run created, and hub profiles to their gateways, now."""
    try:
        fleet = await book.fleet(w.tokens)
    except SealError as exc:
        return {"bindings": str(exc)}
    async with job_mist(w, run, run.org_id) as (mist, records):
        try:
            kinds = (K.SITE_GROUPS, K.SITES, K.WLAN_TEMPLATES, K.HUB_PROFILES)  # hub profiles: their gateways
            live = LiveState(run.org_id, {k.key: await mist.list_org(run.org_id, k.collection) for k in kinds})
            applier = Applier(mist, records, desired_state(fleet, with_sites=False), live)
            await applier.bind(Plan(run.org_id, run.fleet_hash, "", [Change(**c) for c in binds]))
            return applier.result.org_failed
        except MistError as exc:
            return {"bindings": f"could not read the org from Mist: {exc}"}


async def _deletes(w: WorkerState, run: Run, book: RunBook, opts: dict[str, Any]) -> dict[str, str]:
    """The plan's deletes under the run's consent, after every site; the failed ones (`delete <what>`: why)."""
    try:
        fleet = await book.fleet(w.tokens)
    except SealError as exc:
        return {"deletes": str(exc)}
    await renew_run_locks(w.store, book)
    async with job_mist(w, run, run.org_id) as (mist, records):
        out = await queued_deletes(mist, records, w.store, fleet, opts["consent"], concurrency=opts["concurrency"],
                                   ownership=opts["ownership"])
    await w.store.publish_event(run.id, {"type": "deletes", "deleted": out.deleted, "kept": out.kept,
                                         "failed": out.failed, "released": out.released})
    return {f"delete {what}": why for what, why in out.failed.items()}


def _status(run: Run, counts: dict[str, int], failures: dict[str, str], bind_errors: dict[str, str]) -> str:
    """As in-process (`apply_planned`): failed when nothing good came of it, partial when some did."""
    if run.cancel_requested:
        return "cancelled"
    if bind_errors or (failures and not counts.get("sites_done")):
        return "failed"
    return "partial" if failures else "completed"


def _summary(failures: dict[str, str], bind_errors: dict[str, str]) -> str | None:
    parts = [f"{k}: {v}" for k, v in bind_errors.items()]
    parts += [f"site {s} {why}" for s, why in sorted(failures.items())]
    return "; ".join(parts)[:2000] or None
