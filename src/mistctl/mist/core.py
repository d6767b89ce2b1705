"""The core of `MistClient`: construction, the generic org-collection calls, pagination, self and usage.

The workflow engine drives Mist through the generic calls (`list_org`, `create_org`, ...) with a
`Kind.collection` from `mistctl.domain.kinds`; the typed methods in the ops modules are thin names
over the same calls.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from mistctl.mist.budget import BudgetState, CallBudget, InMemoryCallBudget
from mistctl.mist.clock import Clock, SystemClock
from mistctl.mist.errors import MalformedResponse, RateLimited
from mistctl.mist.http import DEFAULT_CONCURRENCY
from mistctl.mist.meter import CallMeter, CallRecord, CallStats
from mistctl.mist.models import ApiUsage, MistObject, SelfInfo
from mistctl.mist.owners import Owner, TokenGroup, group_tokens
from mistctl.mist.retry import RetryPolicy
from mistctl.mist.session import Session, WaitHook
from mistctl.mist.wire import Answer, Query, Token

#: Mist's largest page; a list that fits in one page costs one call.
PAGE_SIZE = 1000
_COLLECTION = re.compile(r"^[a-z][a-z_]*[a-z]$")
#: Collections whose objects are addressed outside /orgs/{org_id}/{collection}/{id}.
_ITEM_TEMPLATES = {"sites": ("/sites/{site_id}", "site_id")}
_NO_ITEMS = frozenset({"inventory"})


def collection_template(collection: str) -> str:
    """``/orgs/{org_id}/<collection>`` (without the /api/v1 prefix)."""
    if not _COLLECTION.match(collection):
        raise ValueError(f"{collection!r} is not a Mist collection name (such as 'sitegroups')")
    return f"/orgs/{{org_id}}/{collection}"


def item_template(collection: str) -> tuple[str, str]:
    """The path template of one object of a collection and its id parameter, spelled as in the spec."""
    if collection in _ITEM_TEMPLATES:
        return _ITEM_TEMPLATES[collection]
    if collection in _NO_ITEMS:
        raise ValueError(f"Mist has no per-object path for {collection}; use the inventory methods")
    id_name = f"{collection.removesuffix('s')}_id"
    return f"{collection_template(collection)}/{{{id_name}}}", id_name


def _expect_dict(answer: Answer, what: str) -> MistObject:
    if not isinstance(answer.data, dict):
        raise MalformedResponse(f"{what}: expected a JSON object, got {type(answer.data).__name__}")
    return answer.data


def _expect_list(answer: Answer, what: str) -> list[Any]:
    if not isinstance(answer.data, list):
        raise MalformedResponse(f"{what}: expected a JSON array, got {type(answer.data).__name__}")
    return answer.data


class ClientCore:
    """A Mist API client over a handed `httpx.AsyncClient` (which the caller opens and closes)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: SecretStr | str | Sequence[SecretStr | str],
        *,
        budget: CallBudget | None = None,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        on_wait: WaitHook | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        rng: random.Random | None = None,
        owners: dict[str, Owner] | None = None,
    ) -> None:
        """`owners`: a cache of token owners shared by the process's clients; with it, the first call asks
        ``GET /self`` for each token not in it, so one admin's tokens share one budget in every process."""
        clock = clock or SystemClock()
        many = [tokens] if isinstance(tokens, SecretStr | str) else list(tokens)
        self._meter = CallMeter(on_call)
        self._owners: dict[str, Owner] = owners if owners is not None else {}
        self._session = Session(
            http,
            [Token.of(t) for t in many],
            budget=budget or InMemoryCallBudget(clock),
            clock=clock,
            meter=self._meter,
            policy=policy or RetryPolicy(),
            rng=rng or random.Random(),
            concurrency=concurrency,
            on_wait=on_wait,
            owners=owners,
        )

    def __repr__(self) -> str:
        keys = ", ".join(t.key for t in self._session.tokens)
        return f"{type(self).__name__}(base_url={str(self._session.http.base_url)!r}, tokens=[{keys}])"

    # -- observation -------------------------------------------------------------------------

    @property
    def calls(self) -> CallStats:
        """Every request sent so far (retries and 429s included), by method, outcome and path template."""
        return self._meter.snapshot()

    @property
    def token_keys(self) -> list[str]:
        """The fingerprints of the client's tokens, in the order they are used."""
        return [t.key for t in self._session.tokens]

    def for_token(self, key: str) -> ClientCore:
        """A client that sends with one of this client's tokens only (sharing budget and meter)."""
        twin = copy.copy(self)
        twin._session = self._session.pinned(key)
        return twin

    async def budget_states(self) -> list[BudgetState]:
        """Each budget's state (one per owner: tokens of one admin share one): used, remaining, reset."""
        budgets = dict.fromkeys(t.budget for t in self._session.tokens)
        return [await self._session.budget.state(key) for key in budgets]

    @property
    def rate_limited(self) -> RateLimited | None:
        """The last call that gave up because the budget stayed spent (workflows turn errors into answers;
        the service raises this one again to answer 503)."""
        return self._session.budget_refusals[-1] if self._session.budget_refusals else None

    @property
    def token_groups(self) -> list[TokenGroup]:
        """The tokens grouped by the budget they share (each alone until `group_tokens` ran)."""
        return group_tokens(self.token_keys, self._owners)

    async def learn_owners(self) -> None:
        """Send now the ``GET /self`` the first call would send (one per token not known yet), when this
        client looks owners up at all; the calls after it wait for its answer as they would for that one."""
        await self._session.learn_owners()

    async def group_tokens(self) -> list[TokenGroup]:
        """Ask ``GET /self`` who owns each token not known yet; user tokens of one admin then share one
        budget. One call per such token (none when the first call already asked)."""
        await self._session.learn_owners(self._owners)
        return self.token_groups

    # -- generic org collections ---------------------------------------------------------------

    async def list_org(
        self, org_id: str, collection: str, *, page_size: int = PAGE_SIZE, **query: Any
    ) -> list[MistObject]:
        """All objects of an org collection, following ``X-Page-*`` pages; filters go in `query`."""
        return await self._list(collection_template(collection), {"org_id": org_id}, query, page_size)

    async def list_org_page(
        self, org_id: str, collection: str, *, page: int, limit: int
    ) -> tuple[list[MistObject], dict[str, str]]:
        """One page of an org collection and its ``X-Page-*`` headers, as Mist sent them."""
        answer = await self._session.call(
            "GET", collection_template(collection), {"org_id": org_id}, query={"limit": limit, "page": page}
        )
        pages = ((k.lower(), v) for k, v in answer.headers.items())  # lower-case names, as httpx gave them
        headers = {k: v for k, v in pages if k.startswith("x-page-")}
        return _expect_list(answer, f"list {collection}"), headers

    async def create_org(self, org_id: str, collection: str, body: Any, **query: Any) -> MistObject:
        """Create an object in an org collection (Mist answers 200 with the object and its new id).

        With ``upsert=True`` (PSKs) Mist replaces by name, so a lost answer is retried, not unknown.
        """
        upsert = str(query.get("upsert", "")).lower() == "true"
        answer = await self._session.call(
            "POST",
            collection_template(collection),
            {"org_id": org_id},
            query=query,
            body=body,
            idempotent=upsert,
        )
        return _expect_dict(answer, f"create in {collection}")

    async def get_org(self, org_id: str, collection: str, obj_id: str) -> MistObject:
        """One object of an org collection by id (raises `NotFound`)."""
        template, id_name = item_template(collection)
        answer = await self._session.call("GET", template, {"org_id": org_id, id_name: obj_id})
        return _expect_dict(answer, f"get from {collection}")

    async def update_org(self, org_id: str, collection: str, obj_id: str, body: MistObject) -> MistObject:
        """Update the fields sent (Mist's PUT is a partial update); answers the whole object."""
        template, id_name = item_template(collection)
        answer = await self._session.call("PUT", template, {"org_id": org_id, id_name: obj_id}, body=body)
        return _expect_dict(answer, f"update in {collection}")

    async def delete_org(self, org_id: str, collection: str, obj_id: str, *, retry_lost: bool = True) -> None:
        """Delete one object (Mist answers 200 with no body).

        ``retry_lost=False``: a lost answer (or a 5xx) raises `OutcomeUnknown` instead of being retried
        blindly, so the caller can look the object up first (a second DELETE of a gone object is a 404).
        """
        template, id_name = item_template(collection)
        await self._session.call("DELETE", template, {"org_id": org_id, id_name: obj_id},
                                 idempotent=None if retry_lost else False)

    async def _list(
        self, template: str, params: dict[str, str], query: Query, page_size: int = PAGE_SIZE
    ) -> list[MistObject]:
        """Pages of ``limit``/``page`` until page*limit covers ``X-Page-Total`` (or a short page)."""
        items: list[MistObject] = []
        page = 1
        while True:
            answer = await self._session.call(
                "GET", template, params, query={**query, "limit": page_size, "page": page}
            )
            batch = _expect_list(answer, f"list {template}")
            items.extend(batch)
            if _last_page(answer.headers, page, page_size, len(batch)):
                return items
            page += 1

    # -- self, usage, org ----------------------------------------------------------------------

    async def get_self(self) -> SelfInfo:
        """``GET /self``: the token's identity and privileges."""
        return SelfInfo.model_validate(_expect_dict(await self._session.call("GET", "/self"), "get self"))

    async def get_usage(self) -> ApiUsage:
        """``GET /self/usage``: this token's calls in the current window; also re-syncs its budget."""
        answer = await self._session.call("GET", "/self/usage")
        usage = ApiUsage.model_validate(_expect_dict(answer, "get self usage"))
        await self._session.budget.sync(
            self._session.budget_of(answer.token), used=usage.requests, limit=usage.request_limit,
            reset_in=usage.seconds,
        )
        return usage

    async def sync_budget(self) -> list[BudgetState]:
        """Re-sync every budget from Mist's own count (one call per budget, with its first token)."""
        firsts: dict[str, str] = {}
        for token in self._session.tokens:
            firsts.setdefault(token.budget, token.key)
        for key in firsts.values():
            await self.for_token(key).get_usage()
        return await self.budget_states()

    async def get_organization(self, org_id: str) -> MistObject:
        """``GET /orgs/{org_id}``: the org itself."""
        answer = await self._session.call("GET", "/orgs/{org_id}", {"org_id": org_id})
        return _expect_dict(answer, "get org")


def _last_page(headers: Mapping[str, str], page: int, page_size: int, got: int) -> bool:
    """Mist's page headers decide; without them a short (or empty) page is the last."""
    if got == 0:
        return True
    try:
        total = int(headers["X-Page-Total"])
        limit = int(headers.get("X-Page-Limit", page_size)) or page_size
    except (KeyError, ValueError):
        return got < page_size
    return page * limit >= total
