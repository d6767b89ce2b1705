"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from mistctl.store import MemoryStore, SqliteStore, StateStore
from tests.support.twin import FakeClock


@pytest.fixture(params=["memory", "sqlite"])
async def clocked(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[tuple[StateStore, FakeClock]]:
    """A memory or SQLite store whose clock the test moves by hand (locks lapse without waiting)."""
    clock = FakeClock()
    store: StateStore = MemoryStore(clock=clock) if request.param == "memory" else SqliteStore(
        tmp_path / "state.db", clock=clock)
    async with store:
        yield store, clock
