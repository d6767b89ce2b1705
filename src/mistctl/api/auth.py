"""Who is calling, and may they change the org they name.

Two ways in (every route but `/healthz`):

* `X-Mist-API-Key: <Mist API token>`: the caller's own token, validated with `GET /self` (the answer or
  the refusal cached briefly by the token's sha256, in a bounded cache) and used for that request's Mist
  calls only. `requested_by` is `mist:<token fingerprint>`.
* `Authorization: Bearer <service key>`: a key from `MISTCTL_API_KEYS` (compared in constant time);
  the request then uses the service's own Mist token. `requested_by` is `key:<first 8 hex of its sha256>`.

Failed credentials and new Mist tokens are throttled per client (`throttle.AuthGuard`: 429, Retry-After).

Then `authorize` checks write privilege (admin or write, at org scope or the org's MSP) on the org the
request names, for the token the request will use: 403 names the org and what the token holds.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Literal

from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from mistctl.api.context import AppContext
from mistctl.api.errors import ApiError
from mistctl.mist.budget import token_fingerprint
from mistctl.mist.errors import Forbidden, MistError, MistTransportError, Unauthorized
from mistctl.mist.models import SelfInfo

MIST_KEY_HEADER = "X-Mist-API-Key"
mist_key_scheme = APIKeyHeader(
    name=MIST_KEY_HEADER, auto_error=False, scheme_name="MistApiKey",
    description="Your own Mist API token; used for this request's Mist calls only.")
bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="ServiceKey",
    description="A service key from MISTCTL_API_KEYS; the service's own Mist token is used.")
_TOKEN_SHAPE = re.compile(r"^[\x21-\x7e]{8,512}$")
_CHALLENGE = {"WWW-Authenticate": f'Bearer realm="mistctl", {MIST_KEY_HEADER}'}


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: who (for records and logs) and the Mist token(s) to act with."""

    actor: str
    via: Literal["service-key", "mist-token"]
    tokens: tuple[SecretStr, ...] = field(repr=False)


@dataclass(frozen=True)
class Access:
    """A caller cleared to change one org."""

    org_id: str
    actor: str
    tokens: tuple[SecretStr, ...] = field(repr=False)


async def authenticate(ctx: AppContext, mist_key: str | None, bearer: HTTPAuthorizationCredentials | None,
                       *, client: str = "-") -> Caller:
    """The caller behind the request's credentials; 401 (JSON, naming the problem) otherwise.

    `client` (the peer address) is throttled (`throttle.AuthGuard`): past its share of failed credentials,
    or of new Mist tokens to validate, it gets 429 with Retry-After and Mist is not asked.
    """
    if mist_key is None and bearer is None:
        raise ApiError(401, f"no credentials: send {MIST_KEY_HEADER}: <your Mist API token>, or "
                            "Authorization: Bearer <a service key from MISTCTL_API_KEYS>", headers=_CHALLENGE)
    ctx.guard.check(client)
    try:
        if mist_key is not None:
            return await _mist_caller(ctx, mist_key.strip(), client)
        assert bearer is not None
        return _service_caller(ctx, bearer.credentials)
    except ApiError as exc:
        if exc.status == 401:
            ctx.guard.failed(client)
        raise


def _service_caller(ctx: AppContext, given: str) -> Caller:
    keys = service_keys(ctx)
    if not keys:
        raise ApiError(401, "this service accepts no service keys (MISTCTL_API_KEYS is not set): "
                            f"send your Mist API token in {MIST_KEY_HEADER} instead", headers=_CHALLENGE)
    match = None
    for key in keys:  # every key is compared, so the time taken does not say which one nearly matched
        if hmac.compare_digest(given.encode(), key.encode()):
            match = key
    if match is None:
        raise ApiError(401, "the service key in Authorization: Bearer is not one of MISTCTL_API_KEYS",
                       headers=_CHALLENGE)
    return Caller(key_id(match), "service-key", tuple(ctx.server_tokens))


def service_keys(ctx: AppContext) -> list[str]:
    """The service keys of `MISTCTL_API_KEYS` (one a line or comma-separated), in the order given."""
    return ctx.settings.service_keys()


def key_id(key: str) -> str:
    """A service key's actor name, `key:<first 8 hex of its sha256>` (records and logs never see the key)."""
    return f"key:{hashlib.sha256(key.encode()).hexdigest()[:8]}"


async def _mist_caller(ctx: AppContext, token: str, client: str) -> Caller:
    if not _TOKEN_SHAPE.match(token):
        raise ApiError(401, f"{MIST_KEY_HEADER} is not a Mist API token (8 to 512 visible characters)",
                       headers=_CHALLENGE)
    secret = SecretStr(token)
    try:
        await ctx.whoami([secret], before_lookup=lambda: ctx.guard.lookup(client))
    except (Unauthorized, Forbidden) as exc:
        raise ApiError(401, f"Mist rejected the token in {MIST_KEY_HEADER} ({exc.status}): check it, or "
                            "create one in the Mist portal (My Account > API Token)",
                       headers=_CHALLENGE) from None
    except MistTransportError as exc:
        raise ApiError(503, f"cannot validate {MIST_KEY_HEADER}: Mist cannot be reached ({exc})") from None
    return Caller(f"mist:{token_fingerprint(secret)}", "mist-token", (secret,))


async def authorize(ctx: AppContext, caller: Caller, org_id: str | None) -> Access:
    """Clear the caller for `org_id` (or the default org); 403 without write privilege, 422 with no org."""
    me = await _identity(ctx, caller)
    org = org_id or ctx.default_org_id or _only_org(me)
    writers = [p for p in me.privileges if p.writes_org(org)]
    if not writers and any(p.scope == "msp" for p in me.privileges):
        msp_id = await _msp_of(ctx, caller, org)
        writers = [p for p in me.privileges if p.writes_org(org, msp_id)]
    if not writers:
        held = sorted({f"{p.role} at {p.scope} scope" for p in me.privileges if p.org_id == org})
        holds = f" (it holds {', '.join(held)})" if held else ""
        whose = "your token" if caller.via == "mist-token" else "the service's Mist token (MIST_APITOKEN)"
        raise ApiError(403, f"{whose} has no write privilege on org {org}{holds}: it needs role admin or "
                            "write at org scope", org_id=org)
    return Access(org, caller.actor, caller.tokens)


def may_see(me: SelfInfo | None, org_id: str) -> bool:
    """True when a token's privileges name the org (service-key callers see every org: me is None)."""
    return me is None or any(p.org_id == org_id for p in me.privileges)


async def identity_of(ctx: AppContext, caller: Caller) -> SelfInfo | None:
    """The caller's own privileges (Mist-token callers); None for service-key callers."""
    return await _identity(ctx, caller) if caller.via == "mist-token" else None


async def _identity(ctx: AppContext, caller: Caller) -> SelfInfo:
    try:
        return await ctx.whoami(caller.tokens)
    except (Unauthorized, Forbidden) as exc:
        if caller.via == "mist-token":
            raise ApiError(401, f"Mist rejected the token in {MIST_KEY_HEADER} ({exc.status})",
                           headers=_CHALLENGE) from None
        raise ApiError(503, f"Mist rejected the service's own token ({exc.status}): fix MIST_APITOKEN"
                       ) from None


async def _msp_of(ctx: AppContext, caller: Caller, org_id: str) -> str | None:
    try:
        org = await ctx.client(caller.tokens).get_organization(org_id)
    except MistError:
        return None
    msp = org.get("msp_id")
    return str(msp) if msp else None


def _only_org(me: SelfInfo) -> str:
    orgs = sorted({p.org_id for p in me.privileges if p.scope == "org" and p.role in ("admin", "write")
                   and p.org_id})
    if len(orgs) == 1:
        return str(orgs[0])
    raise ApiError(422, f"org_id is required: the token can write to {len(orgs)} orgs and the service has "
                        "no default (MIST_ORG_ID)")
