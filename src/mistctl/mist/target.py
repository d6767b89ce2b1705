"""Which Mist the commands talk to: a real Mist cloud over HTTPS, or the built-in twin in-process.

`MIST_HOST`/`MIST_APITOKEN` (or ``--mist-host``) select a real cloud; with neither set, the target is
the twin (`mist_twin`) embedded in this process on an `httpx.ASGITransport`, whose org id and token
persist in its state file. Every command prints `Target.describe()` first, so nobody mistakes one for
the other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from mistctl.config import Settings
from mistctl.mist.budget import CallBudget, InMemoryCallBudget, token_fingerprint
from mistctl.mist.client import MistClient
from mistctl.mist.clock import Clock, SystemClock
from mistctl.mist.http import base_url_for, build_http_client, default_limits
from mistctl.mist.meter import CallRecord
from mistctl.mist.owners import Owner
from mistctl.mist.retry import RetryPolicy
from mistctl.mist.session import WaitHook

DEFAULT_TWIN_STATE = Path(".mistctl/twin.db")
TWIN_BASE_URL = "http://mist-twin"


class TargetError(ValueError):
    """The Mist settings do not name a usable target; the message says what to set."""


@dataclass
class Target:
    """A resolved Mist target: where, with which tokens, for which org."""

    kind: Literal["cloud", "twin"]
    base_url: str
    tokens: list[SecretStr]
    org_id: str | None
    settings: Settings
    twin_state: Path | None = None
    app: Any = None  # the twin's ASGI app when kind == "twin"
    _users: int = field(default=0, repr=False)
    _stopped: bool = field(default=False, repr=False)
    _lifespan: Any = field(default=None, repr=False)
    _owners: dict[str, Owner] = field(default_factory=dict, repr=False)  # token fingerprint -> budget owner

    def describe(self) -> str:
        """The line every command prints first."""
        if self.kind == "twin":
            return (
                f"target: built-in Mist twin (state {self.twin_state}); "
                "set MIST_HOST and MIST_APITOKEN for a real Mist cloud"
            )
        keys = ", ".join(token_fingerprint(t) for t in self.tokens)
        return f"target: Mist cloud {self.base_url} (token {keys})"

    def __repr__(self) -> str:
        return f"Target(kind={self.kind!r}, base_url={self.base_url!r}, org_id={self.org_id!r})"

    @asynccontextmanager
    async def client(
        self,
        *,
        clock: Clock | None = None,
        budget: CallBudget | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        on_wait: WaitHook | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        group: bool = True,
    ) -> AsyncIterator[MistClient]:
        """A ready `MistClient` for this target; the http client (and the twin) close on exit.

        With `group`, the first call asks ``GET /self`` once per token, so that the user tokens of one
        admin draw on one budget, as Mist counts them (and as every other process keys them).
        """
        s = self.settings
        clock = clock or SystemClock()
        async with AsyncExitStack() as stack:
            if transport is None and self.kind == "twin":
                app = await stack.enter_async_context(self._twin_running())
                transport = httpx.ASGITransport(app=app)
            http = await stack.enter_async_context(
                build_http_client(
                    self.base_url,
                    transport=transport,
                    timeout=timeout_for(s),
                    limits=default_limits(s.mist_concurrency),
                )
            )
            budget = budget or InMemoryCallBudget(clock, limit=s.mist_rate_limit, window=s.mist_rate_window)
            yield client_for(http, self.tokens, s, clock=clock, budget=budget, on_call=on_call, on_wait=on_wait,
                             owners=self._owners if group else None)

    @asynccontextmanager
    async def _twin_running(self) -> AsyncIterator[Any]:
        """The twin app, started with its first client and closed with its last (reopened after)."""
        if self._users == 0 and self._stopped:
            self.app = _twin_app(self.twin_state or DEFAULT_TWIN_STATE)
        self._users += 1
        if self._users == 1:
            self._lifespan = self.app.router.lifespan_context(self.app)
            await self._lifespan.__aenter__()
            self._stopped = False
        try:
            yield self.app
        finally:
            self._users -= 1
            if self._users == 0 and self._lifespan is not None:
                self._stopped = True
                await self._lifespan.__aexit__(None, None, None)


def resolve_target(
    settings: Settings, mist_host: str | None = None, *, twin_state: Path = DEFAULT_TWIN_STATE
) -> Target:
    """The target the settings name: a Mist cloud when a host or a token is set, else the built-in twin.

    Raises `TargetError` (a ValueError) with the fix when only half of the cloud settings are there.
    """
    host = mist_host or settings.mist_host
    tokens = settings.tokens()
    if host or tokens:
        return _cloud(settings, host, tokens)
    return _twin(settings, twin_state)


def _cloud(settings: Settings, host: str | None, tokens: list[SecretStr]) -> Target:
    if not host:
        raise TargetError(
            "MIST_APITOKEN is set but MIST_HOST is not: set MIST_HOST to your Mist cloud "
            "(api.mist.com, api.eu.mist.com, api.gc1.mist.com, ...) or pass --mist-host"
        )
    if not tokens:
        raise TargetError(
            f"MIST_HOST is {host} but MIST_APITOKEN is not set: create an API token in the Mist portal "
            "(My Account > API Token) and export MIST_APITOKEN"
        )
    try:
        base_url = base_url_for(host)
    except ValueError as exc:
        raise TargetError(str(exc)) from None
    return Target("cloud", base_url, tokens, settings.mist_org_id, settings)


def _twin(settings: Settings, state: Path) -> Target:
    app = _twin_app(state)
    twin = app.state.twin
    return Target(
        "twin",
        TWIN_BASE_URL,
        [SecretStr(str(twin.token))],
        str(twin.org_id),
        settings,
        twin_state=state,
        app=app,
    )


def timeout_for(s: Settings) -> httpx.Timeout:
    """The http timeouts the settings ask for (connect, read, write, pool)."""
    return httpx.Timeout(
        connect=s.mist_connect_timeout, read=s.mist_read_timeout, write=s.mist_write_timeout, pool=s.mist_pool_timeout
    )


def client_for(
    http: httpx.AsyncClient,
    tokens: list[SecretStr],
    s: Settings,
    *,
    clock: Clock,
    budget: CallBudget,
    on_call: Callable[[CallRecord], None] | None = None,
    on_wait: WaitHook | None = None,
    max_rate_wait: float | None = None,
    owners: dict[str, Owner] | None = None,
) -> MistClient:
    """A `MistClient` on a shared http client, with the settings' retry policy and concurrency.

    The one place settings become a client: the CLI's target, the service's context and the workers.
    `max_rate_wait` bounds the wait for a spent budget (an HTTP request's), else the settings' own;
    `owners` is the process's cache of token owners (see `ClientCore`), None to key budgets by token.
    """
    wait = s.mist_max_rate_wait if max_rate_wait is None else max_rate_wait
    policy = RetryPolicy(max_attempts=s.mist_max_attempts, max_rate_wait=wait)
    return MistClient(http, tokens, budget=budget, clock=clock, policy=policy, on_call=on_call, on_wait=on_wait,
                      concurrency=s.mist_concurrency, owners=owners)


def _twin_app(state: Path) -> Any:
    from mist_twin.app import create_app
    from mist_twin.config import TwinConfig

    state.parent.mkdir(parents=True, exist_ok=True)
    return create_app(TwinConfig(state_file=state))
