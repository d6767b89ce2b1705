"""Deployments on a Redis job queue (arq): what the CLI and the service call to enqueue, and each run's book.

With `MISTCTL_STATE=redis://...` a deployment is not run by the process that accepts it: it is recorded
as a run, its fleet is sealed into Redis, and a `deploy` job is queued. `mistctl worker` processes run
it (`mistctl.scaleout.worker`): `deploy` plans and converges the org-level objects, then queues one `site` job
per site; the last site job to finish queues `finish`. Job ids are deterministic (`deploy:<run>`,
`site:<run>:<site>`, `finish:<run>`), so queueing one twice is a no-op.

The fleet holds secrets (PSK passphrases, RADIUS secrets), so it never waits in Redis in clear: it is
sealed with AES-GCM under a key derived from the Mist token(s) the deployment runs with, bound to the run
id. A worker holding the same `MIST_APITOKEN` opens it; anyone else reading Redis cannot. Job payloads
and logs carry only run ids and `SiteJob`s (ids, no secrets), serialised as JSON (never pickle).

Each run's book (`<prefix>qrun:<run>...`): its sealed fleet and options, the sites expected and the sites
done (sets, so a retried job never counts twice), who did each site, each failure, the late bindings.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from typing import Any

from arq.connections import ArqRedis
from arq.constants import abort_jobs_ss, in_progress_key_prefix, job_key_prefix, result_key_prefix, retry_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from pydantic import SecretStr

from mistctl.domain import kinds as K
from mistctl.domain.fleet import Fleet
from mistctl.domain.owners import Ownership
from mistctl.errors import UserError
from mistctl.mist.budget import token_fingerprint
from mistctl.scaleout.seal import SealError, seal, unseal
from mistctl.store._common import prepare_event
from mistctl.store.models import Run
from mistctl.store.port import StateStore
from mistctl.store.redis_batch import Write, write_batch
from mistctl.store.redis_keys import SEP, publish_event_lua
from mistctl.store.redis_runs import aw
from mistctl.store.redis_store import RedisStore
from mistctl.workflow.delete import DeleteConsent
from mistctl.workflow.site_job import SiteJob

log = logging.getLogger("mistctl.queue")

DEPLOY, SITE, FINISH = "deploy", "site", "finish"
BOOK_TTL = 7 * 24 * 3600  # seconds a run's book outlives its last change (abandoned runs leave nothing)
# KEYS: done, expected, meta, by, failed, the run's counters, its event stream and sequence (the store's
# layout: `RedisRuns.publish_event`), then (optional) the arq job's in-progress, retry and job keys, arq's
# abort set and the queue; ARGV: site, worker, failure ('' = none), the event ('' = none), the job's id ('' =
# none), then counter/delta pairs. The counters move and the event is published only when the site is newly
# done; then, unless it is the run's last site, the job is finished as arq's `finish_job` finishes it (keys
# deleted, out of the queue: `ClaimingWorker` skips its own round trip for it). The last site's job stays
# arq's: it still queues `finish`, and were that lost it would run again, find its site done, and queue it.
_MARK_DONE = """
local added = redis.call('SADD', KEYS[1], ARGV[1])
if added == 1 then
  redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
  if ARGV[3] ~= '' then redis.call('HSET', KEYS[5], ARGV[1], ARGV[3]) end
  for i = 6, #ARGV, 2 do redis.call('HINCRBY', KEYS[6], ARGV[i], ARGV[i + 1]) end
  if ARGV[4] ~= '' then
""" + publish_event_lua("KEYS[7]", "KEYS[8]", "ARGV[4]") + """  end
end
local last = 0
local all = redis.call('SCARD', KEYS[1]) >= redis.call('SCARD', KEYS[2])
if redis.call('HGET', KEYS[3], 'enqueued') and all then last = 1 end
local finished = 0
if added == 1 and last == 0 and ARGV[5] ~= '' then
  redis.call('DEL', KEYS[9], KEYS[10], KEYS[11])
  redis.call('ZREM', KEYS[12], ARGV[5])
  redis.call('ZREM', KEYS[13], ARGV[5])
  finished = 1
end
return {added, last, finished}
"""
# KEYS[1]: the queue, then each job's key and its result's key; ARGV[1]: the score (now, ms), ARGV[2]: the
# job's time to live (ms), then each job's id and payload. A job queued already, or finished with its result
# kept, is left alone (as arq's `enqueue_job` leaves it; site jobs keep none: one queued again after it
# finished finds its site done in the book); how many were queued.
_ENQUEUE = """
local queued = 0
for i = 0, (#KEYS - 1) / 2 - 1 do
  if redis.call('EXISTS', KEYS[2 + 2 * i], KEYS[3 + 2 * i]) == 0 then
    redis.call('PSETEX', KEYS[2 + 2 * i], ARGV[2], ARGV[4 + 2 * i])
    redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3 + 2 * i])
    queued = queued + 1
  end
end
return queued
"""
ENQUEUE_BATCH = 200  # site jobs per script call (Redis serves nothing else while one runs)
_OPTION_FIELDS = ("saved", "concurrency", "locks", "binds", "tokens", "checked", "consent", "ownership")
_LIGHT_FIELDS = tuple(name for name in Run.model_fields if name not in ("plan", "counts"))  # "id" first


def queue_name(store: RedisStore) -> str:
    """The arq queue of a store prefix (two prefixes on one Redis are two deployments of mistctl)."""
    return f"{store.keys.prefix}queue"


def health_key(store: RedisStore) -> str:
    """The key a live worker refreshes (arq's health check)."""
    return f"{queue_name(store)}:health-check"


def job_serializer(obj: Any) -> bytes:
    """Jobs and results as JSON (arq's default is pickle: code execution for anyone who can write Redis)."""
    return json.dumps(obj, default=repr, separators=(",", ":")).encode()


def job_deserializer(data: bytes) -> Any:
    """The inverse of `job_serializer`."""
    return json.loads(data)


def queue_enabled(store: StateStore) -> bool:
    """Whether deployments go through the queue: only when the state store is Redis."""
    return isinstance(store, RedisStore)


# -- the run's book -----------------------------------------------------------------------------------

class RunBook:
    """One queued run's bookkeeping in Redis (see the module docstring)."""

    def __init__(self, store: RedisStore, run_id: str) -> None:
        self.store = store
        self.r = store.r
        self.run_id = run_id
        self.meta = store.keys.k("qrun", run_id)
        self.expected = store.keys.k("qrun", run_id, "expected")
        self.done = store.keys.k("qrun", run_id, "done")
        self.by = store.keys.k("qrun", run_id, "by")
        self.failed = store.keys.k("qrun", run_id, "failed")
        self.lock_mark = store.keys.k("qrun", run_id, "lockmark")
        self.run_key = store.keys.k("run", run_id)
        self.counts = store.keys.k("runcounts", run_id)  # the store's counters (redis_keys: HINCRBY)
        self.events, self.event_seq = store.keys.k("ev", run_id), store.keys.k("evseq", run_id)  # its events
        self.images = store.keys.k("images", run_id)  # its before-images (`RedisStore.put_run_images`)
        self._mark = store.r.register_script(_MARK_DONE)
        self._ownership: tuple[Ownership | None] | None = None  # read once: set when the run was queued

    @property
    def _all(self) -> list[str]:
        return [self.meta, self.expected, self.done, self.by, self.failed]

    async def create(self, fleet: Fleet, tokens: Sequence[SecretStr], *, saved: dict[str, Any] | None,
                     concurrency: int, consent: DeleteConsent | None = None,
                     ownership: Ownership | None = None) -> None:
        """Seal the fleet and remember the run's options (the consent to delete among them)."""
        data = json.dumps(fleet.model_dump(mode="json"), separators=(",", ":")).encode()
        fields = {"fleet": seal(data, tokens, self.run_id), "saved": json.dumps(saved),
                  "ownership": Ownership.dumps(ownership),
                  "concurrency": str(concurrency), "tokens": ", ".join(token_fingerprint(t) for t in tokens),
                  "consent": json.dumps(vars(consent or DeleteConsent()))}
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(self.meta, mapping=fields)
            pipe.expire(self.meta, BOOK_TTL)
            await pipe.execute()

    async def options(self) -> dict[str, Any]:
        """The run's options: `saved` (a plan's identity, or None) and whether it was `checked`,
        `concurrency`, `locks`, `binds`, the `tokens` it was sealed for (fingerprints), the `consent` to delete,
        its `ownership`."""
        # not HGETALL: the sealed fleet in the same hash is megabytes for thousands of sites
        values = await aw(self.r.hmget(self.meta, list(_OPTION_FIELDS)))
        raw = {k: v for k, v in zip(_OPTION_FIELDS, values, strict=True) if v is not None}
        return {
            "saved": json.loads(raw.get("saved") or "null"),
            "concurrency": int(raw.get("concurrency") or 8),
            "locks": json.loads(raw.get("locks") or "[]"),
            "binds": json.loads(raw.get("binds") or "[]"),
            "tokens": raw.get("tokens", ""),
            "checked": bool(raw.get("checked")),
            "consent": DeleteConsent(**json.loads(raw.get("consent") or "{}")),
            "ownership": Ownership.loads(raw.get("ownership")),
        }

    async def ownership(self) -> Ownership | None:
        """Who the run writes as (its `ownership` option), read from Redis once per book: it never changes
        after `create`, and every site job needs it (the workers keep one book per run)."""
        if self._ownership is None:
            self._ownership = (Ownership.loads(await aw(self.r.hget(self.meta, "ownership"))),)
        return self._ownership[0]

    async def fleet(self, tokens: Sequence[SecretStr]) -> Fleet:
        """The run's fleet, unsealed with these tokens (`SealError` when they do not fit or it is gone)."""
        blob, sealed_for = await aw(self.r.hmget(self.meta, ["fleet", "tokens"]))
        if not blob:
            raise SealError(f"run {self.run_id} has no queued fleet any more (finished, or expired after "
                            f"{BOOK_TTL // 86400} days): deploy the fleet again")
        return Fleet.model_validate(json.loads(unseal(blob, tokens, self.run_id, sealed_for or "")))

    async def run(self) -> Run | None:
        """The run without its plan and counts, read in one round trip (`store.get_run` also loads the plan,
        megabytes for thousands of sites: far too slow for every site job). The fields are the store's own
        layout (`redis_keys`: one JSON value per Run field in `run:<id>`)."""
        return _light_run(await aw(self.r.hmget(self.run_key, list(_LIGHT_FIELDS))))

    async def site_start(self, site: str, every: float) -> tuple[Run | None, bool, bool, str | None]:
        """What a site job reads first, in one round trip: the run (as `run`), whether the site is done
        already, whether this job renews the run's locks (as `lock_refresh_due`), and the site's
        before-image as stored (`RedisStore.get_run_image`'s layout; None: the run has none for it)."""
        async with self.r.pipeline(transaction=False) as pipe:
            pipe.hmget(self.run_key, list(_LIGHT_FIELDS))
            pipe.sismember(self.done, site)
            pipe.set(self.lock_mark, "1", nx=True, px=max(1, int(every * 1000)))
            pipe.hget(self.images, f"{K.SITES.key}{SEP}{site}")
            values, done, due, image = await pipe.execute()
        return _light_run(values), bool(done), bool(due), image

    async def skip_lock_refresh(self) -> None:
        """The job that took the refresh turn (`site_start`) will not renew: the next one may."""
        await aw(self.r.delete(self.lock_mark))

    async def mark_checked(self) -> None:
        """The saved plan held against the live org once: a retried deploy job, which finds its own first
        try's writes, must not refuse the run for them."""
        await aw(self.r.hset(self.meta, "checked", "1"))

    async def set_locks(self, names: Collection[str]) -> None:
        await aw(self.r.hset(self.meta, "locks", json.dumps(sorted(names))))

    async def lock_refresh_due(self, every: float) -> bool:
        """True for one caller per `every` seconds (the others skip refreshing the run's locks)."""
        return bool(await aw(self.r.set(self.lock_mark, "1", nx=True, px=max(1, int(every * 1000)))))

    async def expect(self, sites: Collection[str], binds: list[dict[str, Any]]) -> int:
        """Record the sites the run will do and its late bindings; how many sites are new to the run."""
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(self.meta, "binds", json.dumps(binds))
            if sites:
                pipe.sadd(self.expected, *sites)
            for key in self._all[1:]:
                pipe.expire(key, BOOK_TTL)
            replies = await pipe.execute()
        return int(replies[1]) if sites else 0

    async def mark_enqueued(self) -> bool:
        """Every site job is queued; True when they have all finished already."""
        await aw(self.r.hset(self.meta, "enqueued", "1"))
        return await self.all_done()

    async def is_done(self, site: str) -> bool:
        return bool(await aw(self.r.sismember(self.done, site)))

    async def mark_done(self, site: str, worker: str, failure: str | None, counts: dict[str, int],
                        event: dict[str, Any] | None = None, writes: Sequence[Write] = (), *,
                        job: tuple[str, str] | None = None) -> tuple[bool, bool, bool]:
        """Mark a site done, add its `counts` to the run's counters and publish its `event` on the run's
        stream in one atomic step, so a job retried after its worker died never counts a site twice nor
        leaves its event out; the job's held record `writes` go first in the same transaction
        (`redis_batch`). `job`: the arq job running it (its id, its queue), finished in the same step when
        the site is newly done and not the run's last (`_MARK_DONE`). (Newly done, the run's last site,
        the job finished.)"""
        args = [site, worker, failure[:500] if failure is not None else "",
                prepare_event(self.run_id, event) if event is not None else "", job[0] if job else "",
                *(x for name, n in counts.items() for x in (name, str(int(n))))]
        keys = [self.done, self.expected, self.meta, self.by, self.failed, self.counts, self.events,
                self.event_seq]
        if job is not None:
            keys += [in_progress_key_prefix + job[0], retry_key_prefix + job[0], job_key_prefix + job[0],
                     abort_jobs_ss, job[1]]
        if writes:
            added, last, finished = await write_batch(self.store, writes, (self._mark, keys, args))
        else:
            added, last, finished = await self._mark(keys=keys, args=args)
        return bool(added), bool(last), bool(finished)

    async def all_done(self) -> bool:
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.scard(self.done)
            pipe.scard(self.expected)
            pipe.hget(self.meta, "enqueued")
            done, expected, enqueued = await pipe.execute()
        return bool(enqueued) and int(done) >= int(expected)

    async def workers(self) -> dict[str, str]:
        """Site -> the worker that finished it."""
        found: dict[str, str] = await aw(self.r.hgetall(self.by))
        return found

    async def failures(self) -> dict[str, str]:
        """Site -> why it failed."""
        found: dict[str, str] = await aw(self.r.hgetall(self.failed))
        return found

    async def close(self) -> None:
        """The run ended: drop its sealed fleet at once; the rest expires after a day."""
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hdel(self.meta, "fleet")
            for key in self._all:
                pipe.expire(key, 24 * 3600)
            await pipe.execute()


def _light_run(values: list[str | None]) -> Run | None:
    if values[0] is None:
        return None
    return Run.model_validate({k: json.loads(v) for k, v in zip(_LIGHT_FIELDS, values, strict=True)
                               if v is not None})


# -- the queue ----------------------------------------------------------------------------------------

def arq_pool(store: RedisStore) -> ArqRedis:
    """An arq client on the store's server (its own connections: arq wants bytes, the store text)."""
    source = store.r.connection_pool
    kwargs = {k: v for k, v in source.connection_kwargs.items() if k not in ("decode_responses", "encoding")}
    pool = type(source)(connection_class=source.connection_class, **kwargs)  # reconnecting, as the store
    return ArqRedis(pool, job_serializer=job_serializer, job_deserializer=job_deserializer,
                    default_queue_name=queue_name(store))


class DeploymentQueue:
    """Queues a run's jobs (the deploy job, then its site jobs and its finish job)."""

    def __init__(self, store: RedisStore, pool: ArqRedis) -> None:
        self.store = store
        self.pool = pool
        self._enqueue: Any = None  # the script (registered on first use)

    async def submit(self, run: Run, fleet: Fleet, tokens: Sequence[SecretStr], *,
                     saved: dict[str, Any] | None = None, concurrency: int = 8,
                     consent: DeleteConsent | None = None, ownership: Ownership | None = None) -> None:
        """Seal the fleet into the run's book and queue its deploy job (the run is recorded already)."""
        await RunBook(self.store, run.id).create(fleet, tokens, saved=saved, concurrency=concurrency,
                                                 consent=consent, ownership=ownership)
        await self.pool.enqueue_job(DEPLOY, run.id, _job_id=f"{DEPLOY}:{run.id}", _expires=BOOK_TTL)

    async def enqueue_sites(self, run_id: str, jobs: Sequence[SiteJob]) -> int:
        """Queue the run's site jobs, `ENQUEUE_BATCH` per round trip; how many were new.

        As arq's `enqueue_job` queues each (`_job_id=site:<run>:<site>`, `_expires=BOOK_TTL`: arq drops a
        job not started within a day by default, and under the rate limit a big fleet's last sites may
        wait longer), in one script per batch instead of three round trips per job."""
        if self._enqueue is None:
            self._enqueue = self.pool.register_script(_ENQUEUE)
        queued = 0
        for i in range(0, len(jobs), ENQUEUE_BATCH):
            now, ids = timestamp_ms(), [f"{SITE}:{run_id}:{job.site}" for job in jobs[i:i + ENQUEUE_BATCH]]
            keys = [k for job_id in ids for k in (job_key_prefix + job_id, result_key_prefix + job_id)]
            payloads = [serialize_job(SITE, (run_id, job.to_json()), {}, None, now, serializer=job_serializer)
                        for job in jobs[i:i + ENQUEUE_BATCH]]
            queued += int(await self._enqueue(
                keys=[queue_name(self.store), *keys],
                args=[now, BOOK_TTL * 1000, *(x for pair in zip(ids, payloads, strict=True) for x in pair)]))
        return queued

    async def enqueue_finish(self, run_id: str) -> None:
        await self.pool.enqueue_job(FINISH, run_id, _job_id=f"{FINISH}:{run_id}", _expires=BOOK_TTL)

    async def workers_alive(self) -> bool:
        """Whether at least one `mistctl worker` polled the queue lately."""
        return bool(await self.pool.exists(health_key(self.store)))


@asynccontextmanager
async def open_queue(store: StateStore) -> AsyncIterator[DeploymentQueue]:
    """The queue of a Redis state store; a `UserError` saying what to set for any other store."""
    if not isinstance(store, RedisStore):
        raise UserError("queued deployments need a Redis state store: set MISTCTL_STATE=redis://host:6379/0 "
                        "for the CLI, the service and `mistctl worker` alike")
    pool = arq_pool(store)
    try:
        yield DeploymentQueue(store, pool)
    finally:
        await pool.aclose(close_connection_pool=True)


def same_tokens(a: Sequence[SecretStr], b: Sequence[SecretStr]) -> bool:
    """Whether two token lists hold the same tokens (compared by fingerprint, never printed)."""
    return sorted(map(token_fingerprint, a)) == sorted(map(token_fingerprint, b))


async def queue_deployment(store: StateStore, run: Run, fleet: Fleet, tokens: Sequence[SecretStr],
                           worker_tokens: Sequence[SecretStr], *, saved: dict[str, Any] | None = None,
                           concurrency: int = 8, consent: DeleteConsent | None = None,
                           ownership: Ownership | None = None) -> bool:
    """Queue a recorded run for the workers when the store is Redis; False when it must run in this process.

    A caller's own Mist token (not the service's) never goes to Redis: such a deployment stays in-process.
    """
    if not queue_enabled(store) or not same_tokens(tokens, worker_tokens):
        return False
    async with open_queue(store) as queue:
        await queue.submit(run, fleet, tokens, saved=saved, concurrency=concurrency, consent=consent,
                           ownership=ownership)
        if not await queue.workers_alive():
            log.warning("run %s is queued but no `mistctl worker` is running: start one", run.id,
                        extra={"run_id": run.id})
    return True

