"""`mistctl` as real processes against a twin served over HTTP, sharing one state file (e2e helpers)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.engine import EXAMPLE

CLI = [sys.executable, "-m", "mistctl"]


class DumpedTwin:
    """The twin's state as `GET /__twin/state` answers it, with the in-process twin's read methods."""

    def __init__(self, url: str) -> None:
        self.dump: dict[str, Any] = httpx.get(f"{url}/__twin/state", timeout=30).json()

    def objects(self, collection: str) -> list[dict[str, Any]]:
        return list(self.dump.get(collection, []))

    def inventory(self) -> list[dict[str, Any]]:
        return self.objects("inventory")


def example_with_devices(tmp: Path, prefix: str = "LOCK") -> tuple[Path, Path]:
    """The example fleet (its CSV beside it), two claim codes a named site; and the devices file for the twin."""
    data = yaml.safe_load(EXAMPLE.read_text())
    shutil.copy(EXAMPLE.parent / "sites.csv", tmp / "sites.csv")
    named = [s for s in data["sites"] if "name" in s]
    devices = [{"claim_code": f"{prefix}{i:09d}".ljust(15, "X"), "mac": f"5c5b35ef{i:04x}",
                "serial": f"{prefix[:2]}{i:08d}", "model": "AP45", "type": "ap"} for i in range(2 * len(named))]
    for i, site in enumerate(named):
        site["devices"] = [{"claim_code": d["claim_code"]} for d in devices[2 * i: 2 * i + 2]]
    fleet, dev_file = tmp / "fleet.yaml", tmp / "devices.json"
    fleet.write_text(yaml.safe_dump(data, sort_keys=False))
    dev_file.write_text(json.dumps(devices))
    return fleet, dev_file


def cli_env(tmp: Path, url: str, token: str, org_id: str, **extra: str) -> dict[str, str]:
    """The environment of a `mistctl` process: the twin, its org and a SQLite state file in `tmp`."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("MIST_", "MISTCTL_"))}
    return {**keep, "MIST_HOST": url, "MIST_APITOKEN": token, "MIST_ORG_ID": org_id,
            "MISTCTL_STATE": f"sqlite:///{tmp / 'state.db'}", "PYTHONUNBUFFERED": "1", "COLUMNS": "250",
            **extra}


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """`mistctl ARGS` started (stdout and stderr piped, stdin closed)."""
    return subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)


def mistctl(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """`mistctl ARGS` run to its end."""
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
