"""Fleets the console holds between two pages, in this process's memory only (never the store, never a page).

A fleet carries PSK passphrases, so the plan page does not send it back to the browser and the state
store never sees it: the plan page keeps the parsed fleet and its plan here under a random id, and the
"Apply this plan" form posts only that id. A deployment the console started keeps its fleet here too,
so its page can retry the failed sites. Entries lapse after `TTL` seconds and at most `LIMIT` are kept;
a service run on several replicas needs sticky sessions for these two actions (the page says so when
the fleet is not held).
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from mistctl.domain.fleet import Fleet

TTL = 3600.0
LIMIT = 32


@dataclass(frozen=True)
class Draft:
    """A planned fleet: who planned it, the fleet (secrets included, never shown) and its saved plan."""

    id: str
    actor: str
    fleet: Fleet = field(repr=False)
    plan: dict[str, Any] = field(repr=False)
    at: float


class Drafts:
    """Planned fleets by draft id, and the fleets of the console's deployments by run id."""

    def __init__(self) -> None:
        self._plans: OrderedDict[str, Draft] = OrderedDict()
        self._runs: OrderedDict[str, tuple[float, Fleet]] = OrderedDict()

    def _trim(self, now: float) -> None:
        while self._plans and (len(self._plans) > LIMIT or next(iter(self._plans.values())).at < now - TTL):
            self._plans.popitem(last=False)
        while self._runs and (len(self._runs) > LIMIT or next(iter(self._runs.values()))[0] < now - TTL):
            self._runs.popitem(last=False)

    def keep(self, actor: str, fleet: Fleet, plan: dict[str, Any]) -> Draft:
        """Hold a planned fleet; its id goes in the apply form."""
        now = time.time()
        draft = Draft(secrets.token_urlsafe(18), actor, fleet, plan, now)
        self._plans[draft.id] = draft
        self._trim(now)
        return draft

    def draft(self, draft_id: str, actor: str) -> Draft | None:
        """The planned fleet, when it is held and was planned with the same service key."""
        self._trim(time.time())
        found = self._plans.get(draft_id)
        return found if found is not None and found.actor == actor else None

    def started(self, run_id: str, fleet: Fleet) -> None:
        """Remember the fleet a deployment applies (for its retry)."""
        now = time.time()
        self._runs[run_id] = (now, fleet)
        self._trim(now)

    def fleet_of(self, run_id: str) -> Fleet | None:
        """The fleet a console deployment applied, when still held."""
        self._trim(time.time())
        held = self._runs.get(run_id)
        return held[1] if held else None


DRAFTS = Drafts()
