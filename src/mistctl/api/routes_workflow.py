"""The workflow routes: the full stack for one site, one route per step, and the lifecycle routes.

Every workflow answer is 200 with `status` "completed" or "failed" (the step and why): a failure is
resumed by calling again. 409 means the site is being deployed by another run (named in the body);
requests for one org wait for each other while they converge its shared org objects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from mistctl.api import services
from mistctl.api.auth import authorize
from mistctl.api.deps import CallerDep, Ctx
from mistctl.api.schemas import (
    BUSY,
    ERRORS,
    NO_SITE,
    DevicesRequest,
    DevicesResponse,
    FullStackRequest,
    FullStackResponse,
    OrgRequest,
    ProbeResponse,
    SiteRequest,
    StepRequest,
    StepResponse,
    ZtpRequest,
)
from mistctl.api.services_fleet import place_site_devices, probe_org
from mistctl.domain import kinds as K
from mistctl.workflow.site_devices import DeviceWanted

router = APIRouter(responses={**ERRORS, **BUSY})
RUN_HEADER = "X-Mistctl-Run"

FULL_STACK_EXAMPLES: dict[str, Any] = {"branch": {"value": {
    "org_id": "2818e386-8dec-2562-9ede-5b8a0fbbdc71", "site_name": "Branch-NYC-001", "zone_id": 1,
    "site_id": 5, "device_serials": ["A1712345678"]}}}


@router.post("/orchestrator/deploy-full-stack", tags=["workflow"], response_model=FullStackResponse,
             summary="The 13-step workflow for one site of the org design")
async def deploy_full_stack(ctx: Ctx, caller: CallerDep, response: Response,
                            req: Annotated[FullStackRequest, Body(openapi_examples=FULL_STACK_EXAMPLES)],
                            ) -> FullStackResponse:
    """Converge the org objects (free when already done), the site, its variables and its devices.

    The same request again is safe and creates nothing; after a failure it resumes from the live org.
    The run id is in the `X-Mistctl-Run` header (see GET /deployments/{id}).
    """
    access = await authorize(ctx, caller, req.org_id)
    answer, run_id = await services.deploy_full_stack(ctx, access, req)
    response.headers[RUN_HEADER] = run_id
    return answer


def _step_route(step: int) -> Callable[..., Awaitable[StepResponse]]:
    async def route(ctx: Ctx, caller: CallerDep, req: StepRequest | None = None) -> StepResponse:
        access = await authorize(ctx, caller, req.org_id if req else None)
        return await services.converge_step(ctx, access, step, take=bool(req and req.take_ownership))

    route.__doc__ = f"Step {step}: converge the design's {_words(step)} and return them."
    route.__name__ = f"step_{step}_{K.STEP_NAMES[step]}"
    return route


def _words(step: int) -> str:
    return K.STEP_NAMES[step].replace("_", " ")


STEP_PATHS: dict[str, int] = {
    "/wan/applications": 3,
    "/wired/networks": 4,
    "/wan/hub-profiles": 5,
    "/wan/gateway-templates": 6,
    "/wired/templates": 7,
    "/wireless/wlan-templates": 8,
    "/wireless/rf-templates": 9,
    "/wireless/wlans": 10,
    "/wireless/labels": 11,
    "/wireless/wxrules": 12,
    "/wireless/org-psks": 13,
}
for _path, _step in STEP_PATHS.items():
    router.add_api_route(_path, _step_route(_step), methods=["POST"], response_model=StepResponse,
                         tags=["steps"], summary=f"Step {_step}: {_words(_step)}")


@router.post("/sites", tags=["steps"], response_model=StepResponse, summary="Step 1: the site shell")
async def create_site(ctx: Ctx, caller: CallerDep, req: SiteRequest) -> StepResponse:
    """The site object (with the site groups and templates it names) and its variables from the IP plan."""
    access = await authorize(ctx, caller, req.org_id)
    return await services.converge_site(ctx, access, req, with_vars=False)


@router.post("/topology/site", tags=["lifecycle"], response_model=StepResponse,
             summary="The site shell and its site variables")
async def topology_site(ctx: Ctx, caller: CallerDep, req: SiteRequest) -> StepResponse:
    """As POST /sites, answering the site's variables (the IP plan's addresses, VLANs and names) too."""
    access = await authorize(ctx, caller, req.org_id)
    return await services.converge_site(ctx, access, req, with_vars=True)


@router.post("/inventory/assign", tags=["steps"], response_model=DevicesResponse, responses=NO_SITE,
             summary="Step 2: assign devices in the org inventory to a site")
async def assign_devices(ctx: Ctx, caller: CallerDep, req: DevicesRequest) -> DevicesResponse:
    """Devices by serial or MAC; those on the site already are left alone. 404: no such site."""
    access = await authorize(ctx, caller, req.org_id)
    wanted = DeviceWanted(serials=req.device_serials, macs=req.macs)
    return await place_site_devices(ctx, access, req.site_name, wanted)


@router.post("/inventory/ztp", tags=["lifecycle"], response_model=DevicesResponse, responses=NO_SITE,
             summary="Claim devices (claim codes or an activation code) and bind them to a site")
async def ztp(ctx: Ctx, caller: CallerDep, req: ZtpRequest) -> DevicesResponse:
    """Claiming a code twice is harmless (Mist answers it as duplicated). 404 when the site does not exist."""
    access = await authorize(ctx, caller, req.org_id)
    wanted = DeviceWanted(claim_codes=req.claim_codes, activation_code=req.activation_code)
    return await place_site_devices(ctx, access, req.site_name, wanted)


@router.post("/org/self", tags=["lifecycle"], response_model=ProbeResponse,
             summary="Reachability probe: token valid, cloud reachable, write privilege on the org")
async def org_self(ctx: Ctx, caller: CallerDep, req: OrgRequest | None = None) -> ProbeResponse:
    """The probe of `mistctl probe` for the token the request uses; answers the privileges and calls left."""
    return await probe_org(ctx, caller.tokens, req.org_id if req else None)
