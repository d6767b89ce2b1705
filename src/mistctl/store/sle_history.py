"""SLE checks over time, for each adapter: a mixin each for SQLite, Redis and memory.

Every check of a site (`mistctl assure`, a rollout's gate, the service's assurance call) is appended;
the console draws each site's last checks as a trend. Each adapter keeps the last `KEEP` checks per
site: SQLite a table (schema 3) indexed by (org, site, seq), Redis a list per (org, site) and a set of
the org's checked sites, memory the same in dicts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from mistctl.store._common import check_page
from mistctl.store.models import SleCheck
from mistctl.store.sqlite_schema import write_tx

KEEP = 1000  # checks kept per site (a gate every 10 minutes: a week)
_T = TypeVar("_T")


def _insert(conn: sqlite3.Connection, checks: Sequence[SleCheck]) -> None:
    rows = [(c.org_id, c.site, c.model_dump_json()) for c in checks]
    with write_tx(conn):
        conn.executemany("INSERT INTO sle_checks (org_id, site, body) VALUES (?, ?, ?)", rows)
        for org_id, site in {(c.org_id, c.site) for c in checks}:
            conn.execute("DELETE FROM sle_checks WHERE org_id = ? AND site = ? AND seq <= (SELECT seq FROM "
                         "sle_checks WHERE org_id = ? AND site = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                         (org_id, site, org_id, site, KEEP))


def _select(conn: sqlite3.Connection, org_id: str, sites: Sequence[str] | None,
            last: int) -> dict[str, list[SleCheck]]:
    found: dict[str, list[SleCheck]] = {}
    rows: Iterable[tuple[str, str]]
    if sites is None:
        rows = conn.execute(
            "SELECT site, body FROM (SELECT site, body, seq, ROW_NUMBER() OVER (PARTITION BY site ORDER BY seq "
            "DESC) AS back FROM sle_checks WHERE org_id = ?) WHERE back <= ? ORDER BY site, seq", (org_id, last))
    else:
        rows = (row for site in sites for row in reversed(conn.execute(
            "SELECT site, body FROM sle_checks WHERE org_id = ? AND site = ? ORDER BY seq DESC LIMIT ?",
            (org_id, site, last)).fetchall()))
    for site, body in rows:
        found.setdefault(site, []).append(SleCheck.model_validate_json(body))
    return found


class SqliteSleHistory:
    """`append_sle_checks` and `sle_history` in the state file (a window query for every site at once)."""

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        raise NotImplementedError  # SqliteStore's

    async def append_sle_checks(self, checks: Sequence[SleCheck]) -> None:
        """Append in one transaction."""
        if checks:
            await self._call(_insert, list(checks))

    async def sle_history(
        self, org_id: str, sites: Sequence[str] | None = None, last: int = 24
    ) -> dict[str, list[SleCheck]]:
        """Each site's last checks, oldest first."""
        check_page(last)
        return await self._call(_select, org_id, None if sites is None else list(sites), last)


class MemorySleHistory:
    """`append_sle_checks` and `sle_history` in process memory."""

    def __init__(self) -> None:
        self._sle: dict[tuple[str, str], list[SleCheck]] = {}

    async def append_sle_checks(self, checks: Sequence[SleCheck]) -> None:
        """Append in order."""
        for check in checks:
            kept = self._sle.setdefault((check.org_id, check.site), [])
            kept.append(check)
            del kept[:-KEEP]

    async def sle_history(
        self, org_id: str, sites: Sequence[str] | None = None, last: int = 24
    ) -> dict[str, list[SleCheck]]:
        """Each site's last checks, oldest first."""
        check_page(last)
        names = sorted(s for o, s in self._sle if o == org_id) if sites is None else list(sites)
        found = {name: self._sle.get((org_id, name), [])[-last:] for name in names}
        return {name: list(checks) for name, checks in found.items() if checks}
