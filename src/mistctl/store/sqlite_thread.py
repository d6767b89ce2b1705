"""The SQLite connection's own thread, with group commit.

Every store call queues its query and awaits its own result. The thread takes every call queued at that
moment and runs them, in order, in one transaction (one `BEGIN IMMEDIATE`/`COMMIT`, each call inside its
own savepoint, so a call that fails is rolled back alone and gets its own error), then hands all the
results back to the event loop in one wake-up. A caller resumes only once the transaction holding its
write is committed: a `kill -9` after a call returned loses nothing, as with one transaction per call.
Under load (sixteen sites recording steps at once) this is one commit and two thread hops per batch
instead of per call; a lone call runs on its own, as before.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from mistctl.store.sqlite_schema import connect

_T = TypeVar("_T")
#: one queued call: the query, its arguments, and the future its caller awaits
_Item = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]
#: what a call came to: (future, ok, result or exception)
_Outcome = tuple["asyncio.Future[Any]", bool, Any]


class SqliteThread:
    """One connection, used only from its own thread, fed by a queue that it drains a batch at a time."""

    def __init__(self, path: Path, busy_timeout_s: float) -> None:
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        opened: Future[sqlite3.Connection] = Future()
        self._thread = threading.Thread(target=self._serve, args=(path, busy_timeout_s, opened),
                                        name="mistctl-sqlite", daemon=True)
        self._thread.start()
        self.conn = opened.result()  # the error of `connect` (a bad path, not a database), raised here
        self.batches = 0  # batches run (a lone call is one): how many commits group commit made

    async def call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run `fn(conn, *args)` in the thread; its result once committed (or its exception)."""
        fut: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._queue.put((fn, args, fut))
        return await fut

    async def close(self) -> None:
        """Run what is queued, close the connection and stop the thread."""
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)

    # --- in the thread --------------------------------------------------------------------------------
    def _serve(self, path: Path, busy_timeout_s: float, opened: Future[sqlite3.Connection]) -> None:
        try:
            conn = connect(path, busy_timeout_s)
        except BaseException as exc:
            opened.set_exception(exc)
            return
        opened.set_result(conn)
        try:
            while self._drain(self._queue.get()):
                pass
        finally:
            conn.close()

    def _drain(self, item: _Item | None) -> bool:
        """Run `item` and every call queued behind it as one batch; False once told to stop (None)."""
        batch: list[_Item] = []
        more = True
        while item is not None:
            batch.append(item)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
        else:
            more = False
        if batch:
            self.batches += 1
            outcomes = self._run(batch)
            loops: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
            for outcome in outcomes:
                loops.setdefault(outcome[0].get_loop(), []).append(outcome)
            for loop, done in loops.items():  # one wake-up per event loop for the whole batch
                try:
                    loop.call_soon_threadsafe(_settle, done)
                except RuntimeError:  # that loop is closed: nobody awaits these any more
                    pass
        return more

    def _run(self, batch: list[_Item]) -> list[_Outcome]:
        conn = self.conn
        if len(batch) == 1:
            fn, args, fut = batch[0]
            try:
                return [(fut, True, fn(conn, *args))]
            except Exception as exc:
                return [(fut, False, exc)]
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:  # the file stayed busy: every call of the batch hears it
            return [(fut, False, exc) for _, _, fut in batch]
        outcomes: list[_Outcome] = []
        for fn, args, fut in batch:
            conn.execute("SAVEPOINT call")
            try:
                result = fn(conn, *args)
            except Exception as exc:
                conn.execute("ROLLBACK TO call")
                outcomes.append((fut, False, exc))
            else:
                outcomes.append((fut, True, result))
            conn.execute("RELEASE call")
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:  # nothing of the batch was kept: every call fails with the reason
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return [(fut, False, exc) for _, _, fut in batch]
        return outcomes


def _settle(outcomes: list[_Outcome]) -> None:
    for fut, ok, value in outcomes:
        if fut.cancelled():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)
