"""The twin's object store: dicts in memory, optionally written through to SQLite.

Every object is one row `(coll, key, seq, body)`, written (and committed) by the request that changes
it, so a twin killed with SIGKILL keeps everything it answered, and a write costs one row however
large the org is. `seq` keeps creation order across restarts (lists answer in creation order).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

Obj = dict[str, Any]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS objects (coll TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL,"
    " body TEXT NOT NULL, PRIMARY KEY (coll, key))",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_UPSERT = (
    "INSERT INTO objects (coll, key, seq, body) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (coll, key) DO UPDATE SET body = excluded.body"
)

_SET_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


class Store:
    """Collections of JSON objects by key; `path=None` keeps them in memory only."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._colls: dict[str, dict[str, Obj]] = {}
        self._meta: dict[str, Any] = {}
        self._seq = 0
        self._depth = 0
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._open(path)

    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit (isolation_level=None): each write is durable before the answer leaves;
        # WAL + synchronous=NORMAL survives a killed process without an fsync per write.
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            db.execute(statement)
        for coll, key, seq, body in db.execute("SELECT coll, key, seq, body FROM objects ORDER BY seq"):
            self._colls.setdefault(coll, {})[key] = json.loads(body)
            self._seq = max(self._seq, seq)
        for key, value in db.execute("SELECT key, value FROM meta"):
            self._meta[key] = json.loads(value)
        self._db = db

    @property
    def is_empty(self) -> bool:
        """True when nothing was ever stored (a fresh state file)."""
        return not self._meta and not self._colls

    def all(self, coll: str) -> list[Obj]:
        """The objects of a collection in creation order (the stored dicts: do not mutate)."""
        return list(self._colls.get(coll, {}).values())

    def page(self, coll: str, start: int, stop: int) -> list[Obj]:
        """`all(coll)[start:stop]` without copying the rest of the collection."""
        return list(islice(self._colls.get(coll, {}).values(), start, stop))

    def get(self, coll: str, key: str) -> Obj | None:
        """One object, or None."""
        return self._colls.get(coll, {}).get(key)

    def count(self, coll: str) -> int:
        """How many objects a collection holds."""
        return len(self._colls.get(coll, {}))

    def put(self, coll: str, key: str, obj: Obj) -> None:
        """Create or replace an object (keeps its place in creation order)."""
        objects = self._colls.setdefault(coll, {})
        is_new = key not in objects
        objects[key] = obj
        if self._db is not None:
            if is_new:
                self._seq += 1
            self._db.execute(_UPSERT, (coll, key, self._seq, json.dumps(obj)))

    def delete(self, coll: str, key: str) -> Obj | None:
        """Remove an object; returns it (None when it was not there)."""
        obj = self._colls.get(coll, {}).pop(key, None)
        if obj is not None and self._db is not None:
            self._db.execute("DELETE FROM objects WHERE coll = ? AND key = ?", (coll, key))
        return obj

    def meta(self, key: str) -> Any:
        """A persisted setting (org id, admin token...), or None."""
        return self._meta.get(key)

    def set_meta(self, key: str, value: Any) -> None:
        """Persist a setting."""
        self._meta[key] = value
        if self._db is not None:
            self._db.execute(_SET_META, (key, json.dumps(value)))

    def clear(self, keep_meta: bool = True) -> None:
        """Drop every object (and the settings unless `keep_meta`)."""
        self._colls.clear()
        if not keep_meta:
            self._meta.clear()
        if self._db is not None:
            with self.batch():
                self._db.execute("DELETE FROM objects")
                if not keep_meta:
                    self._db.execute("DELETE FROM meta")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the writes of one request into one SQLite transaction (one commit)."""
        if self._db is None or self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._depth += 1
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            # Commit even on error: memory already holds those writes, and disk must agree with it.
            self._depth -= 1
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the SQLite file (no-op in memory)."""
        if self._db is not None:
            self._db.close()
            self._db = None
