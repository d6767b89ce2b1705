"""The Day 2 routes: SLE health, canary firmware rollouts, PSK rotation and drift.

Routes translate HTTP to the workflow functions the CLI's Day 2 commands call (api/services_day2.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from mistctl.api import services_day2 as day2
from mistctl.api.auth import authorize
from mistctl.api.deps import CallerDep, Ctx
from mistctl.api.errors import ApiError
from mistctl.api.schemas import BUSY, ERRORS, FleetRequest, Name, OrgId
from mistctl.api.schemas_day2 import (
    DriftFixRequest,
    PskFinishRequest,
    PskFinishResponse,
    PskRotateRequest,
    PskRotateResponse,
    Report,
    UpgradeAccepted,
    UpgradeRequest,
)
from mistctl.api.services_fleet import ownership_of, parse_fleet_body
from mistctl.workflow.delete import DeleteConsent

router = APIRouter(responses=ERRORS)
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/assurance/health", tags=["day2"], response_model=Report,
            summary="Every site's SLEs against a threshold (one org-wide call per SLE family)")
async def assurance_health(
    ctx: Ctx, caller: CallerDep,
    org_id: Annotated[OrgId | None, Query()] = None,
    site: Annotated[Name | None, Query(description="Only this site, with per-metric summaries")] = None,
    threshold: Annotated[float, Query(gt=0, le=1, description="Lowest acceptable SLE value")] = 0.9,
    metrics: Annotated[str | None, Query(max_length=500, description="Comma-separated SLE metrics")] = None,
) -> Report:
    """`ok` false and `failed` naming the sites below the threshold (recorded `sle_failed` in the store)."""
    access = await authorize(ctx, caller, org_id)
    wanted = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    report = await day2.health(ctx, access, site=site, threshold=threshold, metrics=wanted)
    return report.to_json()


@router.post("/lifecycle/upgrade", tags=["day2"], status_code=202, response_model=UpgradeAccepted,
             responses={**BUSY, 200: {"description": "dry_run: the waves, nothing upgraded"}},
             summary="Roll a firmware version out in SLE-gated waves (in the background)")
async def lifecycle_upgrade(ctx: Ctx, caller: CallerDep, req: UpgradeRequest) -> Any:
    """202 with the run id (follow it at GET /lifecycle/upgrade/{id} or /deployments/{id}/events).

    Wave 1 is the canary; a wave whose SLEs fall below the threshold (or drop from their baseline)
    halts the rollout and leaves later waves untouched. `dry_run`: 200 with the waves.
    """
    fleet = await parse_fleet_body(req.fleet, req.files)
    access = await authorize(ctx, caller, req.org_id or fleet.org_id)
    opts = day2.rollout_options(req)
    if opts.dry_run:
        return JSONResponse(await day2.upgrade_dry_run(ctx, access, fleet, opts))
    run = await day2.enqueue_upgrade(ctx, access, fleet, opts)
    links = {"self": f"/lifecycle/upgrade/{run.id}", "run": f"/deployments/{run.id}",
             "events": f"/deployments/{run.id}/events"}
    return UpgradeAccepted(id=run.id, status=run.status, org_id=run.org_id, links=links)


@router.get("/lifecycle/upgrade/{run_id}", tags=["day2"], response_model=Report,
            responses={404: {"description": "No such rollout"}}, summary="A rollout's status and report")
async def lifecycle_upgrade_report(ctx: Ctx, caller: CallerDep, run_id: Annotated[str, Path(
        pattern=r"^[A-Za-z0-9-]{1,64}$", description="The rollout's run id")]) -> Report:
    """The run's status, and once it ended, which devices run which version and why it stopped."""
    run = await ctx.store.get_run(run_id)
    if run is None or run.kind != "upgrade":
        raise ApiError(404, f"no rollout {run_id!r}: POST /lifecycle/upgrade starts one")
    await authorize(ctx, caller, run.org_id)
    return {"id": run.id, "status": run.status, "error": run.error, "report": run.plan.get("report")}


@router.post("/psk/rotate", tags=["day2"], response_model=PskRotateResponse,
             summary="Rotate PSK passphrases (the new ones are in this answer only)")
async def psk_rotate(ctx: Ctx, caller: CallerDep, req: PskRotateRequest, response: Response) -> PskRotateResponse:
    """Each PSK gets a new random passphrase; Mist keeps the old one until POST /psk/finish.

    Only fingerprints are stored: keep the passphrases from this answer, it is never repeated.
    """
    access = await authorize(ctx, caller, req.org_id)
    response.headers.update(NO_STORE)
    return await day2.rotate(ctx, access, names=req.names, every=req.all, grace=req.grace, force=req.force)


@router.post("/psk/finish", tags=["day2"], response_model=PskFinishResponse,
             summary="Remove the old passphrase of rotated PSKs once their grace period is over")
async def psk_finish(ctx: Ctx, caller: CallerDep, req: PskFinishRequest) -> PskFinishResponse:
    """`refused` names the PSKs whose grace period is not over (retry later, or `force`)."""
    access = await authorize(ctx, caller, req.org_id)
    done = await day2.finish(ctx, access, names=req.names, every=req.all, force=req.force)
    return PskFinishResponse(run_id=done.run_id, finished=done.finished, refused=done.refused,
                             skipped=done.skipped, failed=done.failed)


@router.get("/drift", tags=["day2"], response_model=Report,
            summary="What differs between the live org and the service's design (org objects)")
async def get_drift(ctx: Ctx, caller: CallerDep, org_id: Annotated[OrgId | None, Query()] = None) -> Report:
    """Each difference by object and field (secrets redacted); `drift` false on an untouched org."""
    access = await authorize(ctx, caller, org_id)
    return await day2.drift_report(ctx, access, None)


@router.post("/drift", tags=["day2"], response_model=Report,
             summary="What differs between the live org and a fleet (sites and their settings included)")
async def post_drift(ctx: Ctx, caller: CallerDep, req: FleetRequest) -> Report:
    """As GET /drift, against the fleet in the body; every site's setting is read (one call per site)."""
    fleet = await parse_fleet_body(req.fleet, req.files)
    access = await authorize(ctx, caller, req.org_id or fleet.org_id)
    return await day2.drift_report(ctx, access, fleet, ownership_of(fleet, req))


@router.post("/drift/fix", tags=["day2"], response_model=Report, responses=BUSY,
             summary="Converge the org back to a fleet (a drift-fix run holding the org lock)")
async def post_drift_fix(ctx: Ctx, caller: CallerDep, req: DriftFixRequest) -> Report:
    """The drift report plus `fix`: writes, deleted, kept (with why) and failed. What was added by hand in
    managed WLAN templates and site groups is removed only with `allow_delete: true`."""
    if req.release_devices and not req.allow_delete:
        raise ApiError(422, "release_devices goes with allow_delete")
    fleet = await parse_fleet_body(req.fleet, req.files)
    access = await authorize(ctx, caller, req.org_id or fleet.org_id)
    consent = DeleteConsent(allow_delete=req.allow_delete, release_devices=req.release_devices)
    return await day2.fix_drift(ctx, access, fleet, consent, ownership_of(fleet, req))
