"""`mistctl worker`, `mistctl cancel`, and `mistctl apply --queue` (a deployment handed to the workers).

With `MISTCTL_STATE=redis://...` the CLI, the service and any number of `mistctl worker` processes share
one state store, one job queue and one call budget per token. `apply --queue` plans and confirms here,
queues the run, then follows its events until it ends (or, with `--detach`, prints its id and returns).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer
from rich.console import Console

from mistctl.bootstrap import Services, open_store_from_env
from mistctl.cli.errors import EXIT_FAILED, fail, handle_errors
from mistctl.cli.render import apply_progress
from mistctl.cli.runids import resolve_run_id
from mistctl.config import Settings
from mistctl.domain.fleet import Fleet
from mistctl.errors import UserError
from mistctl.scaleout.queue import RunBook, open_queue
from mistctl.store.errors import RecordNotFound, StoreUnavailable
from mistctl.store.models import Run
from mistctl.store.port import StateStore
from mistctl.store.redis_store import RedisStore
from mistctl.workflow.delete import DeleteConsent
from mistctl.workflow.deploy import Planned

FOLLOW_POLL = 2.0  # seconds a wait for events lasts before the run's status is read again
REQUEUES = 3  # times a run Redis lost is queued again before the CLI gives up


def register(app: typer.Typer) -> None:
    """Add the `worker` and `cancel` commands."""
    app.command("worker")(worker_cmd)
    app.command("cancel")(cancel_cmd)


@handle_errors
def worker_cmd(
    concurrency: Annotated[int | None, typer.Option(
        "--concurrency", min=1, max=512, show_default=False,
        help="Jobs (sites) at once in this worker (default: MIST_CONCURRENCY).")] = None,
    burst: Annotated[bool, typer.Option("--burst", help="Stop once the queue is empty.")] = False,
    lease: Annotated[float, typer.Option(
        "--lease", min=0.5, help="Seconds after which a dead worker's job is started elsewhere.")] = 10.0,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
) -> None:
    """Run queued deployments (MISTCTL_STATE=redis://...) until interrupted; start as many as you like."""
    from mistctl.api.logs import setup_logging
    from mistctl.scaleout.worker import run_worker

    handler = setup_logging(log_level)
    arq_log = logging.getLogger("arq")
    arq_log.handlers, arq_log.propagate = [handler], False
    arq_log.setLevel(log_level.upper())
    settings = Settings()
    jobs = concurrency or settings.mist_concurrency
    try:
        asyncio.run(run_worker(settings, jobs=jobs, burst=burst, lease=lease, ready=_ready))
    except StoreUnavailable as exc:
        fail(str(exc))


def _ready(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@handle_errors
def cancel_cmd(
    run_id: Annotated[str, typer.Argument(help="The run to cancel (`mistctl status` lists them).")],
) -> None:
    """Ask a run to stop: sites not started yet are skipped; a re-run resumes where it stopped."""
    try:
        asyncio.run(_cancel(run_id))
    except StoreUnavailable as exc:
        fail(str(exc))


async def _cancel(run_id: str) -> None:
    async with open_store_from_env() as store:
        run_id = await resolve_run_id(store, run_id)  # the short id `status` prints, or any unique prefix
        run = await store.get_run(run_id)
        if run is None:
            raise UserError(f"no run {run_id!r}; `mistctl status` lists the recent ones")
        if run.is_terminal:
            raise UserError(f"run {run_id} has already ended ({run.status})")
        await store.request_cancel(run_id)
    typer.echo(f"run {run_id}: cancel requested; sites already being deployed finish, the rest are skipped")


async def apply_queued(svc: Services, fleet: Fleet, planned: Planned, *, concurrency: int, detach: bool,
                       con: Console, consent: DeleteConsent | None = None) -> int:
    """Hand a confirmed plan to the workers (with the consent to delete); follow the run unless `detach`."""
    if svc.target.kind == "twin":
        raise UserError("--queue hands the deployment to `mistctl worker` processes, which cannot reach the "
                        "twin built into this command: serve one with `mistctl twin serve` and set MIST_HOST")
    plan = planned.plan
    run = Run(kind="apply", org_id=svc.org_id, fleet_hash=plan.fleet_hash, plan=plan.to_json(),
              requested_by=svc.actor)
    async with open_queue(svc.store) as queue:
        run = await svc.store.create_run(run)
        saved = {"org_id": plan.org_id, "fleet_hash": plan.fleet_hash,
                 "live_fingerprint": plan.live_fingerprint}
        await queue.submit(run, fleet, svc.target.tokens, saved=saved, concurrency=concurrency, consent=consent,
                           ownership=planned.ownership)
        alive = await queue.workers_alive()
    con.print(f"run {run.id}: queued for the workers" + ("" if alive else
              " [yellow](no worker is running: start one with `mistctl worker`)[/yellow]"))
    if detach:
        con.print(f"follow it with `mistctl status --run {run.id}`; cancel it with `mistctl cancel {run.id}`")
        return 0

    async def requeue() -> str:
        """Queue the fleet again as a new run: Redis lost the first (restarted without persistence)."""
        again = await svc.store.create_run(Run(kind="apply", org_id=svc.org_id, fleet_hash=plan.fleet_hash,
                                               plan=plan.to_json(), requested_by=svc.actor))
        async with open_queue(svc.store) as queue:  # re-planned against the live org: what is done stays
            await queue.submit(again, fleet, svc.target.tokens, saved=None, concurrency=concurrency,
                               consent=consent, ownership=planned.ownership)
        return again.id

    return await follow(svc.store, run.id, len(planned.desired.sites), con, requeue=requeue)


async def follow(store: StateStore, run_id: str, total_sites: int, con: Console,
                 requeue: Callable[[], Awaitable[str]] | None = None) -> int:
    """Show a queued run's events until it ends; exit code 0 when it completed, 1 otherwise.

    Store calls ride out a Redis restart (`store.redis_retry`). When the run is gone after one (Redis kept
    no data), `requeue` queues the fleet again, up to `REQUEUES` times, and the new run is followed.
    """
    counts: dict[str, int] = {}
    with apply_progress(total_sites, con, lambda: counts.get("calls", 0)) as progress:
        for _ in range(REQUEUES + 1):
            run = await _follow_one(store, run_id, progress, counts)
            if run is not None or requeue is None:
                break
            lost, run_id = run_id, await requeue()
            con.print(f"run {lost} is gone from Redis (restarted without persistence?): the fleet is queued "
                      f"again as run {run_id}; what was done stays done")
    return _report(await store.get_run(run_id), run_id, con)


async def _follow_one(store: StateStore, run_id: str, progress: Callable[[dict[str, Any]], None],
                      counts: dict[str, int]) -> Run | None:
    """Follow one run until it ends (the run) or disappears (None)."""
    book = RunBook(store, run_id) if isinstance(store, RedisStore) else None
    after, run = 0, await store.get_run(run_id)
    while run is not None and not run.is_terminal:
        for seq, event in await store.wait_events(run_id, after, timeout=FOLLOW_POLL):
            after = seq
            progress(event)
        # without the plan (megabytes for thousands of sites); the counts apart
        run = await book.run() if book else await store.get_run(run_id)
        if run is not None:
            with contextlib.suppress(RecordNotFound):  # gone between the two reads: seen next time
                counts.update(await store.incr_run_counts(run_id, {}))
    return run


def _report(run: Run | None, run_id: str, con: Console) -> int:
    if run is None:
        raise UserError(f"run {run_id} disappeared from the state store")
    c: dict[str, Any] = run.counts
    con.print(f"run {run.id} {run.status}: {c.get('sites_done', 0)} sites done, {c.get('sites_failed', 0)} "
              f"failed, {c.get('sites_cancelled', 0)} skipped; {c.get('writes', 0)} writes, "
              f"{c.get('calls', 0)} API calls" + (f"; {c['deleted']} deleted" if c.get("deleted") else ""))
    if run.error:
        con.print(run.error, markup=False)
    return 0 if run.status == "completed" else EXIT_FAILED
