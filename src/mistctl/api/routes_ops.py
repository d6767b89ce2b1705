"""Operations: `/healthz` and `/readyz` (probes: no credentials; `/readyz` lists what it checked), `/metrics`
(Prometheus: no credentials unless `MISTCTL_METRICS_TOKEN` is set, see `ops_auth`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import JSONResponse, Response

from mistctl import __version__
from mistctl.api.deps import Ctx
from mistctl.api.metrics import CONTENT_TYPE
from mistctl.api.ops_auth import MetricsReader
from mistctl.api.schemas import ERRORS
from mistctl.store.errors import StoreError

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers (no credentials)")
async def healthz() -> dict[str, str]:
    """Always 200 while the process serves requests."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="Readiness: the state store and Mist are reachable (no credentials)")
async def readyz(ctx: Ctx) -> Response:
    """200 when the store answers and Mist is not known to be down; 503 naming what is down.

    Mist is never called here: it is "ok" when it answered lately, else the last background check says.
    """
    checks: dict[str, Any] = {"store": "ok", "mist": ctx.mist_status()}
    try:
        await ctx.store.ping()
    except StoreError as exc:
        checks["store"] = f"unavailable: {exc}"
    ready = all(str(v).startswith("ok") for v in checks.values())
    body = {"status": "ready" if ready else "not ready", **checks, "checked": _checked(ctx),
            "target": ctx.target.describe()}
    if not ready:
        body["detail"] = "; ".join(f"{k} {v}" for k, v in checks.items() if not str(v).startswith("ok"))
    return JSONResponse(body, status_code=200 if ready else 503)


def _checked(ctx: Ctx) -> dict[str, str]:
    """What `/readyz` looked at: the store's ping, and how old the last Mist answer is."""
    age = ctx.monotonic() - ctx.metrics.last_ok_call
    seen = f"last answer {age:.0f} s ago" if age != float("inf") else "no answer yet"
    return {"store": f"ping ({type(ctx.store).__name__})", "mist": seen}


@router.get("/metrics", summary="Prometheus metrics", responses=ERRORS,
            response_class=Response)
async def metrics(ctx: Ctx, _reader: MetricsReader) -> Response:
    """Mist calls by outcome, 429s, budget left per token, step durations, runs by status, HTTP requests."""
    await ctx.refresh_metrics()
    return Response(ctx.metrics.render(), media_type=CONTENT_TYPE)
