"""Assurance: is each site's user experience above its SLE threshold?

The org-wide insights call (`GET /orgs/{org_id}/insights/sites-sle?sle=wifi|wired|wan`) answers every
site at once, so a health check costs one call per SLE family (plus a page per 1000 sites), never one
per site; per-site metric summaries are read only for the sites asked in detail.

Each site ends `pass`, `fail` (a metric below the threshold, or not in the org) or `no-data`: a site
with no SLE value at all (Day 0: devices claimed but not connected yet; Mist leaves such a site out of
the insights results) is never `pass`. A family whose devices the site does not have (`num_aps` 0...)
has no data there and cannot fail. Metric names are the insights call's spelling (`switch-health`) in
every output, detail included; `--metrics` takes either spelling. A failing site is recorded
`sle_failed` in the state store with its values.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mistctl.errors import UserError
from mistctl.mist.errors import MistError
from mistctl.mist.models_day2 import ORG_SLE_KEYS, SITE_METRIC_OF, SiteSle, SleSummary
from mistctl.store.models import SiteState, SleCheck, utcnow
from mistctl.store.port import StateStore

DEFAULT_THRESHOLD = 0.9
DEFAULT_INTERVAL = 600.0  # Mist's SLE summaries of windows up to hours come in 10-minute intervals
COUNT_KEYS = {"wifi": "num_aps", "wired": "num_switches", "wan": "num_gateways"}
_ORG_KEY_OF = {site: org for org, site in SITE_METRIC_OF.items()}


class SleApi(Protocol):
    """The SLE calls of `mistctl.mist.MistClient`."""

    async def get_org_sites_sle(self, org_id: str, sle: str, **query: Any) -> list[SiteSle]: ...

    async def get_site_sle_trend(self, site_id: str, metric: str, *, duration: str | None = None) -> SleSummary: ...


class SiteLister(SleApi, Protocol):
    """The SLE calls and the org's site list."""

    async def list_org(self, org_id: str, collection: str, **query: Any) -> list[dict[str, Any]]: ...


@dataclass
class SiteHealth:
    """One site's SLE values (metric -> value, None: no data) and the metrics below the threshold."""

    name: str
    site_id: str | None
    values: dict[str, float | None] = field(default_factory=dict)
    failing: dict[str, float] = field(default_factory=dict)
    detail: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: bool = False  # not in the live org
    no_data_families: list[str] = field(default_factory=list)  # families Mist had no line for

    @property
    def status(self) -> str:
        """`fail` (below the threshold, or not in the org), `no-data` (no value at all), or `pass`."""
        if self.failing or self.missing:
            return "fail"
        return "pass" if any(v is not None for v in self.values.values()) else "no-data"

    @property
    def ok(self) -> bool:
        return self.status == "pass"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "site_id": self.site_id, "status": self.status, "ok": self.ok,
                "missing": self.missing, "failing": self.failing, "values": self.values,
                "no_data_families": self.no_data_families, "detail": self.detail}


@dataclass
class HealthReport:
    """Every site's health against one threshold, and the Mist calls it took."""

    org_id: str
    threshold: float
    metrics: dict[str, tuple[str, ...]]
    sites: list[SiteHealth] = field(default_factory=list)
    calls: int = 0

    @property
    def failed(self) -> list[SiteHealth]:
        return [s for s in self.sites if s.status == "fail"]

    @property
    def no_data(self) -> list[SiteHealth]:
        return [s for s in self.sites if s.status == "no-data"]

    @property
    def ok(self) -> bool:
        """Every site passes (no-data is not a pass)."""
        return all(s.ok for s in self.sites)

    def passes(self, *, allow_no_data: bool = False) -> bool:
        """No site fails, and (unless `allow_no_data`) every site has data."""
        return not self.failed and (allow_no_data or not self.no_data)

    def to_json(self) -> dict[str, Any]:
        """As `mistctl assure --json` prints it and `GET /assurance/health` answers it."""
        return {"org_id": self.org_id, "threshold": self.threshold, "ok": self.ok,
                "metrics": sorted(k for keys in self.metrics.values() for k in keys),
                "failed": [s.name for s in self.failed], "no_data": [s.name for s in self.no_data],
                "calls": self.calls, "sites": [s.to_json() for s in self.sites]}


def metrics_wanted(names: Sequence[str] | None = None,
                   families: Collection[str] | None = None) -> dict[str, tuple[str, ...]]:
    """SLE family -> the insights keys to gate on; names in either Mist spelling. `UserError` if unknown."""
    chosen = {f: keys for f, keys in ORG_SLE_KEYS.items() if families is None or f in families}
    if not names:
        return chosen
    keys = [_ORG_KEY_OF.get(n, n) for n in names]
    known = {k for ks in ORG_SLE_KEYS.values() for k in ks}
    unknown = [n for n, k in zip(names, keys, strict=True) if k not in known]
    if unknown:
        raise UserError(f"unknown SLE metric {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}")
    found = {f: tuple(k for k in ks if k in keys) for f, ks in ORG_SLE_KEYS.items()}
    return {f: ks for f, ks in found.items() if ks}


def mist_duration(seconds: float) -> str | None:
    """A window Mist understands (`10m`, `2h`) covering `seconds`; None for Mist's default (1d)."""
    if seconds <= 0:
        return None
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    return f"{max(1, math.ceil(seconds / 60))}m"


async def check_health(mist: SleApi, org_id: str, sites: Mapping[str, str | None], *,
                       threshold: float = DEFAULT_THRESHOLD, metrics: dict[str, tuple[str, ...]] | None = None,
                       detail: Collection[str] = (), duration: str | None = None) -> HealthReport:
    """The SLEs of `sites` (name -> Mist site id, None: not in the org) with one org-wide call per family."""
    if not 0 < threshold <= 1:
        raise UserError(f"threshold {threshold} must be above 0 and at most 1 (an SLE is a fraction)")
    wanted = metrics if metrics is not None else metrics_wanted()
    query = {"duration": duration} if duration else {}
    families = list(wanted)
    answers = await asyncio.gather(*(mist.get_org_sites_sle(org_id, f, **query) for f in families))
    rows = {f: {row.site_id: row for row in rows} for f, rows in zip(families, answers, strict=True)}
    report = HealthReport(org_id, threshold, wanted, calls=len(families))
    for name, site_id in sites.items():
        report.sites.append(_site(name, site_id, wanted, rows, threshold))
    for site in report.sites:
        if site.name in detail and site.site_id:
            site.detail = await _detail(mist, site.site_id, wanted, duration)
            report.calls += len(site.detail)
    return report


def _site(name: str, site_id: str | None, wanted: dict[str, tuple[str, ...]],
          rows: dict[str, dict[str, SiteSle]], threshold: float) -> SiteHealth:
    health = SiteHealth(name, site_id, missing=site_id is None)
    for family, keys in wanted.items():
        row = rows[family].get(site_id or "")
        if row is None and site_id is not None:
            health.no_data_families.append(family)
        extra = (row.model_extra or {}) if row is not None else {}
        has_devices = extra.get(COUNT_KEYS[family]) != 0  # an unknown count is taken as data present
        values = row.metrics if row is not None and has_devices else {}
        for key in keys:
            value = values.get(key)
            health.values[key] = value
            if value is not None and value < threshold:
                health.failing[key] = value
    return health


async def _detail(mist: SleApi, site_id: str, wanted: dict[str, tuple[str, ...]],
                  duration: str | None) -> dict[str, dict[str, Any]]:
    keys = [k for ks in wanted.values() for k in ks if k in SITE_METRIC_OF]
    summaries = await asyncio.gather(*(mist.get_site_sle_trend(site_id, SITE_METRIC_OF[k], duration=duration)
                                       for k in keys))
    return {k: {"value": s.value, "worst_classifier": _worst(s.classifiers), "interval": s.sle.interval}
            for k, s in zip(keys, summaries, strict=True)}


async def sle_interval(mist: SleApi, site_id: str, families: Collection[str], duration: str | None) -> float:
    """The interval (seconds) Mist computes the site's SLEs at, read from one summary; 600 if unreadable."""
    keys = [k for f in sorted(families) for k in ORG_SLE_KEYS.get(f, ()) if k in SITE_METRIC_OF]
    if not keys:
        return DEFAULT_INTERVAL
    try:
        summary = await mist.get_site_sle_trend(site_id, SITE_METRIC_OF[keys[0]], duration=duration)
    except MistError:
        return DEFAULT_INTERVAL
    return float(summary.sle.interval) if summary.sle.interval > 0 else DEFAULT_INTERVAL


def _worst(classifiers: list[dict[str, Any]]) -> str | None:
    """The classifier with the most degraded user-minutes (why the SLE is what it is)."""
    def degraded(c: dict[str, Any]) -> float:
        samples = c.get("samples") or {}
        return float(sum(v for v in samples.get("degraded") or [] if isinstance(v, int | float)))

    ranked = sorted(classifiers, key=degraded, reverse=True)
    return str(ranked[0].get("name")) if ranked and degraded(ranked[0]) > 0 else None


async def record_health(store: StateStore, report: HealthReport, *, run_id: str | None = None) -> None:
    """Write each site's SLE values to its state (below threshold: `sle_failed`, passing again: `done`) and
    append them to the site's SLE history (the console's trend)."""
    states, checks = [], []
    for site in report.sites:
        if site.missing:
            continue
        before = await store.get_site_state(report.org_id, site.name)
        states.append(_state(report, site, before, run_id))
        checks.append(SleCheck(org_id=report.org_id, site=site.name, values=dict(site.values),
                               status=site.status, run_id=run_id))
    await store.put_site_states(states)
    await store.append_sle_checks(checks)


def _state(report: HealthReport, site: SiteHealth, before: SiteState | None, run_id: str | None) -> SiteState:
    failing = ", ".join(f"{m} {v:.2f}" for m, v in sorted(site.failing.items()))
    base = before or SiteState(org_id=report.org_id, name=site.name, status="done", site_id=site.site_id)
    update: dict[str, Any] = {"sle": dict(site.values), "site_id": site.site_id or base.site_id}
    if site.failing:
        update |= {"status": "sle_failed", "error": f"SLE below {report.threshold:.2f}: {failing}"}
    elif base.status == "sle_failed":
        update |= {"status": "done", "error": None}
    if run_id is not None:
        update["last_run_id"] = run_id
    return SiteState.model_validate({**base.model_dump(), **update, "updated_at": utcnow()})


async def gate_after_soak(mist: SleApi, store: StateStore, org_id: str, sites: Mapping[str, str | None], *,
                          soak: float, threshold: float = DEFAULT_THRESHOLD, run_id: str | None = None,
                          sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> HealthReport:
    """Wait the soak time, then check the sites' SLEs over that window and record the outcome."""
    if soak > 0:
        await sleep(soak)
    report = await check_health(mist, org_id, sites, threshold=threshold, duration=mist_duration(soak))
    await record_health(store, report, run_id=run_id)
    return report


async def assess(mist: SiteLister, store: StateStore, org_id: str, names: Sequence[str] | None = None, *,
                 threshold: float = DEFAULT_THRESHOLD, metrics: Sequence[str] | None = None,
                 detail: Collection[str] = (), run_id: str | None = None) -> HealthReport:
    """The health of the named sites (every site of the org when None), recorded in the state store."""
    wanted = metrics_wanted(metrics)
    live = {str(s.get("name")): str(s["id"]) for s in await mist.list_org(org_id, "sites")}
    sites: dict[str, str | None] = (
        {n: live.get(n) for n in names} if names is not None else dict(sorted(live.items())))
    report = await check_health(mist, org_id, sites, threshold=threshold, metrics=wanted, detail=detail)
    report.calls += 1
    await record_health(store, report, run_id=run_id)
    return report


def failure_summary(report: HealthReport, *, allow_no_data: bool = False) -> str:
    """The sites that failed (and, unless allowed, those without data) and why, in one line."""
    parts = [f"{s.name} (not in the org: apply it first)" if s.missing else
             f"{s.name} ({', '.join(f'{m} {v:.2f}' for m, v in sorted(s.failing.items()))})"
             for s in report.failed]
    text = f"below the SLE threshold {report.threshold:.2f}: " + "; ".join(parts) if parts else ""
    if report.no_data and not allow_no_data:
        names = ", ".join(s.name for s in report.no_data[:10]) + ("..." if len(report.no_data) > 10 else "")
        text += ("; " if text else "") + (f"no SLE data yet for {names} (devices not connected, or too soon "
                                          "after they came up)")
    return text
