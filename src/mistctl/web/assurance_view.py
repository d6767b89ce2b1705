"""The assurance page's data: each site's SLE per metric, worst first, with its trend over the checks
recorded (`StateStore.sle_history`), a page at a time. No Mist calls: the values are those the last
check (`mistctl assure`, a rollout's gate, `POST /assurance/...`) recorded; sites never checked, or
whose devices sent no data, are listed as `no data` after the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mistctl.store.models import SiteState, SleCheck
from mistctl.store.port import StateStore
from mistctl.web.fleet_view import PAGE_SIZE, all_sites
from mistctl.web.map_view import sle_class
from mistctl.workflow.assure import DEFAULT_THRESHOLD

TREND_CHECKS = 24
SPARK_W, SPARK_H = 120.0, 28.0


@dataclass(frozen=True)
class Trend:
    """A sparkline of the worst value of each check, oldest first (None: that check had no data)."""

    values: list[float | None]
    threshold: float = DEFAULT_THRESHOLD

    def _xy(self, index: int, value: float) -> str:
        step = SPARK_W / max(1, len(self.values) - 1)
        return f"{index * step:.1f},{(1 - value) * (SPARK_H - 4) + 2:.1f}"

    @property
    def points(self) -> str:
        """The polyline's points (checks without data are left out)."""
        return " ".join(self._xy(i, v) for i, v in enumerate(self.values) if v is not None)

    @property
    def last_point(self) -> tuple[str, str] | None:
        """Where the last known value is drawn (a dot marks it)."""
        known = [(i, v) for i, v in enumerate(self.values) if v is not None]
        if not known:
            return None
        x, y = self._xy(*known[-1]).split(",")
        return x, y

    @property
    def threshold_y(self) -> str:
        return f"{(1 - self.threshold) * (SPARK_H - 4) + 2:.1f}"

    @property
    def words(self) -> str:
        """The trend in words (the sparkline's text alternative)."""
        shown = ["no data" if v is None else f"{v:.2f}" for v in self.values]
        return f"worst SLE of the last {len(shown)} checks, oldest first: {', '.join(shown)}"


@dataclass(frozen=True)
class SleRow:
    """One site: its status, its values per metric, its worst value and its trend."""

    site: SiteState
    status: str
    worst: float | None
    trend: Trend | None


@dataclass
class AssuranceView:
    """A page of sites worst first, the metrics seen, and how many sites pass, fail or have no data."""

    metrics: list[str]
    rows: list[SleRow]
    counts: dict[str, int]
    page: int
    pages: int
    threshold: float = DEFAULT_THRESHOLD
    width: float = SPARK_W
    height: float = SPARK_H
    sites_total: int = 0
    first: int = field(default=0)


def worst_of(values: dict[str, float | None] | None) -> float | None:
    """The lowest known value (None when nothing is known)."""
    known = [v for v in (values or {}).values() if v is not None]
    return min(known) if known else None


def _order(site: SiteState) -> tuple[int, float, str]:
    worst = worst_of(site.sle)
    return (1, 0.0, site.name) if worst is None else (0, worst, site.name)


async def assurance_page(store: StateStore, org_id: str | None, page: int) -> AssuranceView:
    """Every site's SLE ordered worst first (no data last); the asked page with its trends."""
    sites = sorted(await all_sites(store, org_id), key=_order)
    counts = dict.fromkeys(("fail", "pass", "no-data"), 0)
    for site in sites:
        counts[sle_class(site.sle)] += 1
    pages = max(1, math.ceil(len(sites) / PAGE_SIZE))
    page = min(max(1, page), pages)
    shown = sites[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    history = await _history(store, org_id, shown)
    rows = [SleRow(s, sle_class(s.sle), worst_of(s.sle), _trend(history.get((s.org_id, s.name), [])))
            for s in shown]
    metrics = sorted({m for s in sites for m in (s.sle or {})})
    return AssuranceView(metrics, rows, counts, page, pages, sites_total=len(sites),
                         first=(page - 1) * PAGE_SIZE + 1 if shown else 0)


async def _history(store: StateStore, org_id: str | None,
                   shown: list[SiteState]) -> dict[tuple[str, str], list[SleCheck]]:
    by_org: dict[str, list[str]] = {}
    for site in shown:
        if org_id is None or site.org_id == org_id:
            by_org.setdefault(site.org_id, []).append(site.name)
    found: dict[tuple[str, str], list[SleCheck]] = {}
    for org, names in by_org.items():
        for name, checks in (await store.sle_history(org, names, last=TREND_CHECKS)).items():
            found[(org, name)] = checks
    return found


def _trend(checks: list[SleCheck]) -> Trend | None:
    return Trend([worst_of(c.values) for c in checks]) if checks else None
