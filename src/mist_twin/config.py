"""The twin's configuration: one org, its admin token, the device pool and the fault knobs."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mist_twin.quirks import Quirks


class TwinConfig(BaseModel):
    """How a twin starts. Unset `org_id`/`token` are generated (and persisted with `state_file`)."""

    model_config = ConfigDict(extra="forbid")

    org_id: str | None = None
    token: str | None = Field(default=None, repr=False)  # a secret: never in reprs
    org_name: str = "Twin Org"
    latency_ms: float = Field(default=0, ge=0)
    jitter_ms: float = Field(default=0, ge=0)
    rate_limit: int = Field(default=5000, ge=1)
    rate_window: float = Field(default=3600, gt=0)
    fault_rate: float = Field(default=0, ge=0, le=1)
    drop_rate: float = Field(default=0, ge=0, le=1)
    upgrade_seconds: float = Field(default=5, ge=0)  # how long a device's firmware upgrade takes
    seed: int = 0
    devices_file: Path | None = None
    device_count: int = Field(default=200, ge=0)
    inventory_count: int = Field(default=0, ge=0)
    state_file: Path | None = None
    quirks: Quirks = Field(default_factory=Quirks)  # deviations from modelled Mist (all off)


class Knobs(BaseModel):
    """The settings a running twin can change (`PUT /__twin/faults`): faults, the rate limit, upgrade time."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    latency_ms: float = Field(default=0, ge=0)
    jitter_ms: float = Field(default=0, ge=0)
    fault_rate: float = Field(default=0, ge=0, le=1)
    drop_rate: float = Field(default=0, ge=0, le=1)
    rate_limit: int = Field(default=5000, ge=1)
    rate_window: float = Field(default=3600, gt=0)
    rate_retry_after: bool = True  # a 429 carries Retry-After (Mist documents none)
    usage_when_limited: bool = False  # GET /self/usage answers past the limit (counted, not refused)
    upgrade_seconds: float = Field(default=5, ge=0)

    @classmethod
    def from_config(cls, config: TwinConfig) -> Knobs:
        """The knobs a twin starts with."""
        return cls(**{name: getattr(config, name) for name in cls.model_fields if name in TwinConfig.model_fields})

    def apply(self, changes: Knobs) -> None:
        """Take every value of `changes` (validated already), in place: middlewares hold this object."""
        for name in type(self).model_fields:
            setattr(self, name, getattr(changes, name))
