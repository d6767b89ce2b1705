"""SLE checks over time on Redis: a list per site, trimmed to the last `KEEP`, and the org's set of sites
(`sle_history` holds the SQLite and memory forms; this one imports redis, so only the Redis store loads it)."""

from __future__ import annotations

from collections.abc import Sequence

from mistctl.store._common import check_page
from mistctl.store.models import SleCheck
from mistctl.store.redis_runs import RedisBase, aw
from mistctl.store.redis_runs import guarded as _guarded
from mistctl.store.sle_history import KEEP


class RedisSleHistory(RedisBase):
    """`append_sle_checks` and `sle_history` on Redis: a list per site and the org's set of sites."""

    @_guarded
    async def append_sle_checks(self, checks: Sequence[SleCheck]) -> None:
        """Append in one MULTI/EXEC, trimming each site's list to the last KEEP checks."""
        if not checks:
            return
        lists: dict[tuple[str, str], list[str]] = {}
        for check in checks:
            lists.setdefault((check.org_id, check.site), []).append(check.model_dump_json())
        async with self.r.pipeline(transaction=True) as pipe:
            for (org_id, site), bodies in lists.items():
                key = self.keys.k("sle", org_id, site)
                pipe.rpush(key, *bodies)
                pipe.ltrim(key, -KEEP, -1)
                pipe.sadd(self.keys.k("slesites", org_id), site)
            await pipe.execute()

    @_guarded
    async def sle_history(
        self, org_id: str, sites: Sequence[str] | None = None, last: int = 24
    ) -> dict[str, list[SleCheck]]:
        """Each site's last checks, oldest first (one pipeline of LRANGEs)."""
        check_page(last)
        names = sorted(await aw(self.r.smembers(self.keys.k("slesites", org_id)))) if sites is None \
            else list(sites)
        async with self.r.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.lrange(self.keys.k("sle", org_id, name), -last, -1)
            answers = await pipe.execute()
        return {name: [SleCheck.model_validate_json(b) for b in bodies]
                for name, bodies in zip(names, answers, strict=True) if bodies}
