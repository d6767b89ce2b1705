"""Wire models of the Day 2 answers: SLEs, firmware versions, upgrades and device stats.

Metric names are Mist's, spelled as Mist spells them (inconsistently): the org-wide insights call
keys its results `switch-health` and `application_health` while the per-site metric list says
`switch_health` and `application_health`. `ORG_SLE_KEYS` and `SITE_METRIC_OF` map the two.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mistctl.modelkit import new_dict, new_list

SleFamily = Literal["wifi", "wired", "wan"]

#: The metric keys of `GET /orgs/{org_id}/insights/sites-sle?sle=...` results, per family.
ORG_SLE_KEYS: dict[str, tuple[str, ...]] = {
    "wifi": (
        "time-to-connect",
        "successful-connect",
        "coverage",
        "roaming",
        "throughput",
        "capacity",
        "ap-health",
        "ap-availability",
    ),
    "wired": ("switch-health", "switch-throughput", "switch-bandwidth"),
    "wan": ("gateway-health", "wan-link-health", "application_health"),
}
#: Org insights key -> the per-site metric name (`.../metric/{metric}/summary`) for the same SLE.
#: `switch-bandwidth` has no per-site metric of a known name, so it has no entry.
SITE_METRIC_OF: dict[str, str] = {
    **{key: key for key in ORG_SLE_KEYS["wifi"]},
    "successful-connect": "failed-to-connect",
    "switch-health": "switch_health",
    "switch-throughput": "switch_throughput",
    "gateway-health": "gateway-health",
    "wan-link-health": "wan-link-health",
    "application_health": "application_health",
}
#: The SLE family a device type's firmware affects.
FAMILY_OF_DEVICE_TYPE: dict[str, SleFamily] = {"ap": "wifi", "switch": "wired", "gateway": "wan"}
#: Upgrade statuses after which nothing changes any more.
UPGRADE_FINAL = frozenset({"completed", "failed", "cancelled"})
#: Device `fwupdate.status` values after which nothing changes any more.
FWUPDATE_FINAL = frozenset({"success", "failed", "error", "upgraded"})


def mist_device_id(mac: str) -> str:
    """Mist's device id for a MAC: ``00000000-0000-0000-1000-<mac>``."""
    return f"00000000-0000-0000-1000-{mac.lower().replace(':', '').replace('-', '')}"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class SiteSle(_Wire):
    """One site's line of the org-wide SLE insights; metric values are the hyphenated extra keys."""

    site_id: str
    num_clients: float | None = None

    @property
    def metrics(self) -> dict[str, float]:
        """Metric key -> value (0..1), e.g. ``{"coverage": 0.97, "ap-availability": 1.0}``."""
        extra = self.model_extra or {}
        return {
            key: float(value)
            for key, value in extra.items()
            if not key.startswith("num_") and isinstance(value, int | float) and not isinstance(value, bool)
        }


class SleSamples(_Wire):
    """Per-interval samples: user-minutes in total and degraded, and the SLE value of each interval."""

    total: list[float | None] = Field(default_factory=new_list)
    degraded: list[float | None] = Field(default_factory=new_list)
    value: list[float | None] = Field(default_factory=new_list)


class SleSeries(_Wire):
    """The `sle` part of a summary."""

    name: str
    interval: float
    x_label: str = ""
    y_label: str = ""
    samples: SleSamples = Field(default_factory=SleSamples)


class SleSummary(_Wire):
    """``GET /sites/{site_id}/sle/site/{site_id}/metric/{metric}/summary``."""

    start: float
    end: float
    sle: SleSeries
    impact: dict[str, Any] = Field(default_factory=new_dict)
    classifiers: list[dict[str, Any]] = Field(default_factory=new_list)
    events: list[dict[str, Any]] = Field(default_factory=new_list)

    @property
    def value(self) -> float | None:
        """The SLE over the whole window: 1 - degraded/total user-minutes (None without samples)."""
        samples = self.sle.samples
        total = sum(t for t in samples.total if t)
        if total <= 0:
            return None
        degraded = sum(d for d in samples.degraded if d)
        return max(0.0, min(1.0, 1.0 - degraded / total))


class SleMetrics(_Wire):
    """``GET /sites/{site_id}/sle/site/{site_id}/metrics``: metric names supported and enabled."""

    supported: list[str] = Field(default_factory=new_list)
    enabled: list[str] = Field(default_factory=new_list)


class DeviceVersion(_Wire):
    """One available firmware: model, version and its tag (stable, beta...)."""

    model: str
    version: str
    tag: str | None = None


class DeviceUpgradeStarted(_Wire):
    """``POST /sites/{site_id}/devices/{device_id}/upgrade``: the upgrade's first status."""

    status: str
    timestamp: float


class SiteUpgrade(_Wire):
    """A site-wide upgrade (``GET /sites/{site_id}/devices/upgrade/{upgrade_id}`` or an item of the list).

    ``targets`` (single upgrade) holds MAC lists per state; ``counts`` (list items) holds integers.
    """

    id: str
    status: str | None = None
    strategy: str | None = None
    target_version: str | None = None
    start_time: int | None = None
    current_phase: int | None = None
    targets: dict[str, Any] = Field(default_factory=new_dict)
    counts: dict[str, int] = Field(default_factory=new_dict)
    upgrade_plan: dict[str, Any] = Field(default_factory=new_dict)

    @property
    def finished(self) -> bool:
        """True once the upgrade will not change any more (completed, failed or cancelled)."""
        return self.status in UPGRADE_FINAL


class FirmwareUpdate(_Wire):
    """A device's ``fwupdate`` stat: where its last firmware update stands."""

    status: str | None = None
    progress: int | None = None
    timestamp: float | None = None
    status_id: int | None = None
    will_retry: bool | None = None

    @property
    def finished(self) -> bool:
        """True when the update ended (success or failure)."""
        return self.status in FWUPDATE_FINAL


class DeviceStats(_Wire):
    """``GET /sites/{site_id}/stats/devices/{device_id}``: the fields the Day 2 flows read."""

    id: str | None = None
    mac: str | None = None
    type: str
    model: str | None = None
    name: str | None = None
    version: str | None = None
    status: str | None = None
    site_id: str | None = None
    fwupdate: FirmwareUpdate | None = None
