"""The call engine under `MistClient`: tokens, the call budget, retries, the meter and error mapping.

One `call` is one Mist operation; it may become several requests on the wire (retries, 429s), each
reserved from the token's budget first and counted by the meter.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from mistctl.mist.budget import CallBudget
from mistctl.mist.clock import Clock
from mistctl.mist.errors import (
    MalformedResponse,
    MistTransportError,
    OutcomeUnknown,
    RateLimited,
    extract_detail,
    status_error,
)
from mistctl.mist.meter import CallMeter, CallRecord, outcome_of
from mistctl.mist.owners import Owner
from mistctl.mist.reply import Reply
from mistctl.mist.retry import NOTHING_SENT, RETRY_STATUSES, RetryPolicy, parse_retry_after
from mistctl.mist.self_reads import owner_from_self, reset_from_usage
from mistctl.mist.wire import (
    Answer,
    HttpxWire,
    Outcome,
    Query,
    Request,
    Token,
    Wire,
    json_or_none,
    scrub,
    scrub_json,
)

log = logging.getLogger("mistctl.mist")

#: Called before the client waits: (reason, seconds); reason is "budget" or "retry".
WaitHook = Callable[[str, float], None]


class Session:
    """Sends Mist calls through a handed `httpx.AsyncClient`; see the module docstring."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: Sequence[Token],
        *,
        budget: CallBudget,
        clock: Clock,
        meter: CallMeter,
        policy: RetryPolicy,
        rng: random.Random,
        concurrency: int,
        on_wait: WaitHook | None = None,
        owners: dict[str, Owner] | None = None,
    ) -> None:
        if not tokens:
            raise ValueError("a Mist client needs at least one API token")
        self.http = http
        self._httpx = HttpxWire(http)
        self._aio: Wire | None = getattr(http, "wire", None)  # build_http_client's aiohttp wire, if it made one
        self.tokens = tuple(tokens)
        self._secrets = tuple(t.secret for t in tokens)
        self.budget = budget
        self.clock = clock
        self.meter = meter
        self.policy = policy
        self._rng = rng
        self._slots = asyncio.Semaphore(concurrency)
        self._on_wait = on_wait
        self.budget_refusals: list[RateLimited] = []  # shared with pinned copies: what gave up on the budget
        self.owners = owners  # token fingerprint -> owner, shared by the process's clients (None: not asked)
        self._unlearned = owners is not None
        self._owner_lock = asyncio.Lock()
        if owners:
            self.regroup({k: o.budget for k, o in owners.items()})

    def pinned(self, key: str) -> Session:
        """A session that sends with one token only (sharing budget, meter and connection slots)."""
        chosen = [t for t in self.tokens if t.key == key]
        if not chosen:
            raise ValueError(f"no token with fingerprint {key}")
        twin = copy.copy(self)
        twin.tokens = tuple(chosen)
        return twin

    def regroup(self, budgets: Mapping[str, str]) -> None:
        """Count each token (by fingerprint) against the budget key given for it (its owner's)."""
        self.tokens = tuple(t.drawing_on(budgets.get(t.key, t.budget)) for t in self.tokens)

    def budget_of(self, token_key: str) -> str:
        """The budget key a token (by fingerprint) draws on."""
        return next((t.budget for t in self.tokens if t.key == token_key), token_key)

    async def call(
        self,
        method: str,
        template: str,
        params: Mapping[str, str] | None = None,
        *,
        query: Query | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> Answer:
        """Send one operation; retry what is safe to retry; raise a `MistError` for anything else.

        `template` is the spec's path without /api/v1 (``/sites/{site_id}``), filled from `params`
        (quoted, so an id cannot change the path). POSTs are not retried unless `idempotent`.
        """
        if self._unlearned:
            await self.learn_owners()
        req = Request.of(method, template, params, query, body, idempotent)
        tries = failures = rate_hits = 0
        while True:
            tries += 1
            token, outcome = await self._send_reserved(req, tries)
            if isinstance(outcome, Reply) and outcome.status_code == 429:
                rate_hits += 1
                await self._note_429(req, token, outcome, rate_hits)
                continue
            failures += 1
            delay = self._retry_delay(req, outcome, failures)
            if delay is None:
                return self._finish(req, outcome, token)
            await self._pause("retry", delay)

    async def _send_reserved(self, req: Request, tries: int) -> tuple[Token, Outcome]:
        """Reserve a call and send it within one slot (calls counted but not yet at Mist stay within
        `concurrency`); a wait for the budget's reset holds no slot."""
        while True:
            async with self._slots:
                token, wait = await self._reserve()
                if token is not None:
                    return token, await self._send(req, token, tries)
            if wait > self.policy.max_rate_wait:
                raise self._refused(RateLimited(
                    f"{req.method} {req.path}: the API call budget is spent; it resets in {wait:.0f} s",
                    retry_after=wait,
                    method=req.method,
                    path=req.path,
                ))
            log.info("%s %s: the API call budget is spent; waiting %.1f s for the reset", req.method, req.path, wait)
            await self._pause("budget", self.policy.after_reset(wait, self._rng))

    def _refused(self, exc: RateLimited) -> RateLimited:
        self.budget_refusals[:] = [exc]
        return exc

    async def _reserve(self) -> tuple[Token | None, float]:
        """The first token whose budget (one per owner: tokens of one admin share it) has a call left."""
        waits: dict[str, float] = {}
        for token in self.tokens:
            if token.budget in waits:
                continue
            wait = await self.budget.reserve(token.budget)
            if wait <= 0:
                return token, 0.0
            waits[token.budget] = wait
        return None, min(waits.values())

    async def _send(self, req: Request, token: Token, tries: int) -> Outcome:
        headers = {"Authorization": f"Token {token.secret.get_secret_value()}"}
        start = self.clock.now()
        outcome = await self._wire().send(req.method, req.path, req.query, headers, req.body)
        status = outcome.status_code if isinstance(outcome, Reply) else None
        duration = self.clock.now() - start
        log.debug("%s %s -> %s (try %d, %.3f s)", req.method, req.path, status or "no answer", tries, duration)
        self.meter.record(
            CallRecord(req.method, req.template, req.path, status, outcome_of(status), duration, tries, token.key)
        )
        return outcome

    def _wire(self) -> Wire:
        """aiohttp straight, unless the httpx client has event hooks (a caller watching its traffic) or is
        closed (httpx then refuses the call, as it always did)."""
        if self._aio is None or self.http.is_closed:
            return self._httpx
        hooks = self.http.event_hooks
        return self._httpx if hooks["request"] or hooks["response"] else self._aio

    async def _note_429(self, req: Request, token: Token, resp: Reply, hits: int) -> None:
        """Mark the token's window spent (the next reservation then waits); give up past the limits."""
        retry_after = parse_retry_after(resp.headers.get("Retry-After"), self.clock.now())
        if retry_after is None:  # Mist documents no Retry-After: ask it when the window resets
            retry_after = await reset_from_usage(self._get_unreserved, self.budget, token)
        wait = await self.budget.exhaust(token.budget, retry_after=retry_after)
        if hits > self.policy.max_rate_retries or wait > self.policy.max_rate_wait:
            detail = self.scrub(extract_detail(json_or_none(resp), resp.text))
            raise self._refused(RateLimited(
                f"{req.method} {req.path} -> 429 Too Many Requests after {hits} tries: {detail}",
                retry_after=wait,
                method=req.method,
                path=req.path,
                status=429,
                detail=detail,
            ))
        log.info("%s %s: Mist answered 429; waiting %.1f s for the rate window", req.method, req.path, wait)

    async def _get_unreserved(self, template: str, token: Token) -> Outcome:
        """One GET outside the budget's reservations (metered): the engine's own reads."""
        return await self._send(Request.of("GET", template, None, None, None, None), token, 1)

    async def learn_owners(self, owners: dict[str, Owner] | None = None) -> None:
        """Ask ``GET /self`` whose budget each token not known yet draws on; `owners` is shared by every
        client of the process, so each token is asked once. A token Mist will not describe is budgeted alone."""
        if owners is not None:  # asked explicitly (`group_tokens`): learn into this cache now
            self.owners, self._unlearned = owners, True
        async with self._owner_lock:
            if self.owners is None or not self._unlearned:
                return
            for token in self.tokens:
                if token.key not in self.owners:
                    owner = await owner_from_self(self._get_unreserved, self.budget, token)
                    if owner is not None:
                        self.owners[token.key] = owner
            self.regroup({k: o.budget for k, o in self.owners.items()})
            self._unlearned = False

    def _retry_delay(self, req: Request, outcome: Outcome, failures: int) -> float | None:
        if failures >= self.policy.max_attempts:
            return None
        if isinstance(outcome, httpx.RequestError):
            safe = req.retryable or isinstance(outcome, NOTHING_SENT)
        else:
            safe = req.retryable and outcome.status_code in RETRY_STATUSES
        return self.policy.backoff(failures, self._rng) if safe else None

    def _finish(self, req: Request, outcome: Outcome, token: Token) -> Answer:
        if isinstance(outcome, httpx.RequestError):
            raise self._transport_error(req, outcome)
        body = json_or_none(outcome)
        if not 200 <= outcome.status_code < 300:
            body = scrub_json(body, self._secrets)
            detail = self.scrub(extract_detail(body, outcome.text))
            if not req.retryable and outcome.status_code in RETRY_STATUSES:
                raise OutcomeUnknown(
                    f"{req.method} {req.path} -> {outcome.status_code}: the outcome is unknown ({detail}); "
                    "look the object up before trying again",
                    method=req.method,
                    path=req.path,
                    status=outcome.status_code,
                    detail=detail,
                )
            raise status_error(outcome.status_code, method=req.method, path=req.path, detail=detail, body=body)
        if body is None and outcome.content.strip():
            raise MalformedResponse(
                f"{req.method} {req.path} -> {outcome.status_code} but the body is not JSON",
                method=req.method,
                path=req.path,
                status=outcome.status_code,
            )
        return Answer(outcome.status_code, outcome.headers, body, token.key)

    def _transport_error(self, req: Request, exc: httpx.RequestError) -> MistTransportError:
        what = self.scrub(f"{type(exc).__name__}: {exc}".strip())[:300]
        if isinstance(exc, httpx.LocalProtocolError):  # its message quotes the offending header: a token
            what = "LocalProtocolError: the request is not valid HTTP (a header has a character HTTP forbids)"
        if req.retryable or isinstance(exc, NOTHING_SENT):
            return MistTransportError(
                f"{req.method} {req.path}: no answer from Mist ({what})",
                method=req.method,
                path=req.path,
                detail=what,
            )
        return OutcomeUnknown(
            f"{req.method} {req.path}: the request was sent but its answer was lost ({what}); "
            "look the object up before trying again",
            method=req.method,
            path=req.path,
            detail=what,
        )

    async def _pause(self, reason: str, seconds: float) -> None:
        if self._on_wait is not None:
            self._on_wait(reason, seconds)
        await self.clock.sleep(seconds)

    def scrub(self, text: str) -> str:
        """Mask any of the client's tokens that an answer might echo back."""
        return scrub(text, self._secrets)
