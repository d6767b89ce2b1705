"""Operations: readiness, Prometheus metrics, request ids, JSON logs and the request size limit."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator

import pytest

from mistctl.api.logs import JsonFormatter, setup_logging
from mistctl.store.errors import StoreUnavailable
from mistctl.store.memory import MemoryStore
from tests.integration.test_api_support import full_stack_body, service


class DownStore(MemoryStore):
    """A store whose backend is gone (pings fail)."""

    async def ping(self) -> None:
        raise StoreUnavailable("redis://localhost:6379/0 refused the connection")


async def test_readyz_is_200_when_store_and_mist_answer_and_503_naming_what_is_down() -> None:
    async with service(settings={"mist_max_attempts": 1}) as svc:
        ready = await svc.client.get("/readyz", headers=svc.key)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        svc.twin.knobs.fault_rate = 1.0  # every Mist call now answers 5xx
        svc.ctx.metrics.last_ok_call = float("-inf")  # forget the last answer: a check starts in the background
        for _ in range(100):  # /readyz never waits for Mist: it reports the background check once done
            down = await svc.client.get("/readyz", headers=svc.key)
            if down.status_code == 503:
                break
            await asyncio.sleep(0.01)
        assert down.status_code == 503 and "mist" in down.json()["detail"]
    async with service(store=DownStore()) as svc:
        down = await svc.client.get("/readyz", headers=svc.key)
        assert down.status_code == 503 and down.json()["store"].startswith("unavailable")


async def test_metrics_count_mist_calls_budget_steps_and_runs() -> None:
    async with service() as svc:
        await svc.client.post("/orchestrator/deploy-full-stack", json=full_stack_body(svc), headers=svc.key)
        text = (await svc.client.get("/metrics", headers=svc.key)).text
        lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
        calls = float(lines['mistctl_mist_calls_total{outcome="ok"}'])
        assert calls == svc.twin.counters.snapshot()["total"]
        assert float(lines['mistctl_runs{status="completed"}']) == 1.0
        assert float(lines["mistctl_mist_rate_limited_total"]) == 0.0
        budget = [k for k in lines if k.startswith("mistctl_mist_budget_remaining")]
        assert len(budget) == 1 and 0 < float(lines[budget[0]]) < 5000
        assert float(lines['mistctl_step_duration_seconds_count{step="wlans"}']) == 1.0
        route = ('mistctl_http_requests_total{method="POST",route="/orchestrator/deploy-full-stack",'
                 'status="200"}')
        assert float(lines[route]) == 1.0


async def test_the_request_id_is_echoed_or_made_up() -> None:
    async with service() as svc:
        given = await svc.client.get("/healthz", headers={"X-Request-ID": "pipeline-42.7"})
        made = await svc.client.get("/healthz", headers={"X-Request-ID": "bad id\twith junk"})
        assert given.headers["X-Request-ID"] == "pipeline-42.7"
        assert made.headers["X-Request-ID"] != "bad id\twith junk" and len(made.headers["X-Request-ID"]) == 32


async def test_a_body_over_the_limit_is_413_before_the_app_reads_it() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b" " * 1024

    async with service() as svc:
        big = await svc.client.post("/plans", content=b"x" * (1024 * 1024 + 1),
                                    headers={**svc.key, "content-type": "application/json"})
        assert big.status_code == 413 and "limit" in big.json()["detail"]
        as_json = {**svc.key, "content-type": "application/json"}
        small = await svc.client.post("/plans", content=chunks(), headers=as_json)
        assert small.status_code == 422  # 40 KiB of spaces streamed: read, replayed, then refused as no JSON


async def test_access_logs_are_json_lines_with_the_request_id_and_caller(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mistctl.api.access")
    async with service() as svc:
        await svc.client.get("/deployments", headers={**svc.key, "X-Request-ID": "req-1"})
    record = next(r for r in caplog.records if r.name == "mistctl.api.access")
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-1" and line["route"] == "/deployments" and line["status"] == 200
    assert line["actor"].startswith("key:") and line["method"] == "GET"


def test_setup_logging_writes_json_lines_and_redacts_credentials() -> None:
    stream = io.StringIO()
    loggers = [logging.getLogger(n) for n in ("mistctl", "uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg.handlers, lg.level, lg.propagate, lg.disabled) for lg in loggers]
    setup_logging("info", stream)
    try:
        secret = "abcdefghijklmnopqrstuvwxyz012345"
        logging.getLogger("mistctl.test").warning("sent Authorization: Token %s", secret)
    finally:
        for lg, (handlers, level, propagate, disabled) in zip(loggers, saved, strict=True):
            lg.handlers, lg.propagate, lg.disabled = handlers, propagate, disabled
            lg.setLevel(level)
    line = json.loads(stream.getvalue().splitlines()[0])
    assert line["level"] == "warning" and "abcdefghijklmnopqrstuvwxyz012345" not in line["msg"]
