"""Two reads the call engine makes on its own, outside the budget's reservations: whose budget a token
draws on (``GET /self``) and when a spent window resets (``GET /self/usage``, after a 429 without
``Retry-After``). Neither raises: a read Mist will not answer leaves the decision to the caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import ValidationError

from mistctl.mist.budget import CallBudget
from mistctl.mist.models import ApiUsage, SelfInfo
from mistctl.mist.owners import Owner, owner_of
from mistctl.mist.reply import Reply
from mistctl.mist.wire import Outcome, Token, json_or_none

#: Sends one GET (a path without /api/v1) with one token, unreserved: the answer, or the request's error.
Get = Callable[[str, Token], Awaitable[Outcome]]


def _json_of(outcome: Outcome) -> object:
    if not isinstance(outcome, Reply) or outcome.status_code != 200:
        return None
    return json_or_none(outcome)


async def owner_from_self(get: Get, budget: CallBudget, token: Token) -> Owner | None:
    """The token's owner from ``GET /self`` (the call is then counted against the owner's budget)."""
    body = _json_of(await get("/self", token))
    if body is None:
        return None
    try:
        owner = owner_of(SelfInfo.model_validate(body), token.key)
    except ValidationError:
        return None
    await budget.reserve(owner.budget)  # count the call where Mist counts it (a spent window takes nothing)
    return owner


async def reset_from_usage(get: Get, budget: CallBudget, token: Token) -> float | None:
    """Seconds to the reset of the token's window from ``GET /self/usage`` (and the budget re-synced)."""
    body = _json_of(await get("/self/usage", token))
    if body is None:
        return None
    try:
        usage = ApiUsage.model_validate(body)
    except ValidationError:
        return None
    if usage.seconds is None:
        return None
    await budget.sync(token.budget, used=usage.requests, limit=usage.request_limit, reset_in=usage.seconds)
    return max(0.0, usage.seconds)
