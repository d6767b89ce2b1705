"""The SQLite state file: connection settings, schema and its versions.

WAL journal with `synchronous=NORMAL`: a committed write survives the process being killed (`kill -9`);
only a power cut may lose the last commits. Several processes may open one file: writers queue behind
`busy_timeout`. Records are kept as JSON bodies beside the few columns that queries filter and sort on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mistctl.store.errors import StoreConfigError

SCHEMA_VERSION = 6

# Each version's statements, applied in order to bring an older file up to SCHEMA_VERSION.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE runs (id TEXT PRIMARY KEY, status TEXT NOT NULL, created_ts REAL NOT NULL,
             body TEXT NOT NULL, plan TEXT NOT NULL)""",
        "CREATE INDEX runs_by_created ON runs (created_ts DESC, id DESC)",
        """CREATE TABLE run_counts (run_id TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL,
             PRIMARY KEY (run_id, name)) WITHOUT ROWID""",
        """CREATE TABLE steps (org_id TEXT NOT NULL, site TEXT NOT NULL, step INTEGER NOT NULL,
             kind TEXT NOT NULL, key TEXT NOT NULL, run_id TEXT NOT NULL, body TEXT NOT NULL,
             PRIMARY KEY (org_id, site, step, kind, key)) WITHOUT ROWID""",
        "CREATE INDEX steps_by_run ON steps (run_id)",
        """CREATE TABLE objects (org_id TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
             body TEXT NOT NULL, PRIMARY KEY (org_id, kind, key)) WITHOUT ROWID""",
        """CREATE TABLE site_states (org_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
             body TEXT NOT NULL, PRIMARY KEY (org_id, name)) WITHOUT ROWID""",
        "CREATE INDEX site_states_by_status ON site_states (status, org_id, name)",
        "CREATE INDEX site_states_by_name ON site_states (name, org_id)",
        """CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, site TEXT,
             body TEXT NOT NULL)""",
        "CREATE INDEX audit_by_run ON audit (run_id, seq)",
        "CREATE INDEX audit_by_site ON audit (site, seq)",
        """CREATE TABLE events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
             PRIMARY KEY (run_id, seq)) WITHOUT ROWID""",
        """CREATE TABLE locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL)
             WITHOUT ROWID""",
        """CREATE TABLE fingerprints (org_id TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
             body TEXT NOT NULL, PRIMARY KEY (org_id, kind, key)) WITHOUT ROWID""",
    ),
    2: ("ALTER TABLE locks ADD COLUMN holder TEXT NOT NULL DEFAULT ''",),  # who holds it, for messages
    # who owns each org object (a fleet or the service's design); NULL: recorded before owners were
    3: ("ALTER TABLE objects ADD COLUMN owner TEXT",),
    4: (  # before-images of the objects a run writes (`mistctl rollback`)
        """CREATE TABLE run_images (run_id TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
             seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (run_id, kind, key)) WITHOUT ROWID""",
    ),
    5: (  # SLE checks over time (`sle_history`): the console's trends
        """CREATE TABLE sle_checks (seq INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL,
             site TEXT NOT NULL, body TEXT NOT NULL)""",
        "CREATE INDEX sle_checks_by_site ON sle_checks (org_id, site, seq)",
    ),
    6: (  # a run's plan in a row of its own: a heartbeat's UPDATE of `runs` no longer rewrites megabytes
        "CREATE TABLE IF NOT EXISTS run_plans (run_id TEXT PRIMARY KEY, plan TEXT NOT NULL)",
        "INSERT OR IGNORE INTO run_plans (run_id, plan) SELECT id, plan FROM runs WHERE plan != ''",
        "UPDATE runs SET plan = ''",  # the old column stays (NOT NULL), empty
    ),
}


@contextmanager
def write_tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the file's write lock up front (no upgrade deadlocks); inside a
    transaction already (a group commit, `sqlite_thread`), a savepoint: all or nothing within it."""
    nested = conn.in_transaction
    conn.execute("SAVEPOINT tx" if nested else "BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK TO tx" if nested else "ROLLBACK")
        if nested:
            conn.execute("RELEASE tx")
        raise
    conn.execute("RELEASE tx" if nested else "COMMIT")


def connect(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """Open (creating when missing) and migrate the state file at `path`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StoreConfigError(
            f"cannot open the state file {path}: {exc}; pick a writable path (--state / MISTCTL_STATE)"
        ) from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # The journals of savepoints (each call of a group commit has one) in memory, not in a temporary file
        # created, written and deleted per transaction; the WAL alone makes a commit durable.
        conn.execute("PRAGMA temp_store = MEMORY")
        migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreConfigError(
            f"{path} is not a usable mistctl state file ({exc}); move it aside or pick another path"
        ) from None
    except BaseException:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the schema to SCHEMA_VERSION (once, even with several processes racing); the version."""
    with write_tx(conn):
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise StoreConfigError(
                f"{path} was written by a newer mistctl (schema {version}, this one knows {SCHEMA_VERSION}); "
                "upgrade mistctl or use another state file"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(max(version, SCHEMA_VERSION)),),
        )
    return SCHEMA_VERSION
