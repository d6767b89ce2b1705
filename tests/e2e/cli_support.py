"""Helpers for the e2e tests that drive the CLI in a working directory (see the `workdir` fixture)."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from mistctl.cli.main import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str) -> tuple[int, str]:
    """Run `mistctl ARGS...` in-process; its exit code and output."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def cut_example_fleet(workdir: Path, name: str, sites: int) -> str:
    """The example fleet cut to its first `sites` sites (their devices are in the built-in twin's pool)."""
    data = yaml.safe_load((workdir / "examples" / "fleet.yaml").read_text())
    data["sites"] = data["sites"][:sites]
    path = workdir / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)
