"""A JSON body nested too deep or holding a number too long is answered 422 before anything parses it.

`json.loads` of 500 nested lists, or the YAML dump of the object it makes, ends in a RecursionError;
a number of 5,000 digits ends in Python's integer-conversion ValueError. Either would be a 500, so
the raw body is scanned first (strings skipped, brackets counted, digit runs measured) and refused
naming what is wrong. The body is already bounded by `RequestMiddleware` (this runs inside it);
a large one is scanned in a worker thread, so the event loop never spends long on it.
"""

from __future__ import annotations

import json
import re

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: JSON nested deeper than this is refused (a fleet as JSON nests about 10 deep).
MAX_JSON_DEPTH = 64
#: Numbers with more characters than this are refused (a 64-bit integer has at most 20).
MAX_NUMBER_CHARS = 100
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]|[0-9][0-9.eE+-]{%d,}' % MAX_NUMBER_CHARS)
_INLINE = 64 * 1024  # bodies up to this size are scanned on the loop (well under a millisecond)


def body_problem(body: bytes) -> str | None:
    """What makes a JSON body unsafe to parse (too deep, a huge number), or None."""
    depth = 0
    for match in _TOKENS.finditer(body):
        token = match.group()
        first = token[:1]
        if first in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return f"nests deeper than {MAX_JSON_DEPTH} levels of arrays and objects: flatten it"
        elif first in (b"]", b"}"):
            depth -= 1
        elif first != b'"':
            return f"holds a number of {len(token)} characters: numbers here fit in 64 bits"
    return None


class JsonGuard:
    """ASGI middleware: refuse (422) a JSON body that `body_problem` objects to; replay it otherwise."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        messages, body = await _read(receive)
        problem = body_problem(body) if len(body) <= _INLINE else await run_in_threadpool(body_problem, body)
        if problem is not None:
            await _refuse(send, problem)
            return
        pending = list(messages)

        async def replay() -> Message:
            return pending.pop(0) if pending else await receive()

        await self.app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


async def _read(receive: Receive) -> tuple[list[Message], bytes]:
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, body
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return messages, body


async def _refuse(send: Send, problem: str) -> None:
    payload = {"detail": f"1 problem: body: {problem}", "problems": [{"item": "body", "message": problem}]}
    data = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": data})
