"""Small wire models for the Mist answers with a fixed shape; open-ended objects stay plain dicts.

Every model ignores fields it does not name (Mist adds fields over time) but keeps them reachable
through ``model_extra``.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mistctl.modelkit import new_list

#: A Mist object as the API answers it: open-ended, so a plain dict.
MistObject = dict[str, Any]

WRITE_ROLES = frozenset({"admin", "write"})


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class ApiUsage(_Wire):
    """``GET /self/usage``: the calling token's count in the current rate window."""

    request_limit: int = 5000
    requests: int = 0
    seconds: float | None = None  # read as seconds until the window resets


class Privilege(_Wire):
    """One entry of ``privileges`` in ``GET /self``."""

    scope: str
    role: str
    name: str | None = None
    org_id: str | None = None
    site_id: str | None = None
    msp_id: str | None = None
    sitegroup_ids: list[str] = Field(default_factory=new_list)
    org_name: str | None = None

    def writes_org(self, org_id: str, msp_id: str | None = None) -> bool:
        """True when this privilege lets the token change org-level objects of `org_id`."""
        if self.role not in WRITE_ROLES:
            return False
        if self.scope == "org":
            return self.org_id == org_id
        return self.scope == "msp" and msp_id is not None and self.msp_id == msp_id


class SelfInfo(_Wire):
    """``GET /self``: who the token is and what it may do."""

    email: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    privileges: list[Privilege] = Field(default_factory=new_list)

    @property
    def who(self) -> str:
        """A name for messages: the email, else the token's name."""
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return self.email or self.name or full or "API token"

    def org_ids(self) -> list[str]:
        """The orgs the token holds an org-scoped privilege on, in the order Mist lists them."""
        return list(dict.fromkeys(p.org_id for p in self.privileges if p.scope == "org" and p.org_id))


def _paired(items: list[str], reasons: list[str]) -> list[tuple[str, str]]:
    """Each refused item with its reason (Mist may send fewer reasons than items)."""
    padded = [r or "no reason given" for r in reasons] + ["no reason given"] * len(items)
    return list(zip(items, padded[: len(items)], strict=True))


class InventoryClaimResult(_Wire):
    """``POST /orgs/{org_id}/inventory``: claim codes added, duplicated or refused (with reasons)."""

    added: list[str] = Field(default_factory=new_list)
    duplicated: list[str] = Field(default_factory=new_list)
    error: list[str] = Field(default_factory=new_list)
    reason: list[str] = Field(default_factory=new_list)
    inventory_added: list[MistObject] = Field(default_factory=new_list)
    inventory_duplicated: list[MistObject] = Field(default_factory=new_list)

    def refusals(self) -> list[tuple[str, str]]:
        """(claim code, reason) for every code Mist refused."""
        return _paired(self.error, self.reason)


class InventoryChangeResult(_Wire):
    """``PUT /orgs/{org_id}/inventory``: per-MAC outcome of an assign/unassign."""

    op: str
    success: list[str] = Field(default_factory=new_list)
    error: list[str] = Field(default_factory=new_list)
    reason: list[str] = Field(default_factory=new_list)

    def refusals(self) -> list[tuple[str, str]]:
        """(MAC, reason) for every device Mist refused."""
        return _paired(self.error, self.reason)


class AssignResult(_Wire):
    """``POST .../deviceprofiles/{id}/assign|unassign``: the MACs that took the change."""

    success: list[str] = Field(default_factory=new_list)


class LicenseClaimResult(_Wire):
    """``POST /orgs/{org_id}/claim``: what an activation code brought in."""

    inventory_added: list[MistObject] = Field(default_factory=new_list)
    inventory_duplicated: list[MistObject] = Field(default_factory=new_list)
    inventory_pending: list[MistObject] = Field(default_factory=new_list)
    license_added: list[MistObject] = Field(default_factory=new_list)
    license_duplicated: list[MistObject] = Field(default_factory=new_list)
    license_error: list[MistObject] = Field(default_factory=new_list)
