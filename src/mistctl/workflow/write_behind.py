"""A site's record writes made behind its Mist calls: in order, one at a time, awaited before the site ends.

A site's steps are Mist calls with a record write after each (`Records.step_done`). Awaiting each write
before the next call kept the site's slot (one of `--concurrency`) idle for a store round trip: with SQLite
a thread hop and a commit, several milliseconds when the event loop is busy, about a sixth of the slots'
time. `WriteBehind.add` queues the write and returns at once; the writes run in the order added, each
after the one before, so the store sees the same writes in the same order. `drain` waits for them all
(and raises the first that failed); the site's outcome is reported only after it, so a site counted done
has its records committed. A write that failed stops the site before its next Mist call once it is known
(`check`): the call made while it was failing is one more step, safe to make again.

A kill -9 may now come after a call was answered and before the record of the call before it was written;
that state differs from one the kill could reach before only by more calls made: each step is safe to make
again and the next plan reads the live org (a lost create is found by name, variables and devices are
compared with what Mist holds).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Coroutine
from typing import Any


class WriteBehind:
    """Record writes of one site, run in order behind its Mist calls."""

    def __init__(self) -> None:
        self._queue: deque[Coroutine[Any, Any, Any]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    def add(self, write: Coroutine[Any, Any, Any]) -> None:
        """Queue a write (a coroutine of `Records`); it runs after every write added before it."""
        if self._error is not None:
            write.close()
            return
        self._queue.append(write)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def check(self) -> None:
        """Raise the error of a write that failed (before the site makes another Mist call)."""
        if self._error is not None:
            raise self._error

    async def drain(self) -> None:
        """Wait until every write added so far is made; raise the first one's error."""
        while self._task is not None:
            await asyncio.shield(self._task)
        self.check()

    async def _run(self) -> None:
        try:
            while self._queue:
                await self._queue.popleft()
        except Exception as exc:  # the writes behind it are not made: the site stops with this error
            self._error = exc
        finally:
            for left in self._queue:  # after an error or a cancellation
                left.close()
            self._queue.clear()
            self._task = None
