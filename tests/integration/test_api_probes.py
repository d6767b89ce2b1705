"""The probes and the scrape without credentials (Kubernetes, Prometheus): `/healthz`, `/readyz` (saying what
it checked), `/metrics` (open, or behind `MISTCTL_METRICS_TOKEN`); the other routes still need credentials."""

from __future__ import annotations

from tests.integration.test_api_support import full_stack_body, service

METRICS_TOKEN = "scrape-token-0123456789abcdef"


async def test_the_probes_answer_without_credentials_and_readyz_says_what_it_checked() -> None:
    async with service() as svc:
        await svc.client.post("/orchestrator/deploy-full-stack", json=full_stack_body(svc), headers=svc.key)
        health = await svc.client.get("/healthz")
        ready = await svc.client.get("/readyz")
        closed = await svc.client.get("/deployments")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and body["store"] == "ok" and body["mist"] == "ok"
    assert body["checked"]["store"] == "ping (MemoryStore)"
    assert body["checked"]["mist"].startswith("last answer ") and body["checked"]["mist"].endswith(" s ago")
    assert closed.status_code == 401  # only the probes are open


async def test_metrics_are_scrapeable_without_a_service_key() -> None:
    async with service() as svc:
        await svc.client.post("/orchestrator/deploy-full-stack", json=full_stack_body(svc), headers=svc.key)
        scraped = await svc.client.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    assert 'mistctl_runs{status="completed"} 1.0' in scraped.text


async def test_with_a_metrics_token_metrics_need_it_or_a_service_key() -> None:
    async with service(settings={"mistctl_metrics_token": METRICS_TOKEN}) as svc:
        none = await svc.client.get("/metrics")
        wrong = await svc.client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}x"})
        token = await svc.client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        key = await svc.client.get("/metrics", headers=svc.key)
        ready = await svc.client.get("/readyz")
        with_token = await svc.client.get("/deployments", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    for refused in (none, wrong):
        assert refused.status_code == 401 and "MISTCTL_METRICS_TOKEN" in refused.json()["detail"]
        assert METRICS_TOKEN not in refused.text
    assert token.status_code == 200 and "mistctl_http_requests_total" in token.text
    assert key.status_code == 200 and ready.status_code == 200
    assert with_token.status_code == 401  # the scrape token opens /metrics only
    assert METRICS_TOKEN not in token.text
