"""The service's long-lived wiring, built once in the app's lifespan: `AppContext`.

One state store, one Mist target (a cloud, or the built-in twin), one pooled `httpx.AsyncClient` to
it and one call budget for every token (in Redis when the store is: shared with other processes);
then a `MistClient` per piece of work (cheap: it wraps the shared pool), so each deployment has its
own call ledger and audit trail, and each caller who brings `X-Mist-API-Key` is served with that
token only. Token identities (`GET /self`) are cached briefly under a hash of the token, never the token.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from mistctl.api.jobs import Deployments, Locks
from mistctl.api.metrics import ApiMetrics
from mistctl.api.throttle import AuthGuard, TtlCache
from mistctl.config import Settings
from mistctl.designs import Design, load_design
from mistctl.mist.budget import CallBudget, InMemoryCallBudget, token_fingerprint
from mistctl.mist.budget_redis import shared_budget
from mistctl.mist.client import MistClient
from mistctl.mist.clock import Clock, SystemClock
from mistctl.mist.errors import Forbidden, MistError, RateLimited, Unauthorized
from mistctl.mist.http import build_http_client, default_limits
from mistctl.mist.meter import CallRecord
from mistctl.mist.models import SelfInfo
from mistctl.mist.owners import Owner, owner_of
from mistctl.mist.session import WaitHook
from mistctl.mist.target import Target, client_for, resolve_target, timeout_for
from mistctl.store.factory import open_store
from mistctl.store.port import StateStore
from mistctl.workflow.deploy import CallLedger

IDENTITY_TTL = 60.0  # seconds a token's GET /self answer (or refusal) is trusted
IDENTITIES = 1024  # token identities cached at once (least recently used dropped first)
READY_TTL = 60.0  # a Mist call answered this recently proves Mist reachable without a probe


@dataclass
class AppContext:
    """Everything the routes and service functions share; `request.app.state.ctx`."""

    settings: Settings
    store: StateStore
    target: Target
    design: Design
    http: httpx.AsyncClient
    clock: Clock
    metrics: ApiMetrics
    budget: CallBudget
    locks: Locks
    deployments: Deployments
    monotonic: Callable[[], float] = time.monotonic
    guard: AuthGuard = field(default_factory=AuthGuard, repr=False)
    _identities: TtlCache[SelfInfo] = field(default_factory=lambda: TtlCache(IDENTITIES, IDENTITY_TTL), repr=False)
    _rejected: TtlCache[MistError] = field(default_factory=lambda: TtlCache(IDENTITIES, IDENTITY_TTL), repr=False)
    _owners: dict[str, Owner] = field(default_factory=dict, repr=False)  # token fingerprint -> budget owner
    _check: asyncio.Task[None] | None = field(default=None, repr=False)
    _mist_word: str = field(default="ok (not checked yet)", repr=False)

    @property
    def server_tokens(self) -> list[SecretStr]:
        """The service's own Mist token(s): MIST_APITOKEN, or the built-in twin's admin token."""
        return list(self.target.tokens)

    @property
    def default_org_id(self) -> str | None:
        """The org a request without `org_id` is for (MIST_ORG_ID, or the twin's org)."""
        return self.settings.mist_org_id or self.target.org_id

    @property
    def concurrency(self) -> int:
        return self.settings.mist_concurrency

    def client(self, tokens: Sequence[SecretStr], ledger: CallLedger | None = None, *,
               on_wait: WaitHook | None = None, background: bool = False) -> MistClient:
        """A Mist client over the shared connection pool and budget; its calls feed `ledger` and metrics.

        An HTTP request's client waits at most `mistctl_budget_wait` for a spent budget (then `RateLimited`,
        answered 503); a `background` one (deployments) waits for the reset, telling `on_wait`.
        """
        s = self.settings

        def on_call(call: CallRecord) -> None:
            self.metrics.on_call(call)
            if ledger is not None:
                ledger.on_call(call)

        return client_for(self.http, list(tokens), s, clock=self.clock, budget=self.budget, on_call=on_call,
                          on_wait=on_wait, max_rate_wait=None if background else s.mistctl_budget_wait,
                          owners=self._owners)

    async def whoami(self, tokens: Sequence[SecretStr], before_lookup: Callable[[], None] | None = None
                     ) -> SelfInfo:
        """`GET /self` for the first token, its answer (or Mist's refusal) cached for a minute by a hash of
        the token, in a bounded cache; `before_lookup` runs first when Mist must be asked (it may refuse)."""
        key = hashlib.sha256(tokens[0].get_secret_value().encode()).hexdigest()
        cached = self._identities.get(key)
        if cached is not None:
            return cached
        refused = self._rejected.get(key)
        if refused is not None:  # a fresh error each time: re-raising one object grows its traceback
            raise type(refused)(refused.message, method=refused.method, path=refused.path,
                                status=refused.status, detail=refused.detail)
        if before_lookup is not None:
            before_lookup()
        # Not through `client`: this GET /self is the owner look-up too, so it is not made twice.
        client = client_for(self.http, list(tokens[:1]), self.settings, clock=self.clock, budget=self.budget,
                            on_call=self.metrics.on_call, max_rate_wait=self.settings.mistctl_budget_wait)
        try:
            me = await client.get_self()
        except (Unauthorized, Forbidden) as exc:
            self._rejected.put(key, exc)
            raise
        self._identities.put(key, me)
        fingerprint = token_fingerprint(tokens[0])
        self._owners[fingerprint] = owner_of(me, fingerprint)  # its calls then count against its admin's budget
        return me

    def mist_status(self) -> str:
        """"ok" when Mist answered lately, else the last background check's word; never calls Mist itself
        (a stale answer starts a check in the background, so `/readyz` answers at once)."""
        if self.monotonic() - self.metrics.last_ok_call < READY_TTL:
            return "ok"
        if self._check is None or self._check.done():
            self._check = asyncio.create_task(self._check_mist(), name="mist readiness check")
        return self._mist_word

    async def _check_mist(self) -> None:
        client = client_for(self.http, self.server_tokens[:1], self.settings, clock=self.clock, budget=self.budget,
                            on_call=self.metrics.on_call, max_rate_wait=0)
        try:
            await client.get_self()
        except RateLimited as exc:  # Mist answers; the service's budget is spent until the reset
            self._mist_word = f"ok (the API call budget is spent; it resets in {exc.retry_after or 0:.0f} s)"
        except MistError as exc:
            self._mist_word = f"unreachable: {exc}"
        else:
            self._mist_word = "ok"

    async def refresh_metrics(self) -> None:
        """Update the gauges read at scrape time (the budget of the service's own tokens only)."""
        keys = [token_fingerprint(t) for t in self.server_tokens]
        owners = dict(self._owners)
        await self.metrics.refresh(self.store, self.budget, keys, lambda k: owners[k].budget if k in owners else k)


@asynccontextmanager
async def open_context(settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None,
                       store: StateStore | None = None, clock: Clock | None = None,
                       metrics: ApiMetrics | None = None) -> AsyncIterator[AppContext]:
    """Build the context (store, target, pool, design); everything is closed and stopped on exit."""
    target = resolve_target(settings)
    design = load_design(settings.mistctl_design, os.environ)  # its ${NAME} secrets
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        the_store = store if store is not None else await stack.enter_async_context(
            open_store(settings.mistctl_state))
        if transport is None and target.app is not None:  # the built-in twin, in this process
            await stack.enter_async_context(target.app.router.lifespan_context(target.app))
            transport = httpx.ASGITransport(app=target.app)
        http = await stack.enter_async_context(build_http_client(
            target.base_url, transport=transport, timeout=timeout_for(settings),
            limits=default_limits(settings.mist_concurrency * 2)))
        # On Redis every process using a token draws from one shared window (workers, replicas, the CLI).
        budget = shared_budget(the_store, settings, clock) or InMemoryCallBudget(
            clock, limit=settings.mist_rate_limit, window=settings.mist_rate_window)
        locks = Locks(the_store)
        ctx = AppContext(settings, the_store, target, design, http, clock, metrics or ApiMetrics(), budget,
                         locks, Deployments(the_store))
        try:
            yield ctx
        finally:
            await ctx.deployments.shutdown()
            if ctx._check is not None:
                ctx._check.cancel()
            await locks.release_all()  # a request cut short by the stop must not leave its locks behind
