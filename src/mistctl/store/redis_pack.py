"""Redis commands packed by hiredis (C) instead of redis-py's pure-Python packer.

redis-py's asyncio connection packs every command in Python, joining its buffer again for each argument:
about 50 us a command for a worker's pipelines (a site job's records, scripts sent with their text), most
of a site job's Redis CPU. `hiredis.pack_command` packs the same bytes in a tenth of that. Only commands
whose arguments are all `str`, `bytes` or `int` go through it (a float, a bool or anything else, and a
command name with a space in it, such as "SCRIPT LOAD", are packed by redis-py as before), so what reaches
Redis is byte for byte what redis-py would send (tests/integration/test_redis_pack.py).
"""

from __future__ import annotations

from typing import Any

from hiredis import pack_command as _pack
from redis.asyncio.connection import Connection

_PLAIN = (str, bytes, int)


def packs_plainly(args: tuple[Any, ...]) -> bool:
    """Whether hiredis packs these arguments as redis-py would (utf-8 text, bytes, ints; one-word name)."""
    if not args:
        return False
    name = args[0]
    if type(name) not in (str, bytes) or (" " in name if type(name) is str else b" " in name):
        return False
    return all(type(a) in _PLAIN for a in args)


class PackingConnection(Connection):
    """A TCP connection whose commands hiredis packs (module docstring)."""

    def pack_command(self, *args: Any) -> list[bytes]:
        if self.encoder.encoding == "utf-8" and self.encoder.encoding_errors == "strict" and packs_plainly(args):
            return [_pack(args)]
        return super().pack_command(*args)
