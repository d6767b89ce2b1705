"""A throwaway redis-server for tests and benchmarks: free port, temp dir, no persistence.

    with redis_server() as url:      # redis://127.0.0.1:<port>/0
        ...

The server runs with `--save "" --appendonly no` in its own temporary directory and is stopped (then
killed if it lingers) on exit. A missing binary raises `RedisServerMissing`, telling to run `make redis`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT_S = 10.0


class RedisServerMissing(RuntimeError):
    """No redis-server binary on PATH (nor in $REDIS_SERVER)."""


def find_redis_server() -> str:
    """The redis-server binary: $REDIS_SERVER, else the one on PATH."""
    binary = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    if not binary:
        raise RedisServerMissing(
            "redis-server is not installed: run `make redis` (or set REDIS_SERVER to its path); "
            "the Redis store tests start their own throwaway server"
        )
    return binary


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process on a free port in a temporary directory; `persist`: an append-only file
    synced on every write (`kill` then `start` again is a crash and a restart that loses nothing)."""

    def __init__(self, *, persist: bool = False) -> None:
        self.persist = persist
        self.binary = find_redis_server()
        self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="mistctl-redis-")
        self.dir = Path(self._tmp.name)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's URL (db 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        """Start the server and wait until it answers PING; its URL."""
        aof = ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else ["--appendonly", "no"]
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *aof,
                "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log"),
                "--daemonize", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if _pong(self.port):
                return self.url
            time.sleep(0.02)
        log = self._log_tail()
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not start: {log}")

    def _log_tail(self) -> str:
        log = self.dir / "redis.log"
        return log.read_text(errors="replace")[-800:] if log.exists() else "(no log)"

    def kill(self) -> None:
        """SIGKILL the server (a crash: its directory, and any append-only file, stays for `start`)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s) and remove its directory."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
        self._tmp.cleanup()


@contextmanager
def redis_server() -> Iterator[str]:
    """Run a throwaway redis-server for the duration of the block; yields its URL."""
    server = RedisServer()
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@contextmanager
def redis_with_args(args: list[str], data_dir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`redis-server ARGS` (as a compose file runs it) on a free loopback port, its data in `data_dir`;
    yields its URL and process (stopped on exit: SIGTERM, so it writes its append-only file)."""
    port = free_port()
    proc = subprocess.Popen([find_redis_server(), *args, "--port", str(port), "--bind", "127.0.0.1",
                             "--daemonize", "no"], cwd=data_dir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _pong(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server {' '.join(args)} did not start")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
