"""The routes' dependencies, as `Annotated` aliases: the app context and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from mistctl.api.auth import Caller, authenticate, bearer_scheme, mist_key_scheme
from mistctl.api.context import AppContext


def get_ctx(request: Request) -> AppContext:
    """The context built in the app's lifespan."""
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]
MistKey = Annotated[str | None, Security(mist_key_scheme)]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)]


async def get_caller(request: Request, ctx: Ctx, mist_key: MistKey, bearer: Bearer) -> Caller:
    """The authenticated caller (401 otherwise); its actor is kept for the request's log line."""
    caller = await authenticate(ctx, mist_key, bearer, client=client_of(request))
    request.state.actor = caller.actor
    return caller


def client_of(request: Request) -> str:
    """The peer address the throttles count by (uvicorn's, after its trusted proxy headers)."""
    return request.client.host if request.client else "-"


CallerDep = Annotated[Caller, Depends(get_caller)]
