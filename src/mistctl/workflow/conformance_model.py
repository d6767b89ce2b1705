"""`mistctl conformance`: the assumptions it checks, what it found, and the port it drives Mist through.

Each assumption is one thing mistctl relies on (or that the twin models) about how Mist behaves. An
assumption that *differs* on the user's org is reported with what was seen and what mistctl does
about it. `relied` ones make the run fail (exit 1); the others are ones mistctl is written to be
correct under either answer (it still reports them: the twin models the other answer).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from mistctl.mist.models import ApiUsage, SelfInfo
from mistctl.workflow.ports import CallCounter

#: The most calls a conformance run may spend (it needs 18 when nothing is retried).
CALL_CAP = 40
PREFIX = "mistctl-conformance-"


@dataclass(frozen=True)
class Assumption:
    """One checked assumption: its text, whether mistctl depends on it, and what mistctl does if it differs."""

    key: str
    text: str
    if_differs: str
    relied: bool = True


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption("token_owner", "GET /self names the token's owner and grants it write on the org",
               "mistctl cannot provision this org with this token: use an org admin or write token"),
    Assumption("usage_fields", "GET /self/usage answers request_limit, requests and seconds",
               "mistctl counts its own calls and waits out 429s instead of syncing with Mist's count",
               relied=False),
    Assumption("site_create", "POST /orgs/{org_id}/sites answers the new site: its id and the fields sent",
               "apply cannot record the sites it creates: do not apply to this org, and report it"),
    Assumption("site_defaults", "Mist adds no country_code or timezone that the body did not send",
               "none needed: plans compare only the fields the fleet sets", relied=False),
    Assumption("site_update", "PUT /sites/{site_id} changes only the fields sent",
               "updates would drop site fields the fleet leaves unset: apply only to new sites, and report it"),
    Assumption("sitegroup_binding", "a site's sitegroup_ids binds it: the group lists the site in site_ids",
               "WLAN templates applied to site groups may miss sites: bind them to sites in the fleet"),
    Assumption("vars_replace", "PUT /sites/{site_id}/setting with vars replaces the whole vars map",
               "mistctl always sends the complete map, so every wanted variable is right; a variable "
               "removed from the fleet stays on Mist and shows as drift until removed in the Mist UI"),
    Assumption("page_headers", "lists honour limit and answer X-Page-Limit, X-Page-Page and X-Page-Total",
               "mistctl reads on until a short page: lists stay complete, at one more call each",
               relied=False),
    Assumption("psk_keeps_sent_old", "a PSK PUT with passphrase and old_passphrase keeps old_passphrase",
               "a rotation disconnects clients still on the old passphrase: rotate in a maintenance window"),
    Assumption("psk_no_copy_old", "a PSK PUT with only a new passphrase leaves old_passphrase unset "
               "(Mist copies nothing by itself)",
               "none needed: mistctl sends old_passphrase itself with every rotation", relied=False),
    Assumption("psk_delete_old", "POST .../delete_old_passphrase clears old_passphrase",
               "a finished rotation leaves the old passphrase valid: clear it in the Mist UI"),
)
BY_KEY = {a.key: a for a in ASSUMPTIONS}


@dataclass
class Finding:
    """One assumption's outcome: holds (True), differs (False) or not checked (None), and what was seen."""

    key: str
    holds: bool | None = None
    saw: str = "not checked"

    @property
    def assumption(self) -> Assumption:
        return BY_KEY[self.key]

    def to_json(self) -> dict[str, Any]:
        a = self.assumption
        outcome = {True: "holds", False: "differs", None: "not checked"}[self.holds]
        return {"assumption": a.key, "text": a.text, "outcome": outcome, "saw": self.saw, "relied": a.relied,
                "mistctl_does": a.if_differs if self.holds is False else ""}


@dataclass
class Made:
    """An object the run creates, recorded before the create is sent (its id once Mist answers)."""

    collection: str
    name: str
    id: str | None = None


@dataclass
class ConformanceReport:
    """The whole run: findings, calls spent, what it created and whether it is all gone again."""

    org_id: str
    run_name: str
    findings: dict[str, Finding] = field(default_factory=lambda: {a.key: Finding(a.key) for a in ASSUMPTIONS})
    made: list[Made] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)
    calls: int = 0
    error: str | None = None
    interrupted: bool = False

    def record(self, key: str, holds: bool, saw: str) -> None:
        self.findings[key] = Finding(key, holds, saw)

    @property
    def differing(self) -> list[Finding]:
        """Relied-on assumptions that differ (the ones that fail the run)."""
        return [f for f in self.findings.values() if f.holds is False and f.assumption.relied]

    @property
    def ok(self) -> bool:
        """Every relied-on assumption holds, the run finished and left nothing behind."""
        finished = self.error is None and not self.interrupted
        return finished and not self.differing and not self.left_behind

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "org_id": self.org_id, "run_name": self.run_name, "calls": self.calls,
                "call_cap": CALL_CAP, "error": self.error, "interrupted": self.interrupted,
                "assumptions": [f.to_json() for f in self.findings.values()],
                "created": [asdict(m) for m in self.made], "left_behind": self.left_behind}


class ConformanceApi(Protocol):
    """The part of `MistClient` a conformance run calls."""

    @property
    def calls(self) -> CallCounter: ...

    async def get_self(self) -> SelfInfo: ...
    async def get_usage(self) -> ApiUsage: ...
    async def create_org(self, org_id: str, collection: str, body: Any, **query: Any) -> dict[str, Any]: ...
    async def get_org(self, org_id: str, collection: str, obj_id: str) -> dict[str, Any]: ...
    async def update_org(
        self, org_id: str, collection: str, obj_id: str, body: dict[str, Any]
    ) -> dict[str, Any]: ...
    async def delete_org(self, org_id: str, collection: str, obj_id: str) -> None: ...
    async def list_org(self, org_id: str, collection: str, **query: Any) -> list[dict[str, Any]]: ...
    async def list_org_page(
        self, org_id: str, collection: str, *, page: int, limit: int
    ) -> tuple[list[dict[str, Any]], dict[str, str]]: ...
    async def get_site(self, site_id: str) -> dict[str, Any]: ...
    async def update_site(self, site_id: str, body: dict[str, Any]) -> dict[str, Any]: ...
    async def delete_site(self, site_id: str) -> None: ...
    async def get_site_setting(self, site_id: str) -> dict[str, Any]: ...
    async def update_site_setting(self, site_id: str, body: dict[str, Any]) -> dict[str, Any]: ...
    async def delete_old_passphrase(self, org_id: str, psk_id: str) -> dict[str, Any]: ...
