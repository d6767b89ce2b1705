"""SQLite queries for step records, the object map, site states, the audit log and fingerprints.

Synchronous; `SqliteStore` runs them in its own thread. Org-level step records keep site '' in the
table (a NULL would not take part in the primary key's uniqueness).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from mistctl.store._common import SiteFilter
from mistctl.store.models import SITE_STATUSES, AuditEntry, Fingerprint, ObjRef, RunImage, SiteState, StepRecord
from mistctl.store.sqlite_schema import write_tx


def _where(filters: Sequence[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """A WHERE clause ANDing `column = ?` for each filter."""
    if not filters:
        return "", []
    return "WHERE " + " AND ".join(f"{column} = ?" for column, _ in filters), [v for _, v in filters]


def upsert_steps(conn: sqlite3.Connection, recs: Sequence[StepRecord]) -> None:
    """Insert or replace step records by identity, in one transaction."""
    with write_tx(conn):
        _put_steps(conn, recs)


def _put_steps(conn: sqlite3.Connection, recs: Sequence[StepRecord]) -> None:
    rows = [(r.org_id, r.site or "", r.step, r.kind, r.key, r.run_id, r.model_dump_json()) for r in recs]
    conn.executemany(
        "INSERT OR REPLACE INTO steps (org_id, site, step, kind, key, run_id, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def record_done(conn: sqlite3.Connection, rec: StepRecord, ref: ObjRef, entries: Sequence[AuditEntry],
                images: Sequence[RunImage] = (), state: SiteState | None = None) -> None:
    """A step done: its record, its object's Mist id, the audit entries of its writes, the written object's
    before-image and the site's state (when given), in one transaction."""
    with write_tx(conn):
        _put_steps(conn, (rec,))
        _put_object(conn, ref)
        _put_audit(conn, entries)
        if images:
            _put_images(conn, images)
        if state is not None:
            _put_sites(conn, (state,))


def select_steps(
    conn: sqlite3.Connection, org_id: str, site: SiteFilter, run_id: str | None
) -> list[StepRecord]:
    """Step records of the org, filtered by site (None: org level) and run."""
    filters: list[tuple[str, Any]] = [("org_id", org_id)]
    if site is None or isinstance(site, str):
        filters.append(("site", site or ""))
    if run_id is not None:
        filters.append(("run_id", run_id))
    where, params = _where(filters)
    rows = conn.execute(f"SELECT body FROM steps {where} ORDER BY site, step, kind, key", params)
    return [StepRecord.model_validate_json(body) for (body,) in rows]


def select_step(
    conn: sqlite3.Connection, org_id: str, site: str | None, step: int, kind: str, key: str
) -> StepRecord | None:
    """One step record by identity."""
    row = conn.execute(
        "SELECT body FROM steps WHERE org_id = ? AND site = ? AND step = ? AND kind = ? AND key = ?",
        (org_id, site or "", step, kind, key),
    ).fetchone()
    return None if row is None else StepRecord.model_validate_json(row[0])


_PUT_OBJECT = (
    "INSERT INTO objects (org_id, kind, key, body, owner) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (org_id, kind, key) DO UPDATE SET body = excluded.body,"
    " owner = COALESCE(excluded.owner, objects.owner)"
)


def upsert_object(conn: sqlite3.Connection, ref: ObjRef) -> ObjRef:
    """Remember a Mist id; a ref without an owner keeps the owner recorded (one statement: atomic). The ref
    as recorded (with that owner)."""
    row = conn.execute(_PUT_OBJECT + " RETURNING owner", _object_row(ref)).fetchone()
    return ref.model_copy(update={"owner": row[0]})


def _put_object(conn: sqlite3.Connection, ref: ObjRef) -> None:
    """`upsert_object` for a caller that needs nothing back (a step done)."""
    conn.execute(_PUT_OBJECT, _object_row(ref))


def _object_row(ref: ObjRef) -> tuple[str, str, str, str, str | None]:
    return ref.org_id, ref.kind, ref.key, ref.model_dump_json(exclude={"owner"}), ref.owner


def select_objects(conn: sqlite3.Connection, org_id: str, kind: str) -> dict[str, ObjRef]:
    """Known objects of a kind by key, with their owners."""
    rows = conn.execute("SELECT key, body, owner FROM objects WHERE org_id = ? AND kind = ?", (org_id, kind))
    return {key: ObjRef.model_validate_json(body).model_copy(update={"owner": owner}) for key, body, owner in rows}


def delete_object(conn: sqlite3.Connection, org_id: str, kind: str, key: str) -> bool:
    """Forget a key; True if it was known."""
    cur = conn.execute("DELETE FROM objects WHERE org_id = ? AND kind = ? AND key = ?", (org_id, kind, key))
    return cur.rowcount == 1


def upsert_sites(conn: sqlite3.Connection, states: Sequence[SiteState]) -> None:
    """Insert or replace site states, in one transaction."""
    with write_tx(conn):
        _put_sites(conn, states)


def _put_sites(conn: sqlite3.Connection, states: Sequence[SiteState]) -> None:
    rows = [(s.org_id, s.name, s.status, s.model_dump_json()) for s in states]
    conn.executemany("INSERT OR REPLACE INTO site_states (org_id, name, status, body) VALUES (?, ?, ?, ?)", rows)


def select_site(conn: sqlite3.Connection, org_id: str | None, name: str) -> SiteState | None:
    """A site's state (first org by id when org_id is None)."""
    filters: list[tuple[str, Any]] = [("name", name)]
    if org_id is not None:
        filters.append(("org_id", org_id))
    where, params = _where(filters)
    row = conn.execute(f"SELECT body FROM site_states {where} ORDER BY org_id LIMIT 1", params).fetchone()
    return None if row is None else SiteState.model_validate_json(row[0])


def select_sites(
    conn: sqlite3.Connection, org_id: str | None, status: str | None, offset: int, limit: int
) -> list[SiteState]:
    """A page of site states ordered by (org_id, name); indexed for thousands of sites."""
    filters = [(c, v) for c, v in (("status", status), ("org_id", org_id)) if v is not None]
    where, params = _where(filters)
    rows = conn.execute(
        f"SELECT body FROM site_states {where} ORDER BY org_id, name LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [SiteState.model_validate_json(body) for (body,) in rows]


def count_sites(conn: sqlite3.Connection, org_id: str | None) -> dict[str, int]:
    """Sites per status, zeros included."""
    where, params = _where([("org_id", org_id)] if org_id is not None else [])
    counts: dict[str, int] = dict.fromkeys(SITE_STATUSES, 0)
    for status, n in conn.execute(
        f"SELECT status, COUNT(*) FROM site_states {where} GROUP BY status", params
    ):
        counts[status] = int(n)
    return counts


def insert_audit(conn: sqlite3.Connection, entries: Sequence[AuditEntry]) -> None:
    """Append audit entries in order, in one transaction."""
    with write_tx(conn):
        _put_audit(conn, entries)


def _put_audit(conn: sqlite3.Connection, entries: Sequence[AuditEntry]) -> None:
    rows = [(e.run_id, e.site, e.model_dump_json()) for e in entries]
    conn.executemany("INSERT INTO audit (run_id, site, body) VALUES (?, ?, ?)", rows)


_AUDIT_COLUMNS = ("run_id", "site", "json_extract(body, '$.kind')", "json_extract(body, '$.name')")


def select_audit(
    conn: sqlite3.Connection, filters: tuple[str | None, ...], page: tuple[int, int], newest_first: bool
) -> list[AuditEntry]:
    """A page (limit, offset) of audit entries in append order, or newest first; `filters` are the run id,
    site, kind and name (None: any)."""
    where, params = _where([(c, v) for c, v in zip(_AUDIT_COLUMNS, filters, strict=True) if v is not None])
    order = "DESC" if newest_first else "ASC"
    rows = conn.execute(
        f"SELECT body FROM audit {where} ORDER BY seq {order} LIMIT ? OFFSET ?", [*params, *page]
    )
    return [AuditEntry.model_validate_json(body) for (body,) in rows]


def upsert_fingerprint(conn: sqlite3.Connection, fp: Fingerprint) -> None:
    """Record a fingerprint."""
    conn.execute(
        "INSERT OR REPLACE INTO fingerprints (org_id, kind, key, body) VALUES (?, ?, ?, ?)",
        (fp.org_id, fp.kind, fp.key, fp.model_dump_json()),
    )


def select_fingerprint(conn: sqlite3.Connection, org_id: str, kind: str, key: str) -> Fingerprint | None:
    """The last fingerprint, or None."""
    row = conn.execute(
        "SELECT body FROM fingerprints WHERE org_id = ? AND kind = ? AND key = ?", (org_id, kind, key)
    ).fetchone()
    return None if row is None else Fingerprint.model_validate_json(row[0])


def upsert_images(conn: sqlite3.Connection, images: Sequence[RunImage]) -> None:
    """Insert or replace before-images by (run_id, kind, key), keeping the order first recorded."""
    with write_tx(conn):
        _put_images(conn, images)


def _put_images(conn: sqlite3.Connection, images: Sequence[RunImage]) -> None:
    next_seq: dict[str, int] = {}  # per run: its last seq is read once, not once per new image
    for img in images:
        body = img.model_dump_json()
        if conn.execute("UPDATE run_images SET body = ? WHERE run_id = ? AND kind = ? AND key = ?",
                        (body, img.run_id, img.kind, img.key)).rowcount:
            continue
        if img.run_id not in next_seq:
            next_seq[img.run_id] = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM run_images "
                                                "WHERE run_id = ?", (img.run_id,)).fetchone()[0]
        conn.execute("INSERT INTO run_images (run_id, kind, key, seq, body) VALUES (?, ?, ?, ?, ?)",
                     (img.run_id, img.kind, img.key, next_seq[img.run_id], body))
        next_seq[img.run_id] += 1


def select_image(conn: sqlite3.Connection, run_id: str, kind: str, key: str) -> RunImage | None:
    """One before-image by identity."""
    row = conn.execute("SELECT body FROM run_images WHERE run_id = ? AND kind = ? AND key = ?",
                       (run_id, kind, key)).fetchone()
    return None if row is None else RunImage.model_validate_json(row[0])


def select_images(conn: sqlite3.Connection, run_id: str) -> list[RunImage]:
    """A run's before-images in the order first recorded."""
    rows = conn.execute("SELECT body FROM run_images WHERE run_id = ? ORDER BY seq", (run_id,))
    return [RunImage.model_validate_json(body) for (body,) in rows]
