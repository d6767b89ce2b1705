"""Fixtures of the e2e tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.cli_support import EXAMPLES


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the examples and no Mist settings: the built-in twin and the state store
    live in it."""
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for var in ("MIST_HOST", "MIST_APITOKEN", "MIST_ORG_ID", "MISTCTL_STATE"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path
