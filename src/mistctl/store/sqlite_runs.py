"""SQLite queries for runs, events and locks (synchronous; `SqliteStore` runs them in its thread)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from mistctl.store.errors import RecordNotFound, RecordRejected
from mistctl.store.models import Event, LockInfo, Run, RunPatch, RunStatus
from mistctl.store.sqlite_schema import write_tx

_RUN_BODY_EXCLUDE = {"plan", "counts"}
# A run's plan lives in `run_plans` (schema 6): updating the run's small row never rewrites it.
_PLAN = "(SELECT plan FROM run_plans WHERE run_id = runs.id)"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _not_found(run_id: str) -> RecordNotFound:
    return RecordNotFound(f"run {run_id} not found; list runs with `mistctl status`")


def insert_run(conn: sqlite3.Connection, run: Run) -> None:
    """Persist a new run with its counters."""
    body = _dumps(run.model_dump(mode="json", exclude=_RUN_BODY_EXCLUDE))
    try:
        with write_tx(conn):
            conn.execute(
                "INSERT INTO runs (id, status, created_ts, body, plan) VALUES (?, ?, ?, ?, '')",
                (run.id, run.status, run.created_at.timestamp(), body),
            )
            conn.execute("INSERT INTO run_plans (run_id, plan) VALUES (?, ?)", (run.id, _dumps(run.plan)))
            conn.executemany(
                "INSERT INTO run_counts (run_id, name, value) VALUES (?, ?, ?)",
                [(run.id, name, value) for name, value in run.counts.items()],
            )
    except sqlite3.IntegrityError:
        raise RecordRejected(f"run {run.id} already exists; create runs with a fresh id") from None


def _counts(conn: sqlite3.Connection, run_id: str) -> dict[str, int]:
    rows = conn.execute("SELECT name, value FROM run_counts WHERE run_id = ?", (run_id,))
    return {name: int(value) for name, value in rows}


def _run_from_row(conn: sqlite3.Connection, run_id: str, body: str, plan: str | None) -> Run:
    data = json.loads(body)
    data["counts"] = _counts(conn, run_id)
    run = Run.model_validate(data)
    # The plan was redacted when it was stored: set as read, not walked again (thousands of sites' changes).
    return run.model_copy(update={"plan": _loads(plan)}) if plan else run


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # what only the stdlib reads (an integer past 64 bits, NaN)
        return json.loads(text)


def load_run(conn: sqlite3.Connection, run_id: str, include_plan: bool = True) -> Run | None:
    """The run with counts (and plan, unless not `include_plan`), or None."""
    row = conn.execute(f"SELECT body, {_PLAN if include_plan else 'NULL'} FROM runs WHERE id = ?",
                       (run_id,)).fetchone()
    return None if row is None else _run_from_row(conn, run_id, row[0], row[1])


def patch_run(conn: sqlite3.Connection, run_id: str, patch: RunPatch) -> Run:
    """Write the patch's fields into the run (read-modify-write of its small body under the file's write
    lock; the plan, in its own table, is written only when the patch sets it, never read): the run without
    its plan."""
    changes = patch.model_dump(mode="json", include=set(patch.model_fields_set))
    with write_tx(conn):
        row = conn.execute("SELECT body FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise _not_found(run_id)
        body = json.loads(row[0])
        plan = changes.pop("plan", None)
        body.update(changes)
        conn.execute(
            "UPDATE runs SET body = ?, status = ? WHERE id = ?", (_dumps(body), body["status"], run_id)
        )
        if "plan" in patch.model_fields_set:
            conn.execute("INSERT OR REPLACE INTO run_plans (run_id, plan) VALUES (?, ?)",
                         (run_id, _dumps(plan or {})))
    run = load_run(conn, run_id, include_plan=False)
    if run is None:  # only if deleted behind our back
        raise _not_found(run_id)
    return run


def incr_counts(conn: sqlite3.Connection, run_id: str, deltas: Mapping[str, int]) -> dict[str, int]:
    """Add deltas to the run's counters in one transaction; the new counts."""
    with write_tx(conn):
        if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
            raise _not_found(run_id)
        conn.executemany(
            """INSERT INTO run_counts (run_id, name, value) VALUES (?, ?, ?)
               ON CONFLICT (run_id, name) DO UPDATE SET value = value + excluded.value""",
            [(run_id, name, int(delta)) for name, delta in deltas.items()],
        )
        return _counts(conn, run_id)


def list_runs(
    conn: sqlite3.Connection, limit: int, status: RunStatus | None, include_plan: bool
) -> list[Run]:
    """Newest first, optionally with plans."""
    where, params = ("WHERE status = ?", [status]) if status else ("", [])
    rows = conn.execute(
        f"SELECT id, body, {_PLAN if include_plan else 'NULL'} FROM runs {where} "
        "ORDER BY created_ts DESC, id DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [_run_from_row(conn, run_id, body, plan) for run_id, body, plan in rows]


def insert_event(conn: sqlite3.Connection, run_id: str, body: str) -> int:
    """Append an event body to the run's stream; its sequence number."""
    with write_tx(conn):
        row = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE run_id = ?", (run_id,))
        seq = int(row.fetchone()[0])
        conn.execute("INSERT INTO events (run_id, seq, body) VALUES (?, ?, ?)", (run_id, seq, body))
    return seq


def select_events(conn: sqlite3.Connection, run_id: str, after_seq: int, limit: int) -> list[Event]:
    """Events after `after_seq`, oldest first."""
    rows = conn.execute(
        "SELECT seq, body FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        (run_id, after_seq, limit),
    )
    return [(int(seq), json.loads(body)) for seq, body in rows]


def acquire_lock(conn: sqlite3.Connection, name: str, owner: str, now: float, ttl_s: float,
                 holder: str = "") -> bool:
    """Take the lock unless someone else holds it unexpired."""
    return acquire_locks(conn, [name], owner, now, ttl_s, holder)[0]


def acquire_locks(conn: sqlite3.Connection, names: list[str], owner: str, now: float, ttl_s: float,
                  holder: str = "") -> list[bool]:
    """`acquire_lock` of each name, in one transaction."""
    taken = []
    with write_tx(conn):
        for name in names:
            row = conn.execute("SELECT owner, expires_at FROM locks WHERE name = ?", (name,)).fetchone()
            ok = row is None or row[0] == owner or row[1] <= now
            if ok:
                conn.execute(
                    "INSERT OR REPLACE INTO locks (name, owner, expires_at, holder) VALUES (?, ?, ?, ?)",
                    (name, owner, now + ttl_s, holder),
                )
            taken.append(ok)
    return taken


def refresh_lock(conn: sqlite3.Connection, name: str, owner: str, now: float, ttl_s: float) -> bool:
    """Extend our unexpired lock."""
    cur = conn.execute(
        "UPDATE locks SET expires_at = ? WHERE name = ? AND owner = ? AND expires_at > ?",
        (now + ttl_s, name, owner, now),
    )
    return cur.rowcount == 1


def refresh_locks(conn: sqlite3.Connection, names: list[str], owner: str, now: float,
                  ttl_s: float) -> list[bool]:
    """`refresh_lock` of each name, in one transaction."""
    with write_tx(conn):
        return [refresh_lock(conn, name, owner, now, ttl_s) for name in names]


def release_lock(conn: sqlite3.Connection, name: str, owner: str, now: float) -> bool:
    """Drop our unexpired lock (an expired one is cleared too, but counts as not ours any more)."""
    return release_locks(conn, [name], owner, now)[0]


def release_locks(conn: sqlite3.Connection, names: list[str], owner: str, now: float) -> list[bool]:
    """`release_lock` of each name, in one transaction."""
    released = []
    with write_tx(conn):
        for name in names:
            conn.execute("DELETE FROM locks WHERE name = ? AND expires_at <= ?", (name, now))
            cur = conn.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))
            released.append(cur.rowcount == 1)
    return released


def select_lock(conn: sqlite3.Connection, name: str, now: float) -> LockInfo | None:
    """The unexpired lock of that name, or None."""
    row = conn.execute("SELECT owner, holder, expires_at FROM locks WHERE name = ? AND expires_at > ?",
                       (name, now)).fetchone()
    return None if row is None else _lock_info(name, row)


def break_lock(conn: sqlite3.Connection, name: str, owner: str | None, now: float) -> LockInfo | None:
    """Delete the unexpired lock (only when `owner` matches, if given); what was deleted, or None."""
    with write_tx(conn):
        info = select_lock(conn, name, now)
        if info is None or (owner is not None and info.owner != owner):
            return None
        conn.execute("DELETE FROM locks WHERE name = ?", (name,))
    return info


def _lock_info(name: str, row: tuple[str, str, float]) -> LockInfo:
    return LockInfo(name=name, owner=row[0], holder=row[1],
                    expires_at=datetime.fromtimestamp(row[2], UTC))
