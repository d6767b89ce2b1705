"""arq's worker, taking queued jobs in one round trip per poll instead of three or four per job.

arq's `Worker.start_jobs` claims the polled job ids one at a time: WATCH the job's in-progress key, EXISTS,
ZSCORE, then MULTI/PSETEX/EXEC. The jobs running (here or on another worker) stay at the head of the queue
until they finish, so each poll walks past them with three round trips each. `ClaimingWorker` claims them
all in one Lua script: the same checks (not in progress, still queued, due) and the same in-progress mark,
atomic as a whole, for as many jobs as it has free slots; then it starts them as arq does.

A job that finished itself in Redis (a site job, with its site's done mark: `RunBook.mark_done`) puts its id
in the worker's `ctx[FINISHED]`: arq's own finishing round trip (`finish_job`) is skipped for it.
"""

from __future__ import annotations

from typing import Any

from arq.constants import in_progress_key_prefix
from arq.utils import timestamp_ms
from arq.worker import Worker

FINISHED = "finished_jobs"  # the worker's ctx key: ids of jobs that finished themselves in Redis

# KEYS[1]: the queue, then the in-progress key of each job id; ARGV[1]: now (ms), ARGV[2]: the in-progress
# mark's time to live (ms), ARGV[3]: how many jobs to take at most, then the job ids in queue order.
# Returns the taken job ids and their scores, flat.
_CLAIM = """
local now, ttl, most = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local taken = {}
for i = 2, #KEYS do
  if #taken >= 2 * most then break end
  local id = ARGV[i + 2]
  if redis.call('EXISTS', KEYS[i]) == 0 then
    local score = redis.call('ZSCORE', KEYS[1], id)
    if score and tonumber(score) <= now then
      redis.call('PSETEX', KEYS[i], ttl, '1')
      taken[#taken + 1] = id
      taken[#taken + 1] = score
    end
  end
end
return taken
"""


class ClaimingWorker(Worker):
    """An arq `Worker` whose `start_jobs` claims the polled jobs in one round trip (module docstring)."""

    _claim: Any = None  # the script, registered on the pool (arq may make the pool as it starts)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ctx.setdefault(FINISHED, set())  # each job's ctx is a shallow copy: they share this set

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
        taken = await self._claim(keys=[self.queue_name, *(in_progress_key_prefix + i for i in ids)],
                                  args=[timestamp_ms(), int(self.in_progress_timeout_s * 1000), free, *ids])
        for raw_id, score in zip(taken[::2], taken[1::2], strict=True):
            job_id = raw_id.decode()
            await self.sem.acquire()  # free: never waits (the slots were counted above; none was taken since)
            self.job_counter += 1
            task = self.loop.create_task(self.run_job(job_id, int(float(score))))
            task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
            self.tasks[job_id] = task
