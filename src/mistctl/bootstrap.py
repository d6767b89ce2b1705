"""The composition root: settings, target, Mist client, state store and call ledger, built in one place.

The CLI, the HTTP service and the workers all get their dependencies from `open_services`; tests
call it with a transport (the twin in-process), a store or a clock of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mistctl.config import Settings
from mistctl.domain.diff import estimate_seconds
from mistctl.domain.plan import Plan
from mistctl.errors import UserError
from mistctl.mist.budget import CallBudget
from mistctl.mist.budget_redis import shared_budget
from mistctl.mist.client import MistClient
from mistctl.mist.clock import Clock
from mistctl.mist.target import DEFAULT_TWIN_STATE, Target, resolve_target
from mistctl.store.factory import open_store
from mistctl.store.models import Run
from mistctl.store.port import StateStore
from mistctl.workflow.deploy import CallLedger, record_run

if TYPE_CHECKING:
    import httpx


@dataclass
class Services:
    """Everything one command or request needs, already wired."""

    settings: Settings
    target: Target
    store: StateStore
    mist: MistClient
    ledger: CallLedger
    org_id: str
    concurrency: int = 8
    actor: str = "cli"

    @property
    def banner(self) -> str:
        """The first line of every command: which Mist this is."""
        return f"{self.target.describe()}; org {self.org_id}"

    async def eta(self, plan: Plan) -> float:
        """Seconds the plan should take under the remaining budgets (one per token owner)."""
        states = await self.mist.budget_states()
        remaining = sum(s.remaining for s in states)
        window_left = min((s.reset_in for s in states), default=0.0)
        limit = sum(s.limit - s.reserve for s in states) or 1
        return estimate_seconds(plan, remaining=remaining, window_left=window_left,
                                window=self.settings.mist_rate_window, limit=limit,
                                latency=self.ledger.mean_latency(), concurrency=self.concurrency)

    async def budget_lines(self) -> list[str]:
        """With several tokens, which of them share a call budget (the ETA counts each budget once)."""
        if len(self.mist.token_keys) < 2:
            return []
        return [group.describe() for group in await self.mist.group_tokens()]

    @asynccontextmanager
    async def owners_asked(self) -> AsyncIterator[None]:
        """The token owners' ``GET /self`` (which the first Mist call would send) sent on entry, its answer
        awaited while the caller's local work runs; the first call then waits for it as it would have (and
        asks again if it failed: its error is the call's to raise). An error leaving the block cancels it."""
        asking = asyncio.create_task(self.mist.learn_owners())
        try:
            yield
        except BaseException:
            asking.cancel()
            raise
        finally:
            await asyncio.gather(asking, return_exceptions=True)

    async def new_run(self, kind: str, plan: Plan, *, run_id: str | None = None) -> Run:
        """Record a new run of `plan` (its plan redacted) before any write (`run_id`: the locks' owner)."""
        return await record_run(self.store, kind, plan, org_id=self.org_id, actor=self.actor, run_id=run_id)


@asynccontextmanager
async def open_services(
    *,
    mist_host: str | None = None,
    org_id: str | None = None,
    concurrency: int | None = None,
    settings: Settings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    store: StateStore | None = None,
    clock: Clock | None = None,
    budget: CallBudget | None = None,
    force_twin: bool = False,
    twin_state: Path = DEFAULT_TWIN_STATE,
    actor: str = "cli",
) -> AsyncIterator[Services]:
    """Build the services for one command; everything is closed on exit."""
    settings = settings or Settings()
    if concurrency is not None:  # one knob: sites at once and Mist calls in flight (MIST_CONCURRENCY its default)
        settings = settings.model_copy(update={"mist_concurrency": concurrency})
    if force_twin:  # the demo: never a real Mist, whatever the environment says
        settings = settings.model_copy(update={"mist_host": None, "mist_apitoken": None, "mist_org_id": None})
        mist_host = None
    target = resolve_target(settings, mist_host, twin_state=twin_state)
    ledger = CallLedger()
    async with AsyncExitStack() as stack:
        the_store: StateStore = (
            store if store is not None else await stack.enter_async_context(open_store(settings.mistctl_state))
        )
        # On Redis every process using a token draws from one shared window (workers, replicas, the CLI).
        budget = budget or shared_budget(the_store, settings, clock)
        mist = await stack.enter_async_context(
            target.client(clock=clock, budget=budget, on_call=ledger.on_call, transport=transport)
        )
        org = org_id or settings.mist_org_id or target.org_id or await _only_org(mist)
        yield Services(settings, target, the_store, mist, ledger, org,
                       concurrency=settings.mist_concurrency, actor=actor)


async def _only_org(mist: MistClient) -> str:
    """With no org id given, the one org the token may write to; else a clear error."""
    me = await mist.get_self()
    orgs = sorted({p.org_id for p in me.privileges if p.scope == "org" and p.role in ("admin", "write")
                   and p.org_id})
    if len(orgs) == 1:
        return str(orgs[0])
    if not orgs:
        raise UserError("the token has no admin or write privilege on any org; use a token of an org admin")
    raise UserError(f"the token can write to {len(orgs)} orgs; choose one with --org-id, the fleet's "
                    "org_id or MIST_ORG_ID")


@asynccontextmanager
async def open_store_from_env(settings: Settings | None = None) -> AsyncIterator[StateStore]:
    """Just the state store, for commands that only read records (`status`, `audit`)."""
    settings = settings or Settings()
    async with open_store(settings.mistctl_state) as store:
        yield store
