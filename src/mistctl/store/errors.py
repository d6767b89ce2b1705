"""Errors raised by the state store.

    StoreError                      any failure of the state store
     +-- StoreConfigError           a bad store URL, an unwritable path, a state file from a newer mistctl
     +-- StoreUnavailable           the backend cannot be reached or stays busy (Redis down, SQLite locked)
     +-- RecordNotFound             an update names a run (or other record) the store does not hold
     +-- RecordRejected             a record the store refuses to persist (e.g. it looks like a secret)

Messages name the item and the fix; they never carry a Redis password or a Mist token.
"""

from __future__ import annotations


class StoreError(Exception):
    """Any failure of the state store."""


class StoreConfigError(StoreError, ValueError):
    """The store cannot be opened as configured (bad URL, unwritable path, newer schema)."""


class StoreUnavailable(StoreError):
    """The backend cannot be reached, or stayed busy past its timeout."""


class RecordNotFound(StoreError, LookupError):
    """An update or cancel names a record the store does not hold."""


class RecordRejected(StoreError, ValueError):
    """A record the store refuses to persist, such as a plain secret where a fingerprint belongs."""
