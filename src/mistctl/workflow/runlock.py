"""The org lock every run takes before it reads the plan, held (and renewed) until the run ends.

One run per org, whoever starts it: the CLI, the service, a worker. The lock lives in the state store
the runs share (`org:{org_id}`, its owner the run id, its holder a line saying who), so two processes on
one SQLite file, or two hosts on one Redis, exclude each other. A fleet run takes the org first
(waited for), then its sites (`site:{org_id}:{site}`, a few seconds' grace at most: a single-site
request of the service holds its site while it waits for the org, so the org's holder must not wait
long for a site, or the two would wait for each other). A lock lapses `ttl` seconds after its holder stopped renewing
it (a kill -9); `mistctl unlock` frees it at once. While held, the run's `heartbeat_at` is renewed: a
non-terminal run that no longer holds its org lock is shown `interrupted`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from mistctl.store.models import LockInfo, Run, utcnow
from mistctl.store.port import StateStore

log = logging.getLogger("mistctl.runlock")

CLI_LOCK_TTL = 60.0  # seconds; renewed every third of it: a killed CLI frees the org within a minute
POLL = 0.25
SITE_GRACE = 5.0  # seconds a run holding the org waits for one of its sites
INTERRUPTED = ("interrupted: the process running it stopped (killed, crashed or Ctrl-C); "
               "apply the fleet again to resume where it stopped")


def site_lock(org_id: str, site: str) -> str:
    """The lock name of one site."""
    return f"site:{org_id}:{site}"


def org_lock(org_id: str) -> str:
    """The lock name of an org (its runs)."""
    return f"org:{org_id}"


def holder_line(command: str, actor: str) -> str:
    """Who takes a lock: the command, who asked, the host and pid, since when (UTC)."""
    since = utcnow().strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{command} by {actor} on {socket.gethostname()} pid {os.getpid()} since {since}"


_HOST_PID = re.compile(r" on (\S+) pid (\d+) since ")


def holder_gone(holder: str) -> bool:
    """True when the holder ran on this host and its process is gone (a kill -9); False when unknown."""
    found = _HOST_PID.search(holder)
    if found is None or found.group(1) != socket.gethostname():
        return False
    try:
        os.kill(int(found.group(2)), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False
    return False


class Busy(Exception):
    """A lock is held by another run: the site (or org), that run and who holds it, when known."""

    def __init__(self, org_id: str, site: str | None, run_id: str | None, holder: str = "") -> None:
        self.org_id, self.site, self.run_id, self.holder = org_id, site, run_id, holder
        by = f"run {run_id}" if run_id else "another mistctl process"
        if holder:
            by += f" ({holder})"
        what = f"site {site!r} of org {org_id} is being deployed" if site else f"org {org_id} is busy"
        super().__init__(f"{what} by {by}; retry when it has finished, or, if that process is gone, "
                         f"free it with `mistctl unlock {org_id}`")

    @classmethod
    def of(cls, org_id: str, site: str | None, info: LockInfo | None) -> Busy:
        """The error for a lock found held (`info` None: it was freed meanwhile)."""
        return cls(org_id, site, info.owner if info else None, info.holder if info else "")


class LockLost(Busy):
    """A lock of ours lapsed (it could not be renewed in time) and another run took it: before the run's first
    write, nothing is written; once writing (`written`), the run stops writing what the lock covers. The
    message names that run."""

    def __init__(self, org_id: str, site: str | None, run_id: str | None, holder: str = "", *,
                 written: bool = False, note: str = "") -> None:
        self.org_id, self.site, self.run_id, self.holder, self.written = org_id, site, run_id, holder, written
        what = f"the lock of site {site!r} of org {org_id}" if site else f"the lock of org {org_id}"
        by = f"run {run_id}" if run_id else "another mistctl process"
        if holder:
            by += f" ({holder})"
        if written:
            where = f"site {site!r}" if site else "the org"
            text = (f"{what} lapsed while this run was writing (the process could not renew it in time) and "
                    f"{by} took it; this run stopped writing to {where} (calls already sent were let finish)"
                    f"{note}")
        else:
            text = (f"{what} lapsed before this run wrote anything (the process could not renew it in time) "
                    f"and {by} took it; nothing was written: apply again once that run has finished")
        Exception.__init__(self, text)


OnWait = Callable[[LockInfo], Awaitable[None] | None]


async def wait_for_lock(store: StateStore, name: str, owner: str, *, holder: str, ttl: float,
                        wait: float, on_wait: OnWait | None = None, poll: float = POLL) -> LockInfo | None:
    """Take the lock, waiting up to `wait` seconds; None when taken, else who still holds it.

    `on_wait` hears once who holds it, when the caller has to wait.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(wait, 0.0)
    told = False
    while not await store.acquire_lock(name, owner, ttl, holder=holder):
        info = await store.get_lock(name)
        if loop.time() >= deadline:
            return info or LockInfo(name=name, owner="", holder="", expires_at=utcnow())
        if info is not None and not told and on_wait is not None:
            told = True
            said = on_wait(info)
            if said is not None:
                await said
        await asyncio.sleep(poll)
    return None


@dataclass
class RunLease:
    """The locks a run holds, renewed every third of `ttl` (with the run's heartbeat) until released.

    A lock can lapse while held when the process could not renew it in time (a plan of thousands of sites
    on a loaded machine, a confirmation prompt left open): the next renewal takes it again if nobody else
    did, and `ensure()`, called before the run's first write, refuses (`Busy`) when another run has it.
    """

    store: StateStore
    owner: str
    ttl: float
    names: list[str] = field(default_factory=list)
    run_id: str | None = None  # once recorded, its heartbeat is renewed with the locks
    holder: str = ""
    lost: list[str] = field(default_factory=list)  # lapsed, then taken by another run: no longer ours
    taken: dict[str, LockInfo | None] = field(default_factory=dict)  # a lost lock -> who took it, when known

    async def beat(self) -> None:
        """Renew the locks (a lapsed one is taken again if free, else logged as lost) and the heartbeat."""
        names = [n for n in self.names if n not in self.lost]
        kept = await self.store.refresh_locks(names, self.owner, self.ttl) if names else []  # one round trip
        lapsed = [name for name, ok in zip(names, kept, strict=True) if not ok]
        if lapsed:
            retaken = await self.store.acquire_locks(lapsed, self.owner, self.ttl, holder=self.holder)
            for name, ok in zip(lapsed, retaken, strict=True):
                if ok:
                    log.warning("lock %s of run %s lapsed while held; it was free and is taken again",
                                name, self.owner)
                else:
                    log.warning("lock %s of run %s lapsed while held and another run took it", name, self.owner)
                    self.taken[name] = await self.store.get_lock(name)
                    self.lost.append(name)
        if self.run_id is not None:
            await self.store.update_run(self.run_id, heartbeat_at=utcnow())

    async def ensure(self, org_id: str) -> None:
        """Before the run's first write: renew every lock now (a lapsed one taken again if free); `LockLost`
        naming the run that took one meanwhile (nothing of ours was written yet)."""
        await self.beat()
        lost = self.lost_error(org_id)
        if lost is not None:
            raise lost

    def lost_error(self, org_id: str, *, written: bool = False, note: str = "") -> LockLost | None:
        """The first lock lost (the org's first), naming who took it; None while every lock is ours."""
        if not self.lost:
            return None
        name = org_lock(org_id) if org_lock(org_id) in self.lost else self.lost[0]
        site = name.removeprefix(site_lock(org_id, "")) if name != org_lock(org_id) else None
        info = self.taken.get(name)
        return LockLost(org_id, site, info.owner if info else None, info.holder if info else "", written=written,
                        note=note)

    async def attach(self, run: Run) -> None:
        """The run is recorded: its heartbeat starts now."""
        self.run_id = run.id
        await self.store.update_run(run.id, heartbeat_at=utcnow())

    async def release(self) -> None:
        """Release every lock held (a lapsed one is left to its new holder)."""
        with contextlib.suppress(Exception):
            await self.store.release_locks(self.names[::-1], self.owner)
        self.names.clear()

    async def keep_alive(self) -> None:
        """Beat every third of the TTL until cancelled (a failed beat is logged and tried again)."""
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self.beat()
            except Exception as exc:  # the store blinked: try again at the next beat
                log.warning("could not renew the locks of run %s: %s", self.owner, exc)


@asynccontextmanager
async def org_run(store: StateStore, org_id: str, owner: str, *, holder: str, wait: float,
                  sites: Sequence[str] = (), ttl: float = CLI_LOCK_TTL,
                  on_wait: OnWait | None = None) -> AsyncIterator[RunLease]:
    """Hold the org lock, then the sites', for the block (waited for up to `wait`); `Busy` names the holder."""
    lease = RunLease(store, owner, ttl, holder=holder)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(wait, 0.0)
    renewer: asyncio.Task[None] | None = None
    try:
        held = await wait_for_lock(store, org_lock(org_id), owner, holder=holder, ttl=ttl, wait=wait,
                                   on_wait=on_wait)
        if held is not None:
            raise Busy.of(org_id, None, held if held.owner else None)
        lease.names.append(org_lock(org_id))
        names = {site: site_lock(org_id, site) for site in sites}  # all at once: one store round trip
        taken = await store.acquire_locks(list(names.values()), owner, ttl, holder=holder) if names else []
        lease.names += [name for name, ok in zip(names.values(), taken, strict=True) if ok]
        for (site, name), ok in zip(names.items(), taken, strict=True):
            if ok:
                continue
            left = min(SITE_GRACE, max(deadline - loop.time(), 0.0))
            held = await wait_for_lock(store, name, owner, holder=holder, ttl=ttl, wait=left)
            if held is not None:
                raise Busy.of(org_id, site, held if held.owner else None)
            lease.names.append(name)
        renewer = asyncio.create_task(lease.keep_alive())
        yield lease
    finally:
        if renewer is not None:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        await lease.release()


@asynccontextmanager
async def marks_stopped(store: StateStore, run_id: str, *, interrupted: str = INTERRUPTED) -> AsyncIterator[None]:
    """If the block raises, the run says how it stopped: `interrupted` (Ctrl-C, the service stopping, with
    how to resume) or `failed` (with the error); the exception goes on."""
    try:
        yield
    except (KeyboardInterrupt, asyncio.CancelledError):
        await store.update_run(run_id, status="interrupted", finished_at=utcnow(), error=interrupted)
        raise
    except BaseException as exc:
        await store.update_run(run_id, status="failed", finished_at=utcnow(), error=str(exc)[:500])
        raise


async def shown_status(store: StateStore, runs: Sequence[Run]) -> list[Run]:
    """The runs as they stand: one still 'running' whose process stopped (it no longer holds its org
    lock, or its holder's process is gone from this host) is shown `interrupted`, saying how to resume it."""
    holders: dict[str, str | None] = {}
    shown: list[Run] = []
    for run in runs:
        if run.is_terminal or run.heartbeat_at is None:
            shown.append(run)
            continue
        if run.org_id not in holders:
            info = await store.get_lock(org_lock(run.org_id))
            holders[run.org_id] = info.owner if info and not holder_gone(info.holder) else None
        if holders[run.org_id] == run.id:
            shown.append(run)
        else:
            shown.append(run.model_copy(update={"status": "interrupted", "error": _why(run)}))
    return shown


def interrupted_note(run: Run) -> str:
    """Why a run stopped and how to resume it: apply again, or for a rollback, roll back the same run again."""
    if run.kind != "rollback":
        return INTERRUPTED
    return INTERRUPTED.replace("apply the fleet", f"run `mistctl rollback {run.plan.get('rolls_back') or 'RUN'}`")


def _why(run: Run) -> str:
    beat = run.heartbeat_at or run.created_at
    return f"{interrupted_note(run)} (last heartbeat {beat.strftime('%Y-%m-%d %H:%M:%S UTC')})"
