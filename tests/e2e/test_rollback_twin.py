"""`mistctl rollback` end to end: the twin over HTTP, `python -m mistctl` as a user runs it (SQLite state).

Fleet A is applied; fleet B (a new WLAN, site and PSK, an RF template and a site changed, a label and
the WLAN policy using it deleted) is applied with --allow-delete; rolling that run back gives an org
equal, object by object, to the one before it (new ids, references rebound). A kill -9 in the middle
of a rollback, re-run, ends the same with no duplicate; a second rollback is a no-op.
"""

from __future__ import annotations

import signal
import sqlite3
from collections import Counter
from pathlib import Path

from tests.e2e.rollback_support import NEW_PSK_PASSPHRASE, NEW_SITE, RUN_ID, fleets, org_by_key
from tests.e2e.test_deletes_twin import Twin, _twin, cli_killed


def _apply_b(tmp: Path, twin: Twin) -> tuple[str, dict[str, object], dict[str, object]]:
    a, b = fleets(tmp)
    code, out = twin.cli("apply", str(a), "--yes")
    assert code == 0, out[-3000:]
    before = twin.state()
    code, out = twin.cli("apply", str(b), "--yes", "--allow-delete")
    assert code == 0, out[-3000:]
    found = RUN_ID.search(out)
    assert found, out[-2000:]
    after = twin.state()
    assert org_by_key(after) != org_by_key(before)
    return found.group(1), before, after


def _writes(twin: Twin, since: dict[str, int]) -> dict[str, int]:
    spent = Counter(twin.counters()["by_route"]) - Counter(since)
    return {route: n for route, n in spent.items() if not route.startswith("GET")}


def test_a_rollback_gives_back_the_org_as_it_was_and_a_second_is_a_no_op(tmp_path: Path) -> None:
    with _twin(tmp_path) as twin:
        run_id, before, after = _apply_b(tmp_path, twin)
        assert NEW_SITE in {s["name"] for s in after["sites"]}

        code, out = twin.cli("rollback", run_id[:8])  # not a terminal, no --yes: shows the plan, refuses
        assert code == 2 and "--yes" in out, out[-2000:]
        assert "recreate  labels store-internal" in out and "delete    sites " + NEW_SITE in out, out
        assert "restore   rf_templates store-rf" in out and "PSK passphrases are not rolled back" in out, out
        assert twin.state() == after

        calls = twin.counters()["by_route"]
        total = twin.counters()["total"]
        code, out = twin.cli("rollback", run_id[:8], "--yes")
        assert code == 0 and f"run {run_id} rolled back" in out, out[-3000:]
        spent = twin.counters()["total"] - total
        writes = _writes(twin, calls)
        print(f"rollback: {spent} calls, writes {writes}")  # the figure the report quotes
        assert writes == {  # one call per undo: 2 recreates, 2 restores, 3 deletes
            "POST /api/v1/orgs/{org_id}/wxtags": 1, "POST /api/v1/orgs/{org_id}/wxrules": 1,
            "PUT /api/v1/orgs/{org_id}/rftemplates/{rftemplate_id}": 1, "PUT /api/v1/sites/{site_id}": 1,
            "DELETE /api/v1/orgs/{org_id}/wlans/{wlan_id}": 1, "DELETE /api/v1/sites/{site_id}": 1,
            "DELETE /api/v1/orgs/{org_id}/psks/{psk_id}": 1}, writes
        assert org_by_key(twin.state()) == org_by_key(before)

        calls = twin.counters()["by_route"]
        code, out = twin.cli("rollback", run_id, "--yes")
        assert code == 0 and "already rolled back by run" in out, out[-2000:]
        assert _writes(twin, calls) == {}

        db = (tmp_path / "state.db").read_bytes() + _wal(tmp_path)
        assert NEW_PSK_PASSPHRASE.encode() not in db and b"corp-example-passphrase" not in db


def _wal(tmp: Path) -> bytes:
    wal = tmp / "state.db-wal"
    return wal.read_bytes() if wal.exists() else b""


def test_unknown_and_ambiguous_runs_are_refused(tmp_path: Path) -> None:
    with _twin(tmp_path) as twin:
        a, _b = fleets(tmp_path)
        code, out = twin.cli("apply", str(a), "--yes")
        assert code == 0, out[-2000:]
        state = twin.state()
        code, out = twin.cli("rollback", "feedfacecafe", "--yes")
        assert code == 2 and "no run 'feedfacecafe'" in out and "Traceback" not in out, out[-2000:]
        assert twin.state() == state


def test_a_rollback_killed_midway_resumes_to_the_same_org_without_duplicates(tmp_path: Path) -> None:
    with _twin(tmp_path, latency_ms=40, jitter_ms=10) as twin:
        run_id, before, after = _apply_b(tmp_path, twin)
        kills, partial = 0, 0
        for at in (11, 13):  # GET /self and the reads (7 lists, the inventory), then into the 7 writes
            kills += cli_killed(twin, ["rollback", run_id, "--yes"], at) == -signal.SIGKILL
            now = org_by_key(twin.state())
            partial += now not in (org_by_key(before), org_by_key(after))
            twin.cli("unlock", twin.org_id, "--yes")  # the killed run's lock (else it lapses within a minute)
        assert kills >= 1 and partial >= 1, (kills, partial)  # killed between two writes at least once
        killed = sqlite3.connect(tmp_path / "state.db").execute(
            "SELECT id FROM runs WHERE body LIKE '%\"kind\":\"rollback\"%' ORDER BY created_ts").fetchall()
        code, out = twin.cli("status", "--run", killed[-1][0][:8], "--json")
        assert "interrupted" in out and f"mistctl rollback {run_id}" in out, out[-2000:]
        code, out = twin.cli("rollback", run_id, "--yes")
        assert code == 0, out[-3000:]
        assert org_by_key(twin.state()) == org_by_key(before)  # lists: a duplicate would show

        def rollback_runs() -> int:
            found = sqlite3.connect(tmp_path / "state.db").execute(
                "SELECT COUNT(*) FROM runs WHERE body LIKE '%\"kind\":\"rollback\"%'").fetchone()
            return int(found[0])

        resumed = rollback_runs()  # the killed ones, and the resume's own (none when a kill came after the
        assert resumed in (len(killed), len(killed) + 1)  # last write: the writes of one action go at once)
        code, out = twin.cli("rollback", run_id, "--yes")
        assert code == 0 and "Nothing to do" in out, out[-2000:]
        assert rollback_runs() == resumed  # the no-op made no run
