"""Run awaitables together until every one has ended, then raise the first failure (in the order given).

`asyncio.gather` without `return_exceptions` raises the first failure at once and leaves the others running
unawaited; writes in flight would go on behind the caller's back. Here none is left behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def all_ended(*aws: Awaitable[Any]) -> None:
    """Await every one of `aws` together; once all have ended, raise the first that failed."""
    for outcome in await asyncio.gather(*aws, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome
