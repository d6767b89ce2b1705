"""Helpers to run the Mist twin in tests: in-process (ASGI) or as a real subprocess over HTTP.

    app = twin_app(inventory_count=5)                    # an ASGI app; app.state.twin is its state
    async with twin_client(app) as client:               # httpx.AsyncClient, base_url http://twin,
        await client.get("/api/v1/self")                 #   admin token header already set

    with running_twin(TwinConfig(seed=3)) as (base_url, org_id, token):
        ...                                              # `python -m mist_twin` on a free port

For contract checks pass `checker=ContractChecker(...)` to `twin_client` (tests/support/openapi_check.py).
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx

from mist_twin.app import create_app
from mist_twin.config import TwinConfig

BASE_URL = "http://twin"
READY_PREFIX = "mist twin ready on "


class FakeClock:
    """A clock tests move by hand: `clock.advance(3600)`."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


def twin_app(clock: Callable[[], float] | None = None, **config: Any) -> Any:
    """A twin ASGI app from TwinConfig fields (`twin_app(inventory_count=3, rate_limit=10)`)."""
    return create_app(TwinConfig(**config), clock=clock)


def twin_transport(app: Any) -> httpx.ASGITransport:
    """An in-process transport to the twin (raises the twin's dropped answers as transport errors)."""
    return httpx.ASGITransport(app=app)


@asynccontextmanager
async def twin_client(
    app: Any, token: str | None = None, checker: Any = None, **client_options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx.AsyncClient on the twin app with `Authorization: Token <admin token>` (or `token`)."""
    headers = {"Authorization": f"Token {token or app.state.twin.token}"}
    if checker is not None:
        client_options["event_hooks"] = checker.event_hooks()
    async with httpx.AsyncClient(
        transport=twin_transport(app), base_url=BASE_URL, headers=headers, **client_options
    ) as client:
        yield client


# --- a real twin process --------------------------------------------------------------------------
_FLAGS = {
    "org_id": "--org-id",
    "token": "--token",
    "devices_file": "--devices",
    "latency_ms": "--latency-ms",
    "jitter_ms": "--jitter-ms",
    "rate_limit": "--rate-limit",
    "rate_window": "--rate-window",
    "fault_rate": "--fault-rate",
    "drop_rate": "--drop-rate",
    "upgrade_seconds": "--upgrade-seconds",
    "seed": "--seed",
    "state_file": "--state",
    "device_count": "--device-count",
    "inventory_count": "--inventory-count",
}


def serve_args(config: TwinConfig) -> list[str]:
    """The command-line options that reproduce `config` (defaults left out)."""
    defaults = TwinConfig()
    args: list[str] = []
    for name, flag in _FLAGS.items():
        value = getattr(config, name)
        if value is not None and value != getattr(defaults, name):
            args += [flag, str(value)]
    return args


def twin_command(config: TwinConfig, via_cli: bool, host: str = "127.0.0.1", port: int = 0) -> list[str]:
    """`mistctl twin serve ...` (via_cli) or `python -m mist_twin ...` with the config's options."""
    where = ["--host", host, "--port", str(port), *serve_args(config)]
    if via_cli:
        return [sys.executable, "-c", "from mistctl.cli.main import main; main()", "twin", "serve", *where]
    return [sys.executable, "-m", "mist_twin", *where]


def read_ready_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """Wait for the twin's ready line on its stdout (RuntimeError when it exits or times out)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            line = proc.stdout.readline()
            if line.startswith(READY_PREFIX):
                return line.strip()
            if line == "" and proc.poll() is not None:
                break
        elif proc.poll() is not None:
            break
    raise RuntimeError("the twin did not print its ready line")


def parse_ready_line(line: str) -> tuple[str, str, str]:
    """(base_url, org_id, token-as-printed) from `mist twin ready on URL org_id=... token=...`."""
    found = re.fullmatch(re.escape(READY_PREFIX) + r"(\S+) org_id=(\S+) token=(.+)", line.strip())
    if found is None:
        raise ValueError(f"not a ready line: {line!r}")
    return found.group(1), found.group(2), found.group(3)


def stop_process(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> int:
    """Stop a twin process (SIGTERM, then SIGKILL after 10 s); its exit code."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


@contextmanager
def running_twin(
    config: TwinConfig | None = None, *, via_cli: bool = False, timeout: float = 30.0
) -> Iterator[tuple[str, str, str]]:
    """Run the twin as a subprocess on a free loopback port; yields (base_url, org_id, token)."""
    with running_twin_process(config, via_cli=via_cli, timeout=timeout) as (url, org_id, token, _pid):
        yield url, org_id, token


@contextmanager
def running_twin_process(
    config: TwinConfig | None = None, *, via_cli: bool = False, timeout: float = 30.0
) -> Iterator[tuple[str, str, str, int]]:
    """`running_twin` that also yields the twin's pid (benchmarks read its CPU time: `process_cpu`)."""
    config = config or TwinConfig()
    with tempfile.TemporaryFile("w+") as errors:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            twin_command(config, via_cli), stdout=subprocess.PIPE, stderr=errors, text=True, env=env
        )
        try:
            try:
                line = read_ready_line(proc, timeout)
            except RuntimeError:
                stop_process(proc)
                errors.seek(0)
                raise RuntimeError(f"the twin did not start:\n{errors.read()[-2000:]}") from None
            url, org_id, shown = parse_ready_line(line)
            yield url, org_id, (config.token if shown == "(as given)" else shown) or "", proc.pid
        finally:
            stop_process(proc)
            if proc.stdout is not None:
                proc.stdout.close()


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc), e.g. the twin's beside the client's."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
