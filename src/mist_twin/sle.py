"""Service level expectations (SLEs): per-site values that are plausible, stable, and steerable.

A site's value of a metric is, in order: the override set on `PUT /__twin/sle/{site_id}`, else a value
in 0.90..0.99 seeded by the site id and the metric (the same in every run); minus the `sle_drop` of a
degrading firmware run by one of the site's devices of the family (ap -> wifi, switch -> wired,
gateway -> wan; see firmware.py). The summary's samples are built so that 1 - degraded/total over the
window gives that value back.

A site marked without data (`PUT /__twin/sle/{site_id}` with `{"no_data": true}`: Day 0, devices
claimed but not connected) is left out of the org-wide insights results (their schemas require a
value) and its summaries carry null samples. Summaries split the window into 10-minute intervals up
to 6 h (hourly up to 8 days, then daily); `PUT /__twin/sle-interval` shortens the 10 minutes so a
test over HTTP can soak one interval in seconds.

Mist spells the same SLE two ways: the per-site metric list (`switch_health`, `failed-to-connect`) and
the org-wide insights keys (`switch-health`, `successful-connect`). `METRICS` holds both spellings.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from mist_twin.store import Obj
from mist_twin.timeparse import Window

if TYPE_CHECKING:
    from mist_twin.state import TwinState

OVERRIDES = "sle_overrides"
SETTINGS = "sle_settings"
FAMILIES = ("wifi", "wired", "wan")
FAMILY_OF_TYPE = {"ap": "wifi", "switch": "wired", "gateway": "wan"}
COUNT_KEY = {"wifi": "num_aps", "wired": "num_switches", "wan": "num_gateways"}
_CLASSIFIERS = {
    "wifi": ("weak-signal", "wifi-interference"),
    "wired": ("switch-stp", "congestion"),
    "wan": ("wan-link-latency", "gateway-cpu"),
}


@dataclass(frozen=True)
class Metric:
    """One SLE: its per-site metric name, its org insights key (either may be missing), its family."""

    site_name: str | None
    org_key: str | None
    family: str

    @property
    def key(self) -> str:
        """The name overrides are stored under (the per-site name when there is one)."""
        return self.site_name or self.org_key or ""


METRICS: tuple[Metric, ...] = (
    Metric("time-to-connect", "time-to-connect", "wifi"),
    Metric("failed-to-connect", "successful-connect", "wifi"),
    Metric("coverage", "coverage", "wifi"),
    Metric("roaming", "roaming", "wifi"),
    Metric("throughput", "throughput", "wifi"),
    Metric("capacity", "capacity", "wifi"),
    Metric("ap-health", "ap-health", "wifi"),
    Metric("ap-availability", "ap-availability", "wifi"),
    Metric("switch_health", "switch-health", "wired"),
    Metric("switch_throughput", "switch-throughput", "wired"),
    Metric("switch_stc", None, "wired"),
    Metric(None, "switch-bandwidth", "wired"),
    Metric("gateway-health", "gateway-health", "wan"),
    Metric("wan-link-health", "wan-link-health", "wan"),
    Metric("application_health", "application_health", "wan"),
)
#: Every spelling (site name or org key) -> its metric.
BY_NAME: dict[str, Metric] = {
    name: metric for metric in METRICS for name in (metric.site_name, metric.org_key) if name
}
SITE_METRIC_NAMES: tuple[str, ...] = tuple(m.site_name for m in METRICS if m.site_name)


@lru_cache(maxsize=1 << 16)  # pure, and an org-wide answer asks for 8 per site
def seeded_value(site_id: str, key: str) -> float:
    """A plausible SLE value in 0.90..0.99, the same for the same site and metric in every run."""
    digest = hashlib.sha256(f"{site_id}/{key}".encode()).digest()
    return round(0.90 + int.from_bytes(digest[:4], "big") % 9001 / 100_000, 4)


def overrides_of(twin: TwinState, site_id: str) -> dict[str, float]:
    """The values set on `PUT /__twin/sle/{site_id}`, by metric key."""
    row = twin.store.get(OVERRIDES, site_id)
    return dict(row["values"]) if row else {}


def set_overrides(
    twin: TwinState, site_id: str, values: dict[str, float], no_data: bool | None = None
) -> None:
    """Merge values into the site's overrides; `no_data` marks (or clears) a site without SLE data."""
    row = twin.store.get(OVERRIDES, site_id) or {}
    flag = bool(row.get("no_data")) if no_data is None else no_data
    merged = {**overrides_of(twin, site_id), **values}
    twin.store.put(OVERRIDES, site_id, {"site_id": site_id, "values": merged, "no_data": flag})


def has_data(twin: TwinState, site_id: str) -> bool:
    """False for a site marked without SLE data."""
    row = twin.store.get(OVERRIDES, site_id)
    return not (row and row.get("no_data"))


def short_interval(twin: TwinState) -> int | None:
    """The interval set on `PUT /__twin/sle-interval` (seconds), if any."""
    row = twin.store.get(SETTINGS, "interval")
    return int(row["seconds"]) if row else None


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:8], "big")


class SiteView:
    """What SLE answers need about the org's sites, computed once per request (one inventory pass)."""

    def __init__(self, twin: TwinState, drops: dict[tuple[str, str], float]) -> None:
        self.twin = twin
        self.drops = drops
        self._overrides: dict[str, dict[str, float]] = {}
        self.counts: dict[tuple[str, str], int] = {}
        for record in twin.store.all("inventory"):
            if record.get("site_id"):
                key = (record["site_id"], record["type"])
                self.counts[key] = self.counts.get(key, 0) + 1

    def value(self, site_id: str, metric: Metric) -> float:
        """The site's current value of the metric (override or seed, minus firmware drops)."""
        if site_id not in self._overrides:
            self._overrides[site_id] = overrides_of(self.twin, site_id)
        base = self._overrides[site_id].get(metric.key)
        if base is None:
            base = seeded_value(site_id, metric.key)
        return round(max(0.0, min(1.0, base - self.drops.get((site_id, metric.family), 0.0))), 6)

    def devices(self, site_id: str, family: str) -> int:
        """How many devices of the family's type the site has."""
        kind = next(k for k, f in FAMILY_OF_TYPE.items() if f == family)
        return self.counts.get((site_id, kind), 0)

    def values(self, site_id: str) -> dict[str, float]:
        """Every metric's current value, by its stored key (for the control endpoints)."""
        return {metric.key: self.value(site_id, metric) for metric in METRICS}


def insights_row(view: SiteView, site_id: str, family: str) -> Obj:
    """One site's line of `GET /orgs/{org_id}/insights/sites-sle?sle=<family>`."""
    row: Obj = {"site_id": site_id}
    for metric in METRICS:
        if metric.family == family and metric.org_key:
            row[metric.org_key] = view.value(site_id, metric)
    row["num_clients"] = 5 + _seed(site_id, family, "clients") % 196
    row[COUNT_KEY[family]] = view.devices(site_id, family)
    return row


def metrics_answer() -> Obj:
    """`GET /sites/{site_id}/sle/site/{site_id}/metrics`: every per-site metric, all enabled."""
    return {"supported": list(SITE_METRIC_NAMES), "enabled": list(SITE_METRIC_NAMES)}


def _intervals(window: Window, short: int | None = None) -> tuple[int, int]:
    """(interval seconds, sample count) for a window: 10 min up to 6 h, hourly up to 8 days, else daily."""
    span = max(1.0, window.end - window.start)
    interval = 600 if span <= 6 * 3600 else 3600 if span <= 8 * 86400 else 86400
    if short is not None and interval == 600:
        interval = max(short, math.ceil(span / 1000))
    return interval, max(1, math.ceil(span / interval))


def _series(value: float, rng: random.Random, count: int, interval: int) -> tuple[list[float], list[float]]:
    """(total, degraded) user-minutes per interval whose overall 1 - degraded/total is `value`."""
    scale = interval / 3600
    total = [round(rng.uniform(800, 1500) * scale, 2) for _ in range(count)]
    weights = [rng.uniform(0.5, 1.5) for _ in range(count)]
    raw = [t * w for t, w in zip(total, weights, strict=True)]
    factor = (1 - value) * sum(total) / sum(raw) if sum(raw) > 0 else 0.0
    degraded = [min(t, r * factor) for t, r in zip(total, raw, strict=True)]
    # An interval clipped at its total (a low value, a heavy weight) would leave the overall above `value`:
    # what it could not hold goes to the others in proportion to their room (never past their totals).
    short = (1 - value) * sum(total) - sum(degraded)
    room = [t - d for t, d in zip(total, degraded, strict=True)]
    if short > 0 and sum(room) > 0:
        degraded = [d + r * min(1.0, short / sum(room)) for d, r in zip(degraded, room, strict=True)]
    return total, degraded


def summary(view: SiteView, site_id: str, metric: Metric, window: Window) -> Obj:
    """`GET .../metric/{metric}/summary`: the SLE series over the window, its impact and classifiers."""
    value = view.value(site_id, metric)
    interval, count = _intervals(window, short_interval(view.twin))
    rng = random.Random(_seed(site_id, metric.key, int(window.start) // interval))
    total: list[float | None]
    degraded: list[float | None]
    if has_data(view.twin, site_id):
        made = _series(value, rng, count, interval)
        total, degraded = list[float | None](made[0]), list[float | None](made[1])
    else:
        total, degraded = [None] * count, [None] * count
    values = [round(1 - d / t, 6) if t and d is not None else None for t, d in zip(total, degraded, strict=True)]
    devices = view.devices(site_id, metric.family)
    users = rng.randint(20, 200)
    impact = {
        "num_users": round(users * (1 - value)),
        "num_aps": math.ceil(devices * (1 - value)) if metric.family == "wifi" else 0,
        "total_users": users,
        "total_aps": devices if metric.family == "wifi" else 0,
    }
    sle = {
        "name": metric.site_name or metric.key,
        "x_label": "seconds",
        "y_label": "user-minutes",
        "interval": interval,
        "samples": {"total": total, "degraded": degraded, "value": values},
    }
    return {
        "start": int(window.start),
        "end": int(window.end),
        "sle": sle,
        "impact": impact,
        "classifiers": _classifiers(metric.family, interval, total, degraded, impact),
        "events": [],
    }


def _classifiers(
    family: str, interval: int, total: list[float | None], degraded: list[float | None], impact: Obj
) -> list[Obj]:
    """The degraded minutes split between the family's two classifiers (60/40)."""
    found = []
    for name, share in zip(_CLASSIFIERS[family], (0.6, 0.4), strict=True):
        part = [round(d * share, 4) if d is not None else None for d in degraded]
        found.append(
            {
                "name": name,
                "x_label": "seconds",
                "y_label": "user-minutes",
                "interval": interval,
                "impact": {**impact, "num_users": round(impact["num_users"] * share)},
                "samples": {"total": total, "degraded": part, "duration": [p or 0.0 for p in part]},
            }
        )
    return found
