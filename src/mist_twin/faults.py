"""Fault injection for `/api/` calls: latency with jitter, 5xx answers, and dropped answers.

- Latency: every call waits `latency_ms` plus a uniform 0..`jitter_ms` before anything else.
- Fault rate: that share of calls get a 500, 502 or 503 before anything is performed.
- Drop rate: that share of writes (POST/PUT/DELETE) ARE performed, then the answer is lost.

A lost answer must reach the client as a transport error, in-process and over TCP alike. The
middleware starts the response and then raises `DroppedAnswer`, an `httpx.RemoteProtocolError`:
`httpx.ASGITransport` re-raises app exceptions, so the client sees that exception itself; uvicorn,
seeing an exception after the response started, closes the connection mid-answer, which the client
reads as a `RemoteProtocolError` (headers promise a body that never comes).
Draws come from one `random.Random(seed)`, so a sequential run replays the same faults.
"""

from __future__ import annotations

import asyncio
import json
import random

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mist_twin.config import Knobs
from mist_twin.errors import send_answer

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
FAULT_STATUSES = (500, 502, 503)
_BAD_GATEWAY = b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"  # noqa: E501


class DroppedAnswer(httpx.RemoteProtocolError):
    """The twin performed the write and then lost the answer (fault injection)."""


class FaultInjector:
    """The seeded dice behind every injected fault."""

    def __init__(self, knobs: Knobs, seed: int) -> None:
        self.knobs = knobs
        self.rng = random.Random(seed)
        self.injected = 0
        self.dropped = 0

    def reseed(self, seed: int) -> None:
        """Restart the sequence of draws (twin reset, or a new seed)."""
        self.rng = random.Random(seed)
        self.injected = 0
        self.dropped = 0

    def delay(self) -> float:
        """Seconds this call waits (0 when no latency is configured)."""
        base, jitter = self.knobs.latency_ms, self.knobs.jitter_ms
        if base <= 0 and jitter <= 0:
            return 0.0
        return (base + self.rng.uniform(0, jitter)) / 1000

    def fault_status(self) -> int | None:
        """A 5xx status for this call, or None."""
        rate = self.knobs.fault_rate
        if rate <= 0 or self.rng.random() >= rate:
            return None
        self.injected += 1
        return self.rng.choice(FAULT_STATUSES)

    def drop(self, method: str) -> bool:
        """Whether this write's answer is lost."""
        rate = self.knobs.drop_rate
        if rate <= 0 or method not in WRITE_METHODS or self.rng.random() >= rate:
            return False
        self.dropped += 1
        return True


def _fault_answer(status: int) -> tuple[bytes, bytes]:
    if status == 502:  # Mist's edge answers a bad gateway in HTML, not JSON
        return _BAD_GATEWAY, b"text/html"
    detail = "Internal Server Error" if status == 500 else "Service Unavailable"
    return json.dumps({"detail": detail}).encode(), b"application/json"


class LatencyMiddleware:
    """Delays each `/api/` call (outside the rate limiter, so 429s are slow too, as on the wire)."""

    def __init__(self, app: ASGIApp, faults: FaultInjector) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            delay = self.faults.delay()
            if delay > 0:
                await asyncio.sleep(delay)
        await self.app(scope, receive, send)


class FaultMiddleware:
    """Answers injected 5xx before the app runs, and loses the answers of some writes after it ran."""

    def __init__(self, app: ASGIApp, faults: FaultInjector) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        status = self.faults.fault_status()
        if status is not None:
            body, content_type = _fault_answer(status)
            await send_answer(send, status, body, content_type)
            return
        if not self.faults.drop(scope["method"]):
            await self.app(scope, receive, send)
            return
        await self._perform_and_drop(scope, receive, send)

    async def _perform_and_drop(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def swallow(message: Message) -> None:
            del message  # the answer is lost on the way back

        await self.app(scope, receive, swallow)
        # Promise a body, then fail: over TCP uvicorn cuts the connection mid-answer.
        headers = [(b"content-type", b"application/json"), (b"content-length", b"64")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        url = f"http://twin{scope['path']}"
        raise DroppedAnswer("the twin dropped this answer", request=httpx.Request(scope["method"], url))
