"""The answer the Mist client reads, on its own so the wires (`aio`, `wire`) share it without an import circle."""

from __future__ import annotations

from collections.abc import Mapping


class Reply:
    """An answer as the client reads it: status, case-insensitive headers and the body's bytes."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code, self.headers, self.content = status_code, headers, content

    @property
    def text(self) -> str:
        """The body as text (for error details)."""
        return self.content.decode("utf-8", "replace")
