"""Who pays for a token's calls: Mist counts every user token of one admin against that admin's budget.

Mist's documentation (Create API Tokens): "Rate limiting is done by the individual token" for org
tokens, but for user tokens "by the account that is tied to the user": when UserToken1 spends the
5000 calls, UserToken2 and the admin's portal login are locked out too. ``GET /self`` tells the two
apart: a user token answers the admin's ``email``; an org token answers only its ``name`` (spec
`admin`: "email: if admin account is not an Org API Token", "name: for Org API Token only").

So tokens are grouped by owner and the call budget is keyed by the owner: an org token keeps its
own fingerprint as its key, a user token takes ``user-`` and a hash of its admin's email (the email
itself stays out of shared stores such as Redis).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from mistctl.mist.models import SelfInfo

Kind = Literal["user", "org", "unknown"]
USER_TOKEN_HINT = (
    "note: user tokens spend their admin's 5000 calls an hour, and spending them all also locks the admin "
    "out of the Mist portal; an org token (Organization > Settings > API Token) has a budget of its own"
)


@dataclass(frozen=True)
class Owner:
    """The budget a token draws on: its key, the kind of token, and who (an email or a token name)."""

    budget: str
    kind: Kind
    who: str


def owner_of(me: SelfInfo, token_key: str) -> Owner:
    """The owner of a token from its ``GET /self`` answer."""
    if me.email:
        digest = hashlib.sha256(me.email.strip().lower().encode()).hexdigest()[:12]
        return Owner(f"user-{digest}", "user", me.email)
    return Owner(token_key, "org", me.name or "org token")


@dataclass(frozen=True)
class TokenGroup:
    """Tokens that share one call budget (one admin's user tokens, or a single org token)."""

    owner: Owner
    tokens: tuple[str, ...]  # fingerprints

    def describe(self) -> str:
        """One line for `probe` and the plan: which tokens share this budget, and whose it is."""
        keys = ", ".join(self.tokens)
        if self.owner.kind == "user":
            what = "share one budget" if len(self.tokens) > 1 else "has the budget"
            return f"token{'s' if len(self.tokens) > 1 else ''} {keys} {what} of user {self.owner.who}"
        if self.owner.kind == "org":
            return f"token {keys} is an org token ({self.owner.who}) with its own budget"
        return f"token {keys}: owner not checked, budgeted alone"


def group_tokens(keys: Sequence[str], owners: Mapping[str, Owner]) -> list[TokenGroup]:
    """The tokens (fingerprints) grouped by budget, in the order of their first token; a token of no
    known owner is a budget of its own."""
    grouped: dict[str, list[str]] = {}
    found: dict[str, Owner] = {}
    for key in keys:
        owner = owners.get(key) or Owner(key, "unknown", "")
        grouped.setdefault(owner.budget, []).append(key)
        found.setdefault(owner.budget, owner)
    return [TokenGroup(found[budget], tuple(members)) for budget, members in grouped.items()]
