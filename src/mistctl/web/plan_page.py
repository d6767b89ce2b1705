"""The plan page: a pasted or uploaded fleet file, validated, then planned against the live org.

Nothing is written to Mist: `plan_document` reads the org (one list per kind) and diffs it, exactly as
`POST /plans` and `mistctl plan` do. The fleet text is never echoed back into the page (it carries PSK
passphrases); the page shows validation problems (file, line, item, message) or the plan's counts and
changes, whose bodies are left out and whose secret fields are redacted by the plan itself.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from mistctl.api.auth import authorize
from mistctl.api.context import AppContext
from mistctl.api.errors import ApiError
from mistctl.api.services_fleet import plan_document
from mistctl.domain.errors import FleetError, FleetInvalid, Issue
from mistctl.domain.owners import fleet_ownership
from mistctl.domain.parse import parse_fleet
from mistctl.mist.errors import MistError
from mistctl.web.drafts import DRAFTS
from mistctl.web.plan_groups import ChangeGroup, group_changes
from mistctl.web.plan_keep import KeptFleet, keep
from mistctl.web.session import Session, caller_of

CHANGES_SHOWN = 300
MAX_NAME = 80


@dataclass
class PlanOutcome:
    """What the plan page shows after a post: problems, or a plan, or why there is no plan."""

    source: str
    issues: list[Issue] = field(default_factory=list)
    plan: dict[str, Any] | None = None
    error: str | None = None
    draft_id: str | None = None  # the planned fleet held for "Apply this plan" (web.drafts)
    kept: KeptFleet | None = None  # the pasted fleet, secrets masked, back in the form after an error
    kept_lost: bool = False  # pasted, failed, and could not go back without showing a secret

    def keep_pasted(self, ctx: AppContext, session: Session, pasted: str | None) -> None:
        """After an error, keep the pasted text (secrets masked and sealed) for the form."""
        if pasted and (self.issues or self.error):
            self.kept = keep(ctx, session, pasted)
            self.kept_lost = self.kept is None

    @property
    def groups(self) -> list[ChangeGroup]:
        """The changes shown, org objects by kind first, then each site's."""
        return group_changes(self.changes)

    @property
    def changes(self) -> list[dict[str, Any]]:
        return list(self.plan.get("changes", []))[:CHANGES_SHOWN] if self.plan else []

    @property
    def more_changes(self) -> int:
        return max(0, len(self.plan.get("changes", [])) - CHANGES_SHOWN) if self.plan else 0


PASTED, UPLOADED = "pasted fleet", "uploaded fleet"


def source_name(filename: str | None) -> str:
    """How the page names the fleet: the uploaded file's base name, or `pasted fleet`."""
    if not filename:
        return PASTED
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base[:MAX_NAME] or UPLOADED


def decode(data: bytes, source: str) -> str:
    """An uploaded file's text; `FleetInvalid` when it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        message = "is not UTF-8 text: save it as UTF-8 and upload it again"
        raise FleetInvalid([Issue(source, "fleet file", message)]) from None


def _reader(csv_text: str | None) -> Any:
    # The fleet names its CSV file; the one uploaded beside it stands for it, whatever it was called.
    def read(_name: str) -> str:
        if csv_text is None:
            raise OSError(errno.ENOENT, "not uploaded: choose it under 'Sites CSV' or list the sites inline")
        return csv_text

    return read


def validate(text: str, source: str, csv_text: str | None = None) -> tuple[Any, list[Issue]]:
    """The parsed fleet, or the problems (a sites CSV uploaded with it stands for the file it names)."""
    if not text.strip():
        return None, [Issue(source, "fleet file", "is empty: paste a fleet file or choose one to upload")]
    try:
        return parse_fleet(text, source=source, read_file=_reader(csv_text)), []
    except FleetInvalid as exc:
        return None, exc.issues


async def plan_posted(ctx: AppContext, session: Session, text: str, source: str,
                      csv_text: str | None = None) -> PlanOutcome:
    """Validate a posted fleet and, when it is valid, plan it against the live org (no writes)."""
    fleet, issues = await run_in_threadpool(validate, text, source, csv_text)  # CPU work: off the event loop
    if issues:
        return PlanOutcome(source, issues=issues)
    try:
        access = await authorize(ctx, caller_of(ctx, session), fleet.org_id)
        file_name = None if source in (PASTED, UPLOADED) else source
        plan = await plan_document(ctx, access, fleet, fleet_ownership(fleet.name, file_name))
    except ApiError as exc:
        return PlanOutcome(source, error=exc.detail)
    except MistError as exc:
        return PlanOutcome(source, error=f"Mist could not be read, so there is no plan: {exc}")
    except FleetError as exc:
        return PlanOutcome(source, error=str(exc))
    return PlanOutcome(source, plan=plan, draft_id=DRAFTS.keep(session.actor, fleet, plan).id)
