"""The service's request and response bodies (separate from the domain models and Mist's wire models).

Requests forbid unknown fields, so a misspelt field is a 422 naming it rather than silently ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from mistctl.domain.claim import claim_code_problem, normalise_claim_code

OrgId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,64}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,64}$")]


def _claim_code(value: str) -> str:
    problem = claim_code_problem(value)
    if problem:
        raise ValueError(problem)
    return normalise_claim_code(value)


#: A claim code as printed (dashes, spaces, any case), kept as Mist stores it: 15 letters and digits.
ClaimCode = Annotated[str, StringConstraints(max_length=64), AfterValidator(_claim_code)]
StepStatus = Literal["completed", "failed"]
ObjectAction = Literal["created", "updated", "unchanged", "failed"]

ORG_ID_HELP = "The Mist org id; defaults to the service's org (MIST_ORG_ID, or the built-in twin's)."


TAKE_HELP = ("Change org objects another fleet or the service's design owns, and take them over (as "
             "`mistctl apply --take-ownership`); without it they are conflicts and nothing is written")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrgRequest(_Request):
    """A request about one org."""

    org_id: OrgId | None = Field(default=None, description=ORG_ID_HELP)


class StepRequest(OrgRequest):
    """One org-level step of the design."""

    take_ownership: bool = Field(default=False, description=TAKE_HELP)


class SiteRequest(OrgRequest):
    """One site of the org design: its name, zone and number in the zone, and optional site fields."""

    site_name: Name = Field(description="The site's name in Mist", examples=["Branch-NYC-001"])
    zone_id: int = Field(ge=0, le=65535, description="The zone (region) of the design", examples=[1])
    site_id: int = Field(ge=0, le=1_000_000, description="The site's number inside its zone", examples=[5])
    address: Annotated[str, StringConstraints(max_length=512)] | None = None
    country_code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    vars: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")],
               Annotated[str, StringConstraints(max_length=256)]] = Field(
        default_factory=dict, max_length=100, description="Site variables of the design's own (not planned)")
    take_ownership: bool = Field(default=False, description=TAKE_HELP)


class FullStackRequest(SiteRequest):
    """The 13 steps for one site: the site request plus the devices to claim and assign."""

    device_serials: list[Code] = Field(default_factory=list, max_length=1000,
                                       description="Serials of devices already in the org inventory")
    claim_codes: list[ClaimCode] = Field(default_factory=list, max_length=1000, description="Claim codes to claim")


class FullStackResponse(BaseModel):
    """Where the 13-step workflow of one site stands."""

    site_id: str = Field(description="zone-number of the site", examples=["1-5"])
    status: StepStatus
    current_step: int = Field(description="13 when completed; else the step that failed")
    total_steps: int = 13
    message: str


class ConvergedObject(BaseModel):
    """One Mist object a step converged."""

    kind: str
    name: str
    mist_id: str | None
    action: ObjectAction


class StepResponse(BaseModel):
    """What one step did: the objects it converged, and the run that recorded the writes (if any)."""

    step: int
    name: str
    status: StepStatus
    message: str
    run_id: str | None
    objects: list[ConvergedObject]
    variables: dict[str, str] | None = Field(default=None, description="The site's variables (site routes)")


class DevicesRequest(OrgRequest):
    """Assign devices already in the org inventory to a site."""

    site_name: Name
    device_serials: list[Code] = Field(default_factory=list, max_length=1000)
    macs: list[Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f:.-]{12,17}$")]] = Field(
        default_factory=list, max_length=1000)


class ZtpRequest(OrgRequest):
    """Claim devices (claim codes, or an order's activation code) and assign them to a site."""

    site_name: Name
    claim_codes: list[ClaimCode] = Field(default_factory=list, max_length=1000)
    activation_code: Code | None = None


class DevicesResponse(BaseModel):
    """Devices placed on a site."""

    status: Literal["completed", "failed", "pending"] = Field(
        description="pending: an order's devices are not shipped yet; the same call made later assigns them")
    site_name: str
    site_id: str
    assigned: list[str]
    already_assigned: list[str]
    claimed: list[str]
    pending: list[str] = Field(default_factory=list, description="MACs of ordered devices not shipped yet")
    errors: list[str]
    message: str
    run_id: str | None


class ProbeCheck(BaseModel):
    name: str
    ok: bool | None
    detail: str


class PrivilegeView(BaseModel):
    scope: str
    role: str
    org_id: str | None = None
    site_id: str | None = None
    name: str | None = None


class ProbeResponse(BaseModel):
    """Can this token provision this org: the checks, the token's privileges and its calls left."""

    ok: bool
    org_id: str | None
    org_name: str | None
    who: str | None
    token: str = Field(description="The token's fingerprint (never the token)")
    checks: list[ProbeCheck]
    privileges: list[PrivilegeView]
    calls_left: int | None


class FleetRequest(OrgRequest):
    """A fleet file: its YAML text, or the same as a JSON object."""

    fleet: str | dict[str, Any] = Field(description="The fleet file's YAML text, or its content as an object")
    files: dict[str, str] = Field(default_factory=dict, max_length=100,
                                  description="The CSV files the fleet names (`csv: sites.csv`): name to text")
    fleet_file: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = Field(
        default=None, description="The fleet file's name (a multipart upload sends it): the owner of the org "
                                  "objects the fleet writes when it has no `name:`")
    take_ownership: bool = Field(default=False, description=TAKE_HELP)


class PlanRequest(FleetRequest):
    """A fleet to plan, optionally only part of it (as `mistctl plan --site/--kind`)."""

    sites: list[Name] | None = Field(default=None, max_length=100, description=(
        "Only these sites (names or globs such as `Store-NYC-*`) and what they depend on; 422 on one that "
        "matches no site"), examples=[["Store-NYC-*"]])
    kinds: list[Name] | None = Field(default=None, max_length=20, description=(
        "Only these kinds (`wlan`, `wlantemplate`, `sitegroup`, `site`, `device`...) and what they depend on; "
        "422 on an unknown kind. A targeted plan never deletes"), examples=[["wlan"]])


class DeploymentRequest(PlanRequest):
    """Apply a fleet (or exactly a plan saved from POST /plans) in the background."""

    plan: dict[str, Any] | None = Field(default=None, description="A plan from POST /plans to apply exactly")
    concurrency: int = Field(default=8, ge=1, le=64, description="Sites in parallel")
    allow_delete: bool = Field(default=False, description=(
        "Delete the managed objects the fleet no longer names (as `mistctl apply --allow-delete`); "
        "without it they are kept and listed"))
    release_devices: bool = Field(default=False, description=(
        "With allow_delete: unassign a removed site's devices back to the org inventory, then delete it"))
    unclaim: bool = Field(default=False, description=(
        "With release_devices: unclaim those devices instead (out of the org inventory, claimable again)"))

    @model_validator(mode="after")
    def _release_needs_delete(self) -> DeploymentRequest:
        if self.release_devices and not self.allow_delete:
            raise ValueError("release_devices goes with allow_delete: set both to delete a site with devices")
        if self.unclaim and not self.release_devices:
            raise ValueError("unclaim goes with release_devices (and allow_delete)")
        if self.allow_delete and (self.sites or self.kinds):
            raise ValueError("allow_delete does not go with sites/kinds: a targeted deployment never deletes")
        return self


class RunView(BaseModel):
    """A run as the state store records it (CLI and service runs alike)."""

    id: str
    kind: str
    org_id: str
    status: str
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, int]
    error: str | None


class DeploymentAccepted(BaseModel):
    """A deployment started in the background."""

    id: str
    status: str
    org_id: str
    links: dict[str, str]


class RollbackRequest(BaseModel):
    """`POST /deployments/{id}/rollback`: plan only (`dry_run`), or roll back (also what changed since, `force`)."""

    model_config = ConfigDict(extra="forbid")

    dry_run: bool = False
    force: bool = False


class StepProgress(BaseModel):
    step: int
    name: str
    done: int
    failed: int


class SiteProgress(BaseModel):
    name: str
    status: str
    site_id: str | None
    failed_step: int | None
    error: str | None


class DeploymentView(BaseModel):
    """A run with its progress per step and per site."""

    run: RunView
    steps: list[StepProgress]
    sites: list[SiteProgress]


class StepRecordView(BaseModel):
    step: int
    kind: str
    key: str
    status: str
    mist_id: str | None
    error: str | None
    run_id: str
    updated_at: datetime


class SiteView(BaseModel):
    """A site's recorded state and its step records."""

    name: str
    org_id: str
    status: str
    site_id: str | None
    zone: str | None
    number: int | None
    last_run_id: str | None
    failed_step: int | None
    error: str | None
    steps: list[StepRecordView]


class ErrorBody(BaseModel):
    """Every error answer: `detail` names the problem; some carry more fields."""

    model_config = ConfigDict(extra="allow")
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No credentials, or credentials refused"},
    403: {"model": ErrorBody, "description": "No write privilege on the org"},
    413: {"model": ErrorBody, "description": "The body is over 1 MiB"},
    422: {"model": ErrorBody, "description": "A malformed body, or a site the design cannot place"},
    429: {"model": ErrorBody, "description": "The Mist API rate limit is reached (see Retry-After)"},
    502: {"model": ErrorBody, "description": "Mist answered with an unexpected error"},
    503: {"model": ErrorBody, "description": "Mist or the state store cannot be reached"},
}
NO_SITE: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "The site is not in the org (create it with POST /sites)"},
}
BUSY: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "The site is being deployed by another run (named in `run_id`)"},
}
