"""`open_store(url)`: the one place a state store URL becomes an adapter.

    memory://                       MemoryStore (nothing persists)
    sqlite:///relative/state.db     SqliteStore; three slashes: relative to the working directory
    sqlite:////abs/state.db         SqliteStore; four slashes: absolute
    path/to/state.db, /abs/x.db     a bare path is a SQLite file too (`~` expanded)
    redis://[:password@]host:port/db[?prefix=mistctl:]   RedisStore (also rediss://, unix://)

Opening is synchronous (the SQLite file is created and migrated at once) so the composition root can
call it outside the event loop; use the store as `async with open_store(url) as store:`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mistctl.store.errors import StoreConfigError
from mistctl.store.memory import MemoryStore
from mistctl.store.port import StateStore
from mistctl.store.sqlite import SqliteStore

if TYPE_CHECKING:  # redis is imported when a redis:// store is opened, not by every command
    from mistctl.store.redis_store import RedisStore

DEFAULT_PREFIX = "mistctl:"
_HELP = "use sqlite:///path/to/state.db, a file path, redis://host:port/db or memory://"


def open_store(url: str) -> StateStore:
    """The state store for `url` (see the module docstring for the forms)."""
    url = url.strip()
    if not url:
        raise StoreConfigError(f"empty state store URL; {_HELP}")
    scheme, sep, rest = url.partition("://")
    if not sep:
        return SqliteStore(Path(url).expanduser())
    scheme = scheme.lower()
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        return SqliteStore(sqlite_path(rest))
    if scheme in ("redis", "rediss", "unix"):
        return _redis_store(url)
    raise StoreConfigError(f"unknown state store URL scheme {scheme!r}; {_HELP}")


def sqlite_path(rest: str) -> Path:
    """The file of a `sqlite://` URL from what follows `sqlite://` (SQLAlchemy's slash convention)."""
    path = rest[1:] if rest.startswith("/") else rest
    if not path or path == "/":
        raise StoreConfigError(f"the SQLite URL names no file; {_HELP}")
    return Path(path).expanduser()


def _redis_store(url: str) -> RedisStore:
    from mistctl.store.redis_store import RedisStore

    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((v for k, v in query if k == "prefix"), DEFAULT_PREFIX)
    rest = urlencode([(k, v) for k, v in query if k != "prefix"])
    clean = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment))
    try:
        return RedisStore.from_url(clean, prefix=prefix, where=redis_where(url))
    except ValueError as exc:
        raise StoreConfigError(f"bad Redis URL for {redis_where(url)} ({exc}); {_HELP}") from None


def redis_where(url: str) -> str:
    """host:port/db of a Redis URL, without user or password (safe for messages and logs)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    try:
        port = parts.port or 6379
    except ValueError:
        port = 0
    db = parts.path.lstrip("/") or "0"
    return f"{parts.scheme}://{parts.hostname or 'localhost'}:{port}/{db}"
