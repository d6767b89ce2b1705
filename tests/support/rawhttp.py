"""A tiny HTTP/1.1 server on a loopback port, in the test's own loop, that records every request it reads
(method, target, headers, body) and the connections opened, and answers as the test says: an answer's
bytes, or `DROP` (close the connection without a word) or `HANG` (never answer).

For what the twin cannot do: count connections, drop a connection before any answer, see the exact bytes.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DROP = b"drop"
HANG = b"hang"


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]  # lower-case names
    body: bytes


def answer(status: int, data: Any = None, *, headers: dict[str, str] | None = None, zipped: bool = False) -> bytes:
    """The bytes of an HTTP/1.1 answer with a JSON body (gzip-encoded when `zipped`)."""
    body = b"" if data is None else json.dumps(data).encode()
    extra = dict(headers or {})
    if zipped:
        body, extra["Content-Encoding"] = gzip.compress(body), "gzip"
    head = [f"HTTP/1.1 {status} X", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in extra.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass
class RawServer:
    url: str
    behave: Callable[[Seen], bytes]
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    delay: float = 0.0

    def methods(self) -> list[str]:
        return [s.method for s in self.seen]


async def _read_one(reader: asyncio.StreamReader) -> Seen | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):  # closed, or the server stops
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Seen(method, target, headers, body)


@asynccontextmanager
async def raw_server(
    behave: Callable[[Seen], bytes], *, delay: float = 0.0, tls: ssl.SSLContext | None = None
) -> AsyncIterator[RawServer]:
    """Serve on 127.0.0.1 (a free port) until the block ends; `delay` seconds before each answer; https
    with `tls` (see `self_signed`)."""
    server_state = RawServer("", behave, delay=delay)
    hung: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_state.connections += 1
        try:
            while (seen := await _read_one(reader)) is not None:
                server_state.seen.append(seen)
                reply = server_state.behave(seen)
                if reply == HANG:
                    hung.append(writer)
                    return
                if server_state.delay:
                    await asyncio.sleep(server_state.delay)
                if reply == DROP:
                    break
                writer.write(reply)
                await writer.drain()
        finally:
            if writer not in hung:
                writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    server_state.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    try:
        yield server_state
    finally:
        for writer in hung:
            writer.close()
        server.close()
        await server.wait_closed()


def self_signed(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 with a fresh self-signed certificate, and that certificate's file."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert
