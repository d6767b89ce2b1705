"""aiohttp imported without loading the system's CA certificates twice at start-up.

`aiohttp.connector` builds two TLS contexts when it is imported (its defaults for ``ssl=True`` and
``ssl=False``), and each loads the system's CA file: about 50 ms of CPU apiece before mistctl sends
anything. mistctl never uses them: an https Mist host gets httpx's own context (`mist.http`), a plain
http one (the twin) none. `deferred_ca_load` keeps them as aiohttp made them (same options, same
verification) except that their CA certificates are loaded the first time one of them wraps a
connection, not at import: whoever uses them later gets exactly what aiohttp's import would have given.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LOAD = ssl.SSLContext.set_default_verify_paths  # the real loader (the C method)
_lock = threading.Lock()


class LoadedOnUse(ssl.SSLContext):
    """A TLS context whose default CA certificates are loaded when it first wraps a connection."""

    _ca_pending = True

    def load_deferred(self) -> None:
        """Load the default CA certificates now, once."""
        with _lock:
            if self._ca_pending:
                _LOAD(self)
                self._ca_pending = False

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.load_deferred()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self.load_deferred()
        return super().wrap_bio(*args, **kwargs)

    def get_ca_certs(self, binary_form: bool = False) -> Any:
        self.load_deferred()
        return super().get_ca_certs(binary_form)

    def cert_store_stats(self) -> dict[str, int]:
        self.load_deferred()
        return super().cert_store_stats()


def _defer(self: ssl.SSLContext) -> None:
    """`set_default_verify_paths` while the block runs: the context loads them on first use instead."""
    if type(self) is ssl.SSLContext:
        self.__class__ = LoadedOnUse
    else:  # a subclass of someone else's: loaded now, as it asked
        _LOAD(self)


@contextmanager
def deferred_ca_load() -> Iterator[None]:
    """While the block runs (an import), a TLS context that loads the default CA certificates loads them
    on its first use instead."""
    if "set_default_verify_paths" in ssl.SSLContext.__dict__:  # another block is running: leave it be
        yield
        return
    ssl.SSLContext.set_default_verify_paths = _defer  # type: ignore[method-assign]
    try:
        yield
    finally:
        del ssl.SSLContext.set_default_verify_paths
