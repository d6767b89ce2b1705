"""PSK rotation: a new strong passphrase per PSK; Mist keeps the previous one until the grace period ends.

`rotate_psks` sets a passphrase made by `secrets` on each chosen PSK (`PUT /orgs/{org_id}/psks/{id}`),
sending the current one as `old_passphrase` so devices still using it stay connected, and checks that
Mist's answer kept it (`psk_check`): the first PSK is rotated alone, and if Mist dropped the old
passphrase it is put back and the rotation stops before anyone is locked out. The new
passphrase is handed back once (the CLI shows it or writes it to a 0600 file, the API answers it in
that one response) and only its fingerprint reaches the state store. `finish_rotations` removes the
old passphrase (`delete_old_passphrase`) once the grace period chosen at rotation time is over.

Records per PSK name (see `psk_records`): fingerprints `psks` (the passphrase mistctl set, with the
rotation time) and `psks_origin` (the passphrase the first rotation replaced, normally the fleet's);
a `psk_rotation` step record, "running" until finished, naming the rotation run that holds the grace.
A crash between Mist's answer and these records leaves a rotation mistctl does not know about: the
next plan sets the fleet's passphrase back, and Mist keeps the unseen one as the old passphrase.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import SecretStr

from mistctl.domain import kinds as K
from mistctl.domain.durations import human_duration
from mistctl.errors import UserError
from mistctl.mist.errors import MistError, MistTransportError
from mistctl.store.models import Run, utcnow
from mistctl.store.port import StateStore
from mistctl.store.redact import redact_text
from mistctl.workflow.context import call_scope
from mistctl.workflow.psk_check import RotationUnsafe, ensure_old_kept, rotation_body
from mistctl.workflow.psk_records import grace_left, mark_finished, record_rotation
from mistctl.workflow.records import AuditSource, Records

DEFAULT_GRACE = 24 * 3600.0
PASSPHRASE_LENGTH = 32  # Mist (WPA2) accepts 8 to 63 characters
CONCURRENCY = 8


class PskApi(Protocol):
    """The PSK calls of `mistctl.mist.MistClient` a rotation makes."""

    async def list_psks(self, org_id: str, **filters: Any) -> list[dict[str, Any]]: ...

    async def update_psk(self, org_id: str, psk_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    async def delete_old_passphrase(self, org_id: str, psk_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Rotated:
    """One PSK rotated: its new passphrase (a `SecretStr`, shown once) and when the grace ends."""

    name: str
    psk_id: str
    ssid: str
    passphrase: SecretStr = field(repr=False)
    rotated_at: datetime
    grace_until: datetime


@dataclass
class RotationOutcome:
    """What a rotation did: the run, the PSKs rotated, and those that failed (name -> why)."""

    run_id: str
    grace_seconds: float
    rotated: list[Rotated] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    stopped: RotationUnsafe | None = field(default=None, repr=False)  # Mist did not keep an old passphrase

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class FinishOutcome:
    """What `finish` did: PSKs whose old passphrase is gone, refused (name -> why), left alone."""

    run_id: str | None = None
    finished: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.refused and not self.failed


def new_passphrase(length: int = PASSPHRASE_LENGTH) -> str:
    """A random passphrase of `length` URL-safe characters (8..63, what WPA2 accepts)."""
    if not 8 <= length <= 63:
        raise ValueError(f"a PSK passphrase has 8 to 63 characters, not {length}")
    return secrets.token_urlsafe(length)[:length]


def choose_psks(psks: Sequence[dict[str, Any]], names: Sequence[str], every: bool) -> list[dict[str, Any]]:
    """The PSKs named (or all of them); `UserError` for none, both, unknown names or duplicate names."""
    if every == bool(names):
        raise UserError("name the PSKs with --name NAME (repeatable), or pass --all for every PSK of the org")
    by_name: dict[str, list[dict[str, Any]]] = {}
    for psk in psks:
        by_name.setdefault(str(psk.get("name")), []).append(psk)
    wanted = list(by_name) if every else list(dict.fromkeys(names))
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name)) or "none"
        raise UserError(f"no PSK named {', '.join(map(repr, unknown))} in the org (PSKs: {known})")
    doubled = {n: [str(p.get("id")) for p in by_name[n]] for n in wanted if len(by_name[n]) > 1}
    if doubled:
        lines = "; ".join(f"{n!r} ({', '.join(ids)})" for n, ids in doubled.items())
        raise UserError(f"several PSKs share a name, so mistctl cannot tell them apart: {lines}; rename one")
    return [by_name[n][0] for n in wanted]


async def rotate_psks(mist: PskApi, store: StateStore, org_id: str, *, names: Sequence[str] = (),
                      ledger: AuditSource | None, every: bool = False, grace: float = DEFAULT_GRACE,
                      force: bool = False, actor: str = "cli",
                      now: Callable[[], datetime] = utcnow) -> RotationOutcome:
    """Give each chosen PSK a new passphrase, recorded as a `psk-rotate` run (fingerprints only).

    `ledger` is the client's call ledger: the writes it saw go to the audit log (None: no audit).
    """
    chosen = choose_psks(await mist.list_psks(org_id), names, every)
    pending = sorted(str(p["name"]) for p in chosen if p.get("old_passphrase"))
    if pending and not force:
        raise UserError(f"PSK {', '.join(pending)} still has the passphrase of an unfinished rotation: run "
                        "`mistctl psk finish` first (or pass --force, and devices on the oldest passphrase "
                        "lose access)")
    run = await store.create_run(Run(
        kind="psk-rotate", org_id=org_id, status="running", started_at=now(), requested_by=actor,
        plan={"grace_seconds": grace, "rotate": [p["name"] for p in chosen]}, counts={"psks": len(chosen)}))
    records = Records(store, org_id, run.id, actor=actor, ledger=ledger)
    outcome = RotationOutcome(run.id, grace)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(psk: dict[str, Any]) -> None:
        async with gate:
            try:
                outcome.rotated.append(await _rotate_one(mist, records, psk, grace, now))
            except (MistError, RotationUnsafe) as exc:
                outcome.failed[str(psk["name"])] = redact_text(str(exc))
                if isinstance(exc, RotationUnsafe) and outcome.stopped is None:
                    outcome.stopped = exc

    try:
        # The first PSK alone: if Mist does not keep old passphrases, one PSK learns it (and is put back).
        await asyncio.gather(*(one(p) for p in chosen[:1]))
        if outcome.stopped is None:
            await asyncio.gather(*(one(p) for p in chosen[1:]))
    finally:
        await records.flush_audit()
        await _close_run(store, run.id, len(outcome.rotated), outcome.failed)
    if outcome.stopped is not None and not outcome.rotated:
        raise outcome.stopped
    outcome.rotated.sort(key=lambda r: r.name)
    return outcome


async def _rotate_one(mist: PskApi, records: Records, psk: dict[str, Any], grace: float,
                      now: Callable[[], datetime]) -> Rotated:
    name, psk_id, org_id = str(psk["name"]), str(psk["id"]), records.org_id
    passphrase = new_passphrase()
    body = rotation_body(psk, passphrase)
    with call_scope(None, K.PSKS.key, name):
        try:
            answer = await mist.update_psk(org_id, psk_id, body)
        except MistTransportError:
            # The answer was lost: whether the passphrase is set is read back, not guessed.
            live = await mist.list_psks(org_id, name=name)
            found = [p for p in live if p.get("id") == psk_id and p.get("passphrase") == passphrase]
            if not found:
                raise
            answer = found[0]
        await ensure_old_kept(mist, org_id, psk, answer)
    when = now()
    replaced = str(psk["passphrase"]) if psk.get("passphrase") else None
    await record_rotation(records, name, psk_id, passphrase, replaced, when)
    await records.flush_audit((None, K.PSKS.key, name), psk_id)
    await records.event({"type": "psk_rotated", "name": name})
    return Rotated(name, psk_id, str(psk.get("ssid", "")), SecretStr(passphrase), when,
                   when + timedelta(seconds=grace))


async def finish_rotations(mist: PskApi, store: StateStore, org_id: str, *, names: Sequence[str] = (),
                           ledger: AuditSource | None, every: bool = False, force: bool = False,
                           actor: str = "cli", now: Callable[[], datetime] = utcnow) -> FinishOutcome:
    """Remove the old passphrase of rotated PSKs whose grace period is over (any, with `force`)."""
    psks = await mist.list_psks(org_id)
    chosen = [p for p in psks if p.get("old_passphrase")] if every else choose_psks(psks, names, False)
    outcome = FinishOutcome()
    ready: list[dict[str, Any]] = []
    for psk in chosen:
        name = str(psk["name"])
        if not psk.get("old_passphrase"):
            outcome.skipped[name] = "no old passphrase: nothing to finish"
            continue
        why = await _not_yet(store, org_id, psk, now())
        if why and not force:
            outcome.refused[name] = why
        else:
            ready.append(psk)
    if ready:
        await _finish(mist, store, org_id, ready, outcome, actor, ledger, now)
    return outcome


async def _not_yet(store: StateStore, org_id: str, psk: dict[str, Any], at: datetime) -> str | None:
    """Why the old passphrase must stay (grace not over, or no rotation of mistctl's), or None."""
    live = str(psk["passphrase"]) if psk.get("passphrase") else None
    left = await grace_left(store, org_id, str(psk["name"]), live, at)
    if left is None:
        return "mistctl has no record of rotating it; pass --force to remove its old passphrase anyway"
    if left > 0:
        return f"its grace period has {human_duration(left)} left; wait, or pass --force"
    return None


async def _finish(mist: PskApi, store: StateStore, org_id: str, ready: list[dict[str, Any]],
                  outcome: FinishOutcome, actor: str, ledger: AuditSource | None,
                  now: Callable[[], datetime]) -> None:
    run = await store.create_run(Run(kind="psk-finish", org_id=org_id, status="running", started_at=now(),
                                     requested_by=actor, plan={"finish": [p["name"] for p in ready]}))
    outcome.run_id = run.id
    records = Records(store, org_id, run.id, actor=actor, ledger=ledger)
    try:
        for psk in ready:
            name, psk_id = str(psk["name"]), str(psk["id"])
            try:
                with call_scope(None, K.PSKS.key, name):
                    await mist.delete_old_passphrase(org_id, psk_id)
            except MistError as exc:
                outcome.failed[name] = redact_text(str(exc))
                continue
            await mark_finished(records, name, psk_id)
            await records.flush_audit((None, K.PSKS.key, name), psk_id)
            outcome.finished.append(name)
    finally:
        await records.flush_audit()
        await _close_run(store, run.id, len(outcome.finished), outcome.failed)


async def _close_run(store: StateStore, run_id: str, done: int, failed: dict[str, str]) -> None:
    status = "completed" if not failed else ("partial" if done else "failed")
    error = "; ".join(f"{n}: {e}" for n, e in sorted(failed.items()))[:2000] or None
    await store.update_run(run_id, status=status, finished_at=utcnow(), error=error)
