"""Request and response bodies of the Day 2 routes (assurance, upgrades, PSK rotation, drift)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from mistctl.api.schemas import FleetRequest, Name, OrgRequest
from mistctl.workflow.assure import DEFAULT_THRESHOLD
from mistctl.workflow.rollout_plan import DEFAULT_WAVES

Duration = Annotated[str, StringConstraints(pattern=r"^\s*[0-9][0-9smhd. ]*$", max_length=32)]
Version = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._+-]{1,64}$")]


class UpgradeRequest(FleetRequest):
    """Roll a firmware version out to the fleet's devices in SLE-gated waves."""

    version: Version | None = Field(default=None, description="The exact firmware version (or rollback_of)",
                                    examples=["0.14.29850"])
    rollback_of: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,64}$")] | None = Field(
        default=None, description="Put the devices this rollout run touched back on their versions before it")
    rollback: bool = Field(default=True, description="On a halt, put the halted wave's devices back")
    device_type: Literal["ap", "switch", "gateway"] | None = Field(default=None, description="Only these devices")
    waves: Annotated[str, StringConstraints(max_length=200)] = Field(
        default=DEFAULT_WAVES, description="Cumulative wave sizes (counts or shares); the first is the canary")
    by: Literal["device", "site"] = Field(default="device", description="Waves of devices, or of whole sites")
    soak: Duration = Field(default="10m", description="How long each wave runs before its SLE gate")
    threshold: float = Field(default=DEFAULT_THRESHOLD, gt=0, le=1, description="Lowest acceptable SLE value")
    max_drop: float = Field(default=0.05, ge=0, le=1, description="Largest SLE fall from the wave's baseline")
    timeout: Duration = Field(default="30m", description="How long a wave's upgrades may take")
    dry_run: bool = Field(default=False, description="Answer the waves (200) and upgrade nothing")


class UpgradeAccepted(BaseModel):
    """A rollout started in the background."""

    id: str
    status: str
    org_id: str
    links: dict[str, str]


class PskRotateRequest(OrgRequest):
    """Rotate PSKs: a new random passphrase each; Mist keeps the old one until `POST /psk/finish`."""

    names: list[Name] = Field(default_factory=list, max_length=1000, description="PSKs by name")
    all: bool = Field(default=False, description="Every PSK of the org")
    grace: Duration = Field(default="24h", description="How long the old passphrase keeps working")
    force: bool = Field(default=False, description="Rotate even a PSK whose previous rotation is not finished")


class RotatedPsk(BaseModel):
    """One PSK's new passphrase: this answer is the only place it is ever shown."""

    name: str
    ssid: str
    passphrase: str
    old_passphrase_until: datetime


class PskRotateResponse(BaseModel):
    """The rotation: the new passphrases (shown once, never stored) and the PSKs that failed."""

    run_id: str
    grace_seconds: float
    rotated: list[RotatedPsk]
    failed: dict[str, str]


class PskFinishRequest(OrgRequest):
    """Remove the old passphrase of rotated PSKs once their grace period is over."""

    names: list[Name] = Field(default_factory=list, max_length=1000, description="PSKs by name")
    all: bool = Field(default=False, description="Every PSK still keeping an old passphrase")
    force: bool = Field(default=False, description="Finish before the grace period is over")


class PskFinishResponse(BaseModel):
    """PSKs whose old passphrase is gone, and those refused (grace not over) or left alone, with why."""

    run_id: str | None
    finished: list[str]
    refused: dict[str, str]
    skipped: dict[str, str]
    failed: dict[str, str]


class DriftFixRequest(FleetRequest):
    """Fix the drift of the org against a fleet; removals only with explicit consent."""

    allow_delete: bool = Field(default=False, description=(
        "Remove what was added by hand inside managed WLAN templates and site groups, and delete the managed "
        "objects the fleet no longer names (else they are kept and listed)"))
    release_devices: bool = Field(default=False, description="With allow_delete: unassign a removed site's "
                                  "devices back to the org inventory, then delete it")


#: Reports are documented by their JSON (`HealthReport.to_json` and friends): free-form objects here.
Report = dict[str, Any]
