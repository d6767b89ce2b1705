"""arq's worker, taking queued jobs in one round trip per poll instead of three or four per job, and
starting and finishing each job with fewer round trips of its own.

arq's `Worker.start_jobs` claims the polled job ids one at a time: WATCH the job's in-progress key, EXISTS,
ZSCORE, then MULTI/PSETEX/EXEC. The jobs running (here or on another worker) stay at the head of the queue
until they finish, so each poll walks past them with three round trips each. `ClaimingWorker` claims them
all in one Lua script: the same checks (not in progress, still queued, due) and the same in-progress mark,
atomic as a whole, for as many jobs as it has free slots; then it starts them as arq does.

The same script does what arq's `run_job` does first for each job it takes, in a round trip of its own: read
the job's payload, count its try (INCR, EXPIRE of its retry key). `run_job` is handed those answers instead
(`_Prefetched`, for that job's task only), so a job starts with no round trip of its own.

A job that finished itself in Redis (a site job, with its site's done mark: `RunBook.mark_done`) puts its id
in the worker's `ctx[FINISHED]`: arq's own finishing round trip (`finish_job`) is skipped for it.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from arq.constants import in_progress_key_prefix, job_key_prefix, retry_key_prefix
from arq.utils import timestamp_ms
from arq.worker import Worker

FINISHED = "finished_jobs"  # the worker's ctx key: ids of jobs that finished themselves in Redis
RETRY_TTL = 88400  # seconds arq keeps a job's try count (`run_job`'s EXPIRE)

# KEYS[1]: the queue, then for each job id its in-progress key, its key (payload) and its retry key; ARGV[1]:
# now (ms), ARGV[2]: the in-progress mark's time to live (ms), ARGV[3]: how many jobs to take at most,
# ARGV[4]: the retry key's time to live (s), then the job ids in queue order. Returns, flat, for each taken
# job: its id, its score, its payload ('' when gone) and its try (the retry key, counted).
_CLAIM = """
local now, ttl, most = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local taken = {}
for i = 0, (#KEYS - 1) / 3 - 1 do
  if #taken >= 4 * most then break end
  local id, running = ARGV[5 + i], KEYS[2 + 3 * i]
  if redis.call('EXISTS', running) == 0 then
    local score = redis.call('ZSCORE', KEYS[1], id)
    if score and tonumber(score) <= now then
      redis.call('PSETEX', running, ttl, '1')
      local payload = redis.call('GET', KEYS[3 + 3 * i]) or ''
      local try = redis.call('INCR', KEYS[4 + 3 * i])
      redis.call('EXPIRE', KEYS[4 + 3 * i], ARGV[4])
      taken[#taken + 1] = id
      taken[#taken + 1] = score
      taken[#taken + 1] = payload
      taken[#taken + 1] = try
    end
  end
end
return taken
"""

#: In a job's `run_job` task, until its first round trip: the payload and try the claim read for it.
_CLAIMED: ContextVar[tuple[bytes, int] | None] = ContextVar("claimed", default=None)


class _Prefetched:
    """arq's pool as `run_job` sees it in its first round trip (a MULTI of GET job, INCR and EXPIRE of its
    retry key): the answers the claim script got for the job; everything else goes to the pool."""

    def __init__(self, pool: Any, payload: bytes, job_try: int) -> None:
        self._pool, self._answers = pool, [payload or None, job_try, True]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    def pipeline(self, transaction: bool = True) -> Any:
        return self if transaction else self._pool.pipeline(transaction=False)

    async def __aenter__(self) -> _Prefetched:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def get(self, key: str) -> None:
        pass

    def incr(self, key: str) -> None:
        pass

    def expire(self, key: str, seconds: int) -> None:
        pass

    async def execute(self) -> list[Any]:
        _CLAIMED.set(None)  # this task's later round trips go to Redis
        return self._answers


class ClaimingWorker(Worker):
    """An arq `Worker` whose `start_jobs` claims the polled jobs in one round trip (module docstring)."""

    _claim: Any = None  # the script, registered on the pool (arq may make the pool as it starts)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.allow_abort_jobs:  # its first round trip would also ZREM the job from the abort set
            raise ValueError("ClaimingWorker starts jobs without arq's abort check: allow_abort_jobs=False")
        self.ctx.setdefault(FINISHED, set())  # each job's ctx is a shallow copy: they share this set

    @property
    def pool(self) -> Any:
        """arq's pool; in a job's `run_job` task until its first round trip, `_Prefetched` (module docstring)."""
        claimed = _CLAIMED.get()
        return self._pool if claimed is None else _Prefetched(self._pool, *claimed)

    async def finish_job(self, job_id: str, *args: Any, **kwargs: Any) -> None:
        """arq's, unless the job finished itself in Redis already (module docstring)."""
        finished: set[str] = self.ctx[FINISHED]
        if job_id in finished:
            finished.discard(job_id)
            return
        await super().finish_job(job_id, *args, **kwargs)

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        free = self.max_jobs - self.job_counter
        if free <= 0 or not job_ids:
            return
        if self._claim is None:
            self._claim = self.pool.register_script(_CLAIM)
        ids = [j.decode() for j in job_ids]
        keys = [k for i in ids for k in (in_progress_key_prefix + i, job_key_prefix + i, retry_key_prefix + i)]
        taken = await self._claim(keys=[self.queue_name, *keys],
                                  args=[timestamp_ms(), int(self.in_progress_timeout_s * 1000), free, RETRY_TTL,
                                        *ids])
        for i in range(0, len(taken), 4):
            job_id, score, payload, job_try = taken[i].decode(), taken[i + 1], taken[i + 2], int(taken[i + 3])
            await self.sem.acquire()  # free: never waits (the slots were counted above; none was taken since)
            self.job_counter += 1
            claimed = _CLAIMED.set((payload, job_try))  # the task made next starts with a copy of it
            try:
                task = self.loop.create_task(self.run_job(job_id, int(float(score))))
            finally:
                _CLAIMED.reset(claimed)
            task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
            self.tasks[job_id] = task
