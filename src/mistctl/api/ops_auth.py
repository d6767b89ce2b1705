"""Who may read the operations routes: the probes (`/healthz`, `/readyz`) are open to anyone, `/metrics` too
unless `MISTCTL_METRICS_TOKEN` is set, then to `Authorization: Bearer <that token>` or a service key.

Prometheus scrapes with a bearer token (`authorization: {credentials: ...}` in its scrape config); the
metrics hold counts and token fingerprints only, never a token.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from mistctl.api.auth import service_keys
from mistctl.api.deps import Ctx
from mistctl.api.errors import ApiError

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mistctl metrics"'}


async def metrics_reader(request: Request, ctx: Ctx) -> None:
    """Nothing when `/metrics` is open or the bearer is the metrics token or a service key; 401 otherwise.

    The header is read here, not declared as a security scheme: the document shows `/metrics` as open, as
    it is by default."""
    token = ctx.settings.mistctl_metrics_token
    if token is None:
        return
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    given = credentials.strip().encode() if scheme.lower() == "bearer" else b""
    allowed = [token.get_secret_value(), *service_keys(ctx)]
    matched = False
    for value in allowed:  # every one is compared: the time taken does not say which nearly matched
        matched |= hmac.compare_digest(given, value.encode())
    if not matched:
        raise ApiError(401, "/metrics needs Authorization: Bearer <MISTCTL_METRICS_TOKEN> (or a service key)",
                       headers=_CHALLENGE)
    request.state.actor = "metrics"


MetricsReader = Annotated[None, Depends(metrics_reader)]
