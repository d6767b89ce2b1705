"""`mistctl serve` (real uvicorn) under a flood of connections that never finish their headers: /healthz
keeps answering, the idle connections past the cap are closed at once (the longest-waiting first), and
the rest once their header deadline passes. Bounded: a few hundred sockets."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import time
from pathlib import Path

import httpx

from mistctl.cli.serve_cmds import READY_PREFIX
from tests.support.twin import stop_process
from tests.support.workers import CLI

SOCKETS = 300
CAP = 100
HEADER_TIMEOUT = 2.0


def _serve(tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("MIST_", "MISTCTL_"))}
    env = {**keep, "MISTCTL_STATE": f"sqlite:///{tmp_path / 'state.db'}", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*CLI, "serve", "--port", "0", "--max-connections", str(CAP), "--header-timeout",
                             str(HEADER_TIMEOUT)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=(tmp_path / "serve.log").open("w"), text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if select.select([proc.stdout], [], [], 0.1)[0]:
            line = proc.stdout.readline()
            if line.startswith(READY_PREFIX):
                return proc, line[len(READY_PREFIX):].split()[0]
    stop_process(proc)
    raise AssertionError(f"mistctl serve did not start: {(tmp_path / 'serve.log').read_text()[-2000:]}")


def _closed(sock: socket.socket) -> bool:
    """Whether the server closed this connection (EOF or reset)."""
    if not select.select([sock], [], [], 0)[0]:
        return False
    try:
        return sock.recv(1024) == b""
    except OSError:
        return True


def _wait_all_closed(socks: list[socket.socket], timeout: float) -> int:
    deadline, open_ = time.monotonic() + timeout, list(socks)
    while open_ and time.monotonic() < deadline:
        open_ = [s for s in open_ if not _closed(s)]
        time.sleep(0.05)
    return len(socks) - len(open_)


def test_idle_connections_cannot_stop_healthz_and_are_closed(tmp_path: Path) -> None:
    proc, url = _serve(tmp_path)
    host, port = url.removeprefix("http://").split(":")
    socks: list[socket.socket] = []
    try:
        for n in range(SOCKETS):  # half say nothing, half start a request and never finish its headers
            sock = socket.create_connection((host, int(port)), timeout=5)
            if n % 2:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            socks.append(sock)
        started = time.monotonic()
        health = httpx.get(f"{url}/healthz", timeout=10)
        answered_in = time.monotonic() - started
        gone = [s for s in socks if _closed(s)]
        evicted = len(gone)
        waited = time.monotonic()
        closed = evicted + _wait_all_closed([s for s in socks if s not in gone], HEADER_TIMEOUT + 5)
        waited = time.monotonic() - waited
        after = httpx.get(f"{url}/healthz", timeout=10)
    finally:
        for sock in socks:
            sock.close()
        stop_process(proc)
    assert health.status_code == 200 and health.json()["status"] == "ok", health.text
    assert answered_in < HEADER_TIMEOUT  # not after the idle ones timed out: it got a place at once
    assert evicted >= SOCKETS - CAP - 5, evicted  # past the cap, the longest-waiting went first
    assert closed == SOCKETS, closed  # every header-less connection is closed by its deadline
    assert waited < HEADER_TIMEOUT + 2, waited
    assert after.status_code == 200
