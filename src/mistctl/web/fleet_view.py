"""The fleet page's data: counts per state, one page of sites, the last deployments; no Mist calls.

Counts and pages come from the store's own queries (`count_site_states_by_status`, and
`list_site_states` with the state filter, an offset and a limit), so a page of 100 costs the same at
2,000 sites as at 20. The store port has no zone or name filter: a zone filter or a search reads the
state-filtered sites in pages (`api.views.site_states`) and keeps the matches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

from mistctl.api.views import site_states
from mistctl.store.models import SITE_STATUSES, Run, SiteState, SiteStatus
from mistctl.store.port import StateStore
from mistctl.workflow.runlock import shown_status

PAGE_SIZE = 100
RECENT_RUNS = 6
MAX_QUERY = 100


@dataclass(frozen=True)
class FleetQuery:
    """What the fleet page was asked for: a state, a zone, a search text and a page number (from 1)."""

    status: SiteStatus | None = None
    zone: str | None = None
    q: str = ""
    page: int = 1

    @classmethod
    def parse(cls, status: str | None, zone: str | None, q: str | None, page: str | None) -> FleetQuery:
        """From query parameters; anything unusable is ignored rather than refused (a page is for reading)."""
        state = next((s for s in SITE_STATUSES if s == status), None)
        number = int(page) if page and page.isdigit() else 1
        zone_id = zone.strip() if zone and zone.strip().isdigit() else None
        return cls(state, zone_id, (q or "").strip()[:MAX_QUERY], max(1, number))

    @property
    def filtered(self) -> bool:
        """Whether a zone or a search narrows the list (both need a scan)."""
        return bool(self.zone or self.q)

    def link(self, **changes: object) -> str:
        """The fleet page's URL with these parameters changed (empty ones left out)."""
        values = {"status": self.status, "zone": self.zone, "q": self.q, "page": self.page, **changes}
        if values.get("page") == 1:
            values["page"] = None
        return "/ui" + (f"?{query}" if (query := urlencode({k: v for k, v in values.items() if v})) else "")


@dataclass(frozen=True)
class RunRow:
    """A deployment with its progress in sites."""

    run: Run
    done: int
    failed: int
    total: int

    @property
    def percent(self) -> int:
        """Sites finished (done or failed) as a percentage of the run's sites."""
        if not self.total:
            return 100 if self.run.is_terminal else 0
        return min(100, round(100 * (self.done + self.failed) / self.total))


@dataclass
class FleetPage:
    """Everything the fleet page shows."""

    org_id: str | None
    query: FleetQuery
    counts: dict[str, int]
    matched: int
    sites: list[SiteState]
    runs: list[RunRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.matched / PAGE_SIZE))

    @property
    def first(self) -> int:
        """1-based position of the first site shown."""
        return (self.query.page - 1) * PAGE_SIZE + 1 if self.sites else 0


def run_row(run: Run) -> RunRow:
    """A run's progress from its counters."""
    done, failed, total = (run.counts.get(f"sites_{k}", 0) for k in ("done", "failed", "total"))
    return RunRow(run, done, failed, total)


async def fleet_page(store: StateStore, org_id: str | None, query: FleetQuery) -> FleetPage:
    """The counts, the asked page of sites and the recent deployments."""
    counts = await store.count_site_states_by_status(org_id)
    offset = (query.page - 1) * PAGE_SIZE
    if query.filtered:
        found = [s async for s in site_states(store, org_id, query.status) if _matches(s, query)]
        matched, sites = len(found), found[offset:offset + PAGE_SIZE]
    else:
        matched = counts.get(query.status, 0) if query.status else sum(counts.values())
        sites = await store.list_site_states(org_id, query.status, offset=offset, limit=PAGE_SIZE)
    runs = [run_row(r) for r in await shown_status(store, await store.list_runs(limit=RECENT_RUNS))
            if org_id is None or r.org_id == org_id]
    return FleetPage(org_id, query, counts, matched, sites, runs)


async def all_sites(store: StateStore, org_id: str | None) -> list[SiteState]:
    """Every recorded site of the org (for the address plan, which places them all)."""
    return [s async for s in site_states(store, org_id)]


def _matches(state: SiteState, query: FleetQuery) -> bool:
    if query.zone is not None and state.zone != query.zone:
        return False
    return not query.q or query.q.casefold() in state.name.casefold()
