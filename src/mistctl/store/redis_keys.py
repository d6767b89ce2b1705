"""Redis key layout and Lua scripts of `RedisStore`.

Every key is `<prefix><category>:<part>...` with each part percent-encoded, so a site called `a:b`
cannot collide with another key. The scripts run where several commands must be one atomic step
(standalone Redis: a few scripts derive per-status index keys from the keys they are given).

    run:<id>                 hash   one JSON-encoded value per Run field (counts excepted)
    runcounts:<id>           hash   counter -> int (HINCRBY)
    runs                     zset   run id by created_at
    step:<org>:<site>        hash   "<step>\\x1f<kind>\\x1f<key>" -> StepRecord JSON ('' site: org level)
    stepsites:<org>          set    the site parts that have step records
    obj:<org>:<kind>         hash   natural key -> ObjRef JSON (its owner left out)
    objowner:<org>:<kind>    hash   natural key -> owner ("fleet:<name>" / "design:<name>"), when known
    site:data / site:status  hash   "<org>\\x1f<name>" -> SiteState JSON / status
    siteidx:<org|*>[:<st>]   zset   members at score 0, so ranks follow (org, name)
    sitename:<name>          zset   orgs having a site of that name
    audit, auditrun:<id>, auditsite:<site>   list   AuditEntry JSON, in append order
    ev:<run> / evseq:<run>   stream / counter   events with ids "<seq>-0"
    lock:<name>              string owner, with a PX expiry
    lockholder:<name>        string who holds it (for messages), with the same expiry
    fp:<org>                 hash   "<kind>\\x1f<key>" -> Fingerprint JSON
"""

from __future__ import annotations

import functools
from urllib.parse import quote

SEP = "\x1f"

CREATE_RUN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local n = tonumber(ARGV[3])
local i = 4
for _ = 1, n do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
local fields = {}
for j = i, #ARGV do fields[#fields + 1] = ARGV[j] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1
"""

HSET_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

INCR_COUNTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
for i = 1, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
return redis.call('HGETALL', KEYS[2])
"""


def publish_event_lua(stream: str, seq: str, event: str) -> str:
    """Lua that publishes `event` (the JSON text) on a run's `stream` with id `<n>-0`, `n` the next value of
    its `seq` counter (left in the local `seq`): the events' one layout, for every script that publishes."""
    return f"local seq = redis.call('INCR', {seq})\nredis.call('XADD', {stream}, seq .. '-0', 'e', {event})\n"


PUBLISH_EVENT = publish_event_lua("KEYS[1]", "KEYS[2]", "ARGV[1]") + "return seq\n"

# Many sites in one call (one EVALSHA, atomic as a whole). KEYS: data, status, index of all, then for
# each site its org's index and its orgs-by-name key; ARGV: member, json, status, org for each site.
PUT_SITES = """
for i = 0, #ARGV / 4 - 1 do
  local member, body, status = ARGV[4 * i + 1], ARGV[4 * i + 2], ARGV[4 * i + 3]
  local indexes = {KEYS[3], KEYS[4 + 2 * i]}
  local old = redis.call('HGET', KEYS[2], member)
  if old and old ~= status then
    for _, index in ipairs(indexes) do redis.call('ZREM', index .. ':' .. old, member) end
  end
  redis.call('HSET', KEYS[1], member, body)
  redis.call('HSET', KEYS[2], member, status)
  for _, index in ipairs(indexes) do
    redis.call('ZADD', index, 0, member)
    redis.call('ZADD', index .. ':' .. status, 0, member)
  end
  redis.call('ZADD', KEYS[5 + 2 * i], 0, ARGV[4 * i + 4])
end
return 1
"""

# KEYS: lock, lockholder; ARGV: owner, ttl ms, holder
ACQUIRE_LOCK = """
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return 1
"""

REFRESH_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# The same three over many locks: KEYS lock, lockholder pairs; one 0/1 per pair.
ACQUIRE_LOCKS = """
local out = {}
for i = 1, #KEYS, 2 do
  local cur = redis.call('GET', KEYS[i])
  if cur and cur ~= ARGV[1] then out[#out + 1] = 0 else
    redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
    redis.call('SET', KEYS[i + 1], ARGV[3], 'PX', ARGV[2])
    out[#out + 1] = 1
  end
end
return out
"""


def _each_owned_lock(action: str) -> str:
    """A script doing `action` (on KEYS[i], KEYS[i + 1]) to each lock owned by ARGV[1]: its answer, else 0."""
    return f"""
local out = {{}}
for i = 1, #KEYS, 2 do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    {action}
  else out[#out + 1] = 0 end
end
return out
"""


REFRESH_LOCKS = _each_owned_lock(
    "redis.call('PEXPIRE', KEYS[i + 1], ARGV[2]); out[#out + 1] = redis.call('PEXPIRE', KEYS[i], ARGV[2])")
RELEASE_LOCKS = _each_owned_lock("redis.call('DEL', KEYS[i + 1]); out[#out + 1] = redis.call('DEL', KEYS[i])")

# KEYS: lock, lockholder; ARGV: the owner to match ('' for any). Returns {owner, holder, pttl} or false.
BREAK_LOCK = """
local cur = redis.call('GET', KEYS[1])
if not cur or (ARGV[1] ~= '' and cur ~= ARGV[1]) then return false end
local info = {cur, redis.call('GET', KEYS[2]) or '', redis.call('PTTL', KEYS[1])}
redis.call('DEL', KEYS[1], KEYS[2])
return info
"""


class Keys:
    """Builds the store's key names under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def k(self, *parts: str) -> str:
        """`<prefix>` + the parts, each percent-encoded, joined by ':'."""
        return self.prefix + ":".join(map(_quoted, parts))

    def site_index(self, org_id: str | None) -> str:
        """The index of all sites (org_id None) or of one org's sites."""
        return self.k("siteidx", org_id) if org_id is not None else self.k("siteidx") + ":*"


@functools.lru_cache(maxsize=65536)
def _quoted(part: str) -> str:
    """A key part percent-encoded (remembered: a worker builds the same keys for every job of a run)."""
    return quote(part, safe="")


def step_field(step: int, kind: str, key: str) -> str:
    """The hash field of a step record inside its (org, site) hash."""
    return f"{step:02d}{SEP}{kind}{SEP}{key}"


def site_member(org_id: str, name: str) -> str:
    """A site's member in the site indexes: ordering members orders by (org_id, name)."""
    return f"{org_id}{SEP}{name}"
