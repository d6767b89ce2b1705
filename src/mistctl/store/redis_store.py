"""`RedisStore`: the state store on Redis, for the HTTP service and its workers.

Hashes for records, sorted sets as indexes, lists for the audit log, a stream per run for events
(`wait_events` is an XREAD BLOCK), atomic counters (HINCRBY) and Lua where several commands must
act as one. Key layout: `redis_keys`. Writes return once Redis has acknowledged them; how durable
that is depends on the server's persistence settings (AOF for production).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from mistctl.store import redis_keys as rk
from mistctl.store._common import (
    ANY_SITE,
    SiteFilter,
    StoreLifecycle,
    check_page,
    make_fingerprint,
    step_sort_key,
)
from mistctl.store.models import (
    SITE_STATUSES,
    AuditEntry,
    Fingerprint,
    ObjRef,
    RunImage,
    SiteState,
    SiteStatus,
    StepRecord,
)
from mistctl.store.redis_pack import PackingConnection
from mistctl.store.redis_retry import ReconnectingPool, reconnecting
from mistctl.store.redis_runs import RedisRuns, aw
from mistctl.store.redis_runs import guarded as _guarded
from mistctl.store.sle_history_redis import RedisSleHistory

IMAGE_STEP = 1024  # ns between the places of two images written together (a double's step is 256 ns)

class RedisStore(RedisRuns, RedisSleHistory, StoreLifecycle):
    """The `StateStore` port on Redis; `client` must decode responses (`decode_responses=True`)."""

    def __init__(self, client: Redis, *, prefix: str = "mistctl:", where: str = "redis") -> None:
        super().__init__(client, rk.Keys(prefix), where)
        self._put_sites = client.register_script(rk.PUT_SITES)
        self._image_clock = 0  # the last place (ns) this process gave a before-image (`_queue_images`)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "mistctl:", where: str = "redis") -> RedisStore:
        """A store on a new client for `url` (redis://host:port/db)."""
        pool = ReconnectingPool.from_url(url, decode_responses=True, connection_class=PackingConnection,
                                         **reconnecting())
        return cls(Redis.from_pool(pool), prefix=prefix, where=where)

    def __repr__(self) -> str:
        return f"RedisStore(where={self.where!r}, prefix={self.keys.prefix!r})"

    async def close(self) -> None:
        """Close the client and its connection pool."""
        await self.r.aclose()

    @_guarded
    async def ping(self) -> None:
        """PING the server."""
        await aw(self.r.ping())

    # --- step records ---------------------------------------------------------------------------------
    @_guarded
    async def record_step(self, rec: StepRecord) -> None:
        """Upsert by identity."""
        await self.record_steps((rec,))

    @_guarded
    async def record_steps(self, recs: Sequence[StepRecord]) -> None:
        """Upsert many in one MULTI/EXEC."""
        async with self.r.pipeline(transaction=True) as pipe:
            self._queue_steps(pipe, recs)
            await pipe.execute()

    def _queue_steps(self, pipe: Any, recs: Sequence[StepRecord]) -> None:
        """One HSET per (org, site) hash and one SADD per org, however many records (the last of one
        identity wins, as one HSET each would leave it)."""
        fields: dict[str, dict[str, str]] = {}
        sites: dict[str, dict[str, None]] = {}
        for rec in recs:
            site = rec.site or ""
            fields.setdefault(self.keys.k("step", rec.org_id, site), {})[
                rk.step_field(rec.step, rec.kind, rec.key)] = rec.model_dump_json()
            sites.setdefault(rec.org_id, {})[site] = None
        for key, mapping in fields.items():
            pipe.hset(key, mapping=mapping)
        for org_id, names in sites.items():
            pipe.sadd(self.keys.k("stepsites", org_id), *names)

    @_guarded
    async def record_done(self, rec: StepRecord, ref: ObjRef, audit: Sequence[AuditEntry], *,
                          images: Sequence[RunImage] = (), state: SiteState | None = None) -> None:
        """The step's record, its object (and owner, when `ref` has one), its audit entries, the images and
        the site's state (when given) in one MULTI/EXEC: one round trip, not five."""
        async with self.r.pipeline(transaction=True) as pipe:
            self._queue_steps(pipe, (rec,))
            self._queue_objects(pipe, (ref,))
            self._queue_audit(pipe, audit)
            self._queue_images(pipe, images)
            self._queue_site_states(pipe, (state,) if state is not None else ())
            await pipe.execute()

    def _queue_objects(self, pipe: Any, refs: Sequence[ObjRef]) -> None:
        """One HSET per (org, kind) for the objects and one for their owners (None keeps the one recorded)."""
        objs: dict[str, dict[str, str]] = {}
        owners: dict[str, dict[str, str]] = {}
        for ref in refs:
            objs.setdefault(self.keys.k("obj", ref.org_id, ref.kind), {})[ref.key] = ref.model_dump_json(
                exclude={"owner"})
            if ref.owner is not None:
                owners.setdefault(self.keys.k("objowner", ref.org_id, ref.kind), {})[ref.key] = ref.owner
        for key, mapping in (*objs.items(), *owners.items()):
            pipe.hset(key, mapping=mapping)

    async def get_steps(
        self, org_id: str, *, site: SiteFilter = ANY_SITE, run_id: str | None = None
    ) -> list[StepRecord]:
        """Records of the org, filtered, in identity order."""
        sites = (
            [site or ""]
            if site is not ANY_SITE
            else sorted(await aw(self.r.smembers(self.keys.k("stepsites", org_id))))
        )
        async with self.r.pipeline(transaction=False) as pipe:
            for part in sites:
                pipe.hvals(self.keys.k("step", org_id, part))
            pages: list[list[str]] = await pipe.execute()
        recs = [StepRecord.model_validate_json(body) for page in pages for body in page]
        found = [r for r in recs if run_id is None or r.run_id == run_id]
        return sorted(found, key=step_sort_key)

    @_guarded
    async def get_step(
        self, org_id: str, site: str | None, step: int, kind: str, key: str
    ) -> StepRecord | None:
        """One record by identity."""
        body = await aw(self.r.hget(self.keys.k("step", org_id, site or ""), rk.step_field(step, kind, key)))
        return None if body is None else StepRecord.model_validate_json(body)

    # --- object map -----------------------------------------------------------------------------------
    @_guarded
    async def put_object(
        self, org_id: str, kind: str, key: str, mist_id: str, applied_hash: str | None = None,
        owner: str | None = None,
    ) -> ObjRef:
        """Remember a Mist id; its owner lives in a hash beside it (None keeps the one recorded)."""
        ref = ObjRef(org_id=org_id, kind=kind, key=key, mist_id=mist_id, applied_hash=applied_hash, owner=owner)
        owners = self.keys.k("objowner", org_id, kind)
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.k("obj", org_id, kind), key, ref.model_dump_json(exclude={"owner"}))
            if owner is not None:
                pipe.hset(owners, key, owner)
            pipe.hget(owners, key)
            *_, recorded = await pipe.execute()
        return ref.model_copy(update={"owner": recorded})

    @_guarded
    async def get_objects(self, org_id: str, kind: str) -> dict[str, ObjRef]:
        """Known objects of a kind, with their owners."""
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hgetall(self.keys.k("obj", org_id, kind))
            pipe.hgetall(self.keys.k("objowner", org_id, kind))
            found, owners = await pipe.execute()
        return {key: ObjRef.model_validate_json(body).model_copy(update={"owner": owners.get(key)})
                for key, body in found.items()}

    @_guarded
    async def delete_object(self, org_id: str, kind: str, key: str) -> bool:
        """Forget a key (and its owner)."""
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hdel(self.keys.k("obj", org_id, kind), key)
            pipe.hdel(self.keys.k("objowner", org_id, kind), key)
            gone, _ = await pipe.execute()
        return bool(gone)

    # --- site states ----------------------------------------------------------------------------------
    @_guarded
    async def put_site_state(self, state: SiteState) -> None:
        """Upsert by (org_id, name), moving it between the status indexes atomically."""
        await self.put_site_states((state,))

    @_guarded
    async def put_site_states(self, states: Sequence[SiteState]) -> None:
        """Upsert many in one script call (one round trip; no SCRIPT EXISTS as a pipeline would send)."""
        if states:
            await self._put_sites(*self._sites_call(states))

    def _queue_site_states(self, pipe: Any, states: Sequence[SiteState]) -> None:
        """`put_site_states` queued in a MULTI/EXEC: its script as EVAL, with its text (an EVALSHA of a script
        Redis has not loaded, a restarted server, would fail alone inside the transaction)."""
        if states:
            keys, args = self._sites_call(states)
            pipe.eval(self._put_sites.script, len(keys), *keys, *args)

    def _sites_call(self, states: Sequence[SiteState]) -> tuple[list[str], list[str]]:
        """The keys and arguments of the `PUT_SITES` script for these states."""
        k = self.keys
        keys = [k.k("site", "data"), k.k("site", "status"), k.site_index(None)]
        args: list[str] = []
        for s in states:
            keys += [k.site_index(s.org_id), k.k("sitename", s.name)]
            args += [rk.site_member(s.org_id, s.name), s.model_dump_json(), s.status, s.org_id]
        return keys, args

    @_guarded
    async def get_site_state(self, org_id: str | None, name: str) -> SiteState | None:
        """A site's state (first org by id when org_id is None)."""
        if org_id is None:
            orgs = await aw(self.r.zrange(self.keys.k("sitename", name), 0, 0))
            if not orgs:
                return None
            org_id = orgs[0]
        body = await aw(self.r.hget(self.keys.k("site", "data"), rk.site_member(org_id, name)))
        return None if body is None else SiteState.model_validate_json(body)

    @_guarded
    async def list_site_states(
        self,
        org_id: str | None = None,
        status: SiteStatus | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[SiteState]:
        """A page ordered by (org_id, name), read through the matching index."""
        check_page(limit, offset)
        index = self.keys.site_index(org_id) + (f":{status}" if status else "")
        members = await aw(self.r.zrange(index, offset, offset + limit - 1))
        if not members:
            return []
        bodies = await aw(self.r.hmget(self.keys.k("site", "data"), members))
        return [SiteState.model_validate_json(b) for b in bodies if b is not None]

    @_guarded
    async def count_site_states_by_status(self, org_id: str | None = None) -> dict[str, int]:
        """Sites per status (ZCARD of each status index)."""
        index = self.keys.site_index(org_id)
        async with self.r.pipeline(transaction=False) as pipe:
            for status in SITE_STATUSES:
                pipe.zcard(f"{index}:{status}")
            sizes = await pipe.execute()
        return {status: int(n) for status, n in zip(SITE_STATUSES, sizes, strict=True)}

    # --- audit log ------------------------------------------------------------------------------------
    @_guarded
    async def append_audit(self, entry: AuditEntry) -> None:
        """Append one entry."""
        await self.append_audit_batch((entry,))

    @_guarded
    async def append_audit_batch(self, entries: Sequence[AuditEntry]) -> None:
        """Append entries to the log and to their run's and site's lists, in one MULTI/EXEC."""
        if not entries:
            return
        async with self.r.pipeline(transaction=True) as pipe:
            self._queue_audit(pipe, entries)
            await pipe.execute()

    def _queue_audit(self, pipe: Any, entries: Sequence[AuditEntry]) -> None:
        lists: dict[str, list[str]] = {}
        for e in entries:
            body = e.model_dump_json()
            lists.setdefault(self.keys.k("audit"), []).append(body)
            if e.run_id is not None:
                lists.setdefault(self.keys.k("auditrun", e.run_id), []).append(body)
            if e.site is not None:
                lists.setdefault(self.keys.k("auditsite", e.site), []).append(body)
        for key, bodies in lists.items():
            pipe.rpush(key, *bodies)

    @_guarded
    async def list_audit(
        self,
        run_id: str | None = None,
        site: str | None = None,
        limit: int = 100,
        offset: int = 0,
        *,
        newest_first: bool = False,
        kind: str | None = None,
        name: str | None = None,
    ) -> list[AuditEntry]:
        """A page of entries; with both run and site, or a kind or name, a list is read whole and filtered
        (bodies that cannot match are skipped before they are parsed)."""
        check_page(limit, offset)
        if (run_id is not None and site is not None) or kind is not None or name is not None:
            hints = [json.dumps(v, ensure_ascii=False) for v in (kind, name, site) if v is not None]
            bodies = await aw(self.r.lrange(self._audit_key(run_id, None if run_id else site), 0, -1))
            entries = [AuditEntry.model_validate_json(b) for b in bodies if all(h in b for h in hints)]
            found = [e for e in entries if (site is None or e.site == site) and (kind is None or e.kind == kind)
                     and (name is None or e.name == name)]
            if newest_first:
                found.reverse()
            return found[offset : offset + limit]
        key = self._audit_key(run_id, site)
        if newest_first:
            bodies = list(reversed(await aw(self.r.lrange(key, -(offset + limit), -(offset + 1)))))
        else:
            bodies = await aw(self.r.lrange(key, offset, offset + limit - 1))
        return [AuditEntry.model_validate_json(b) for b in bodies]

    def _audit_key(self, run_id: str | None, site: str | None) -> str:
        if run_id is not None:
            return self.keys.k("auditrun", run_id)
        return self.keys.k("auditsite", site) if site is not None else self.keys.k("audit")

    # --- secret fingerprints --------------------------------------------------------------------------
    @_guarded
    async def put_fingerprint(
        self, org_id: str, kind: str, key: str, fingerprint: str, rotated_at: datetime | None = None
    ) -> Fingerprint:
        """Record a fingerprint."""
        fp = make_fingerprint(org_id, kind, key, fingerprint, rotated_at)
        await aw(self.r.hset(self.keys.k("fp", org_id), f"{kind}{rk.SEP}{key}", fp.model_dump_json()))
        return fp

    @_guarded
    async def get_fingerprint(self, org_id: str, kind: str, key: str) -> Fingerprint | None:
        """The last fingerprint."""
        body = await aw(self.r.hget(self.keys.k("fp", org_id), f"{kind}{rk.SEP}{key}"))
        return None if body is None else Fingerprint.model_validate_json(body)

    # --- before-images (rollback): a hash per run (field kind|key) and a list of fields in first order ---
    @_guarded
    async def put_run_images(self, images: Sequence[RunImage]) -> None:
        """Upsert by (run_id, kind, key) in one transaction."""
        async with self.r.pipeline(transaction=True) as pipe:
            self._queue_images(pipe, images)
            await pipe.execute()

    def _queue_images(self, pipe: Any, images: Sequence[RunImage]) -> None:
        """One HSET and one ZADD per run however many images (a deploy job writes one per site): the last
        body of one identity wins, its first place in the order stays (NX); places follow the list's order."""
        bodies: dict[str, dict[str, str]] = {}
        order: dict[str, dict[str, int]] = {}
        # nanoseconds, as before; a score is a double (256 ns apart at today's times): IMAGE_STEP apart, and
        # never below what this process gave an earlier image
        now = max(time.time_ns(), self._image_clock + IMAGE_STEP)
        for i, img in enumerate(images):
            field = f"{img.kind}{rk.SEP}{img.key}"
            bodies.setdefault(img.run_id, {})[field] = img.model_dump_json()
            order.setdefault(img.run_id, {}).setdefault(field, now + i * IMAGE_STEP)
        self._image_clock = now + len(images) * IMAGE_STEP
        for run_id, mapping in bodies.items():
            pipe.hset(self.keys.k("images", run_id), mapping=mapping)
            pipe.zadd(self.keys.k("imageorder", run_id), order[run_id], nx=True)

    @_guarded
    async def get_run_image(self, run_id: str, kind: str, key: str) -> RunImage | None:
        """One image by identity."""
        body = await aw(self.r.hget(self.keys.k("images", run_id), f"{kind}{rk.SEP}{key}"))
        return None if body is None else RunImage.model_validate_json(body)

    @_guarded
    async def get_run_images(self, run_id: str) -> list[RunImage]:
        """A run's images, in the order first recorded."""
        fields = await aw(self.r.zrange(self.keys.k("imageorder", run_id), 0, -1))
        if not fields:
            return []
        bodies = await aw(self.r.hmget(self.keys.k("images", run_id), fields))
        return [RunImage.model_validate_json(b) for b in bodies if b is not None]
