"""The reachability probe: can this token provision this org, and how many calls are left?

Four calls at most: ``GET /self`` (cloud reachable, token valid, privileges), ``GET /orgs/{org_id}``
(org visible), and ``GET /self/usage`` (the budget, which also re-syncs the client's call budget).
Write privilege is an org-scoped (or the org's MSP-scoped) role of admin or write: site and site-group
privileges do not let mistctl create org objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mistctl.mist.client import MistClient
from mistctl.mist.errors import (
    Forbidden,
    MistError,
    MistStatusError,
    NotFound,
    RateLimited,
    Unauthorized,
)
from mistctl.mist.models import ApiUsage, MistObject, Privilege, SelfInfo
from mistctl.mist.owners import Owner, owner_of

REACHABLE = "cloud reachable"
TOKEN = "token valid"
ORG = "org visible"
WRITE = "write privilege"
BUDGET = "API calls left"
CHECKS = (REACHABLE, TOKEN, ORG, WRITE, BUDGET)


@dataclass(frozen=True)
class Check:
    """One line of the probe: passed (True), failed (False) or not reached (None)."""

    name: str
    ok: bool | None
    detail: str = ""


@dataclass
class ProbeResult:
    """What the probe found, check by check, with the token's privileges and budget."""

    token: str  # the token's fingerprint
    org_id: str | None = None
    org_name: str | None = None
    who: str | None = None
    privileges: list[Privilege] = field(default_factory=list)
    usage: ApiUsage | None = None
    owner: Owner | None = None  # whose budget the token draws on (None when GET /self failed)
    checks: dict[str, Check] = field(default_factory=dict)

    def mark(self, name: str, ok: bool | None, detail: str = "") -> None:
        """Record a check's outcome."""
        self.checks[name] = Check(name, ok, detail)

    def check(self, name: str) -> Check:
        """One check's outcome; an unreached one is None, "not checked"."""
        return self.checks.get(name, Check(name, None, "not checked"))

    def rows(self) -> list[Check]:
        """Every check in order."""
        return [self.check(name) for name in CHECKS]

    @property
    def ok(self) -> bool:
        """Reachable, valid token, org visible and writable (the budget is informative only)."""
        return all(self.check(name).ok for name in (REACHABLE, TOKEN, ORG, WRITE))

    @property
    def problems(self) -> list[str]:
        """The failed checks' explanations."""
        return [c.detail for c in self.rows() if c.ok is False]


async def probe(client: MistClient, org_id: str | None = None) -> ProbeResult:
    """Probe the client's first token against `org_id` (found from the privileges when None)."""
    result = ProbeResult(token=client.token_keys[0])
    me = await _who_am_i(client, result)
    if me is None:
        return result
    org_id = _choose_org(me, org_id, result)
    org = await _see_org(client, org_id, result) if org_id is not None else None
    if org_id is not None and org is not None:
        msp_id = org.get("msp_id")
        _judge_write(me, org_id, result, str(msp_id) if msp_id else None)
    await _budget(client, result)
    return result


async def _who_am_i(client: MistClient, result: ProbeResult) -> SelfInfo | None:
    try:
        me = await client.get_self()
    except (Unauthorized, Forbidden) as exc:
        result.mark(REACHABLE, True, "Mist answered")
        result.mark(
            TOKEN,
            False,
            f"Mist rejected the API token ({exc.status}): check MIST_APITOKEN, or create a "
            "new token in the Mist portal (My Account > API Token, or Organization > Settings > API Token)",
        )
        return None
    except RateLimited as exc:
        result.mark(REACHABLE, True, "Mist answered")
        result.mark(TOKEN, None, "unknown: the token's call budget is spent")
        result.mark(BUDGET, False, f"no calls left; the window resets in {_duration(exc.retry_after or 0)}")
        return None
    except MistError as exc:
        result.mark(REACHABLE, False, f"cannot reach Mist: {exc}")
        return None
    result.mark(REACHABLE, True, "Mist answered")
    result.mark(TOKEN, True, f"token of {me.who}")
    result.who = me.who
    result.owner = owner_of(me, result.token)
    result.privileges = list(me.privileges)
    return me


def _choose_org(me: SelfInfo, org_id: str | None, result: ProbeResult) -> str | None:
    if org_id:
        result.org_id = org_id
        return org_id
    orgs = me.org_ids()
    if len(orgs) == 1:
        result.org_id = orgs[0]
        return orgs[0]
    if orgs:
        detail = f"the token sees {len(orgs)} orgs ({', '.join(orgs)}): pass --org-id or set MIST_ORG_ID"
    else:
        detail = "the token has no org-level privilege: pass --org-id or set MIST_ORG_ID"
    result.mark(ORG, False, detail)
    return None


async def _see_org(client: MistClient, org_id: str, result: ProbeResult) -> MistObject | None:
    try:
        org = await client.get_organization(org_id)
    except (NotFound, Forbidden) as exc:
        result.mark(
            ORG,
            False,
            f"org {org_id} is not visible to this token ({exc.status}): check --org-id or MIST_ORG_ID",
        )
        return None
    except MistError as exc:
        result.mark(ORG, False, f"could not read org {org_id}: {exc}")
        return None
    result.org_name = str(org.get("name") or "")
    result.mark(ORG, True, result.org_name or org_id)
    return org


def _judge_write(me: SelfInfo, org_id: str, result: ProbeResult, msp_id: str | None = None) -> None:
    writers = [p for p in me.privileges if p.writes_org(org_id, msp_id)]
    if writers:
        result.mark(WRITE, True, f"role {writers[0].role} at {writers[0].scope} scope")
        return
    held = sorted({f"{p.role} at {p.scope} scope" for p in me.privileges if _concerns(p, org_id)})
    seen = f" (holds {', '.join(held)})" if held else ""
    result.mark(
        WRITE,
        False,
        f"the token cannot change org {org_id}{seen}: mistctl needs role admin or write at "
        "org scope; site and site-group privileges are not enough",
    )


def _concerns(privilege: Privilege, org_id: str) -> bool:
    return privilege.org_id == org_id or privilege.scope == "msp"


async def _budget(client: MistClient, result: ProbeResult) -> None:
    try:
        usage = await client.get_usage()
    except MistStatusError as exc:
        result.mark(BUDGET, None, f"unknown: {exc}")
        return
    except MistError as exc:
        result.mark(BUDGET, None, f"unknown: {exc.message}")
        return
    result.usage = usage
    left = max(0, usage.request_limit - usage.requests)
    resets = f"; resets in {_duration(usage.seconds)}" if usage.seconds is not None else ""
    result.mark(BUDGET, left > 0, f"{left} of {usage.request_limit} calls left this window{resets}")


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    return f"{seconds // 60} min"
