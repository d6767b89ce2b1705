"""A site job's records: written with its done mark, in one round trip (`RunBook.mark_done`).

A site job used to write each record as it went: its step records, its site's before-image marked
written, its site's final state, each in a round trip of its own. They are held instead (`HeldWrites`) and
sent in one MULTI/EXEC with the site's done mark, in the order they were made, the mark last: a worker
killed mid-job leaves neither (the job runs again and writes both), never the mark without the records.
The site's "provisioning" state is written at once (the console shows the site busy). A job that raises
writes what it holds at once (`write_held`), as if it had written as it went.

Its site's before-image was read with the job's start, so marking it written needs no read either.
"""

from __future__ import annotations

from typing import Any, cast

from mistctl.domain import kinds as K
from mistctl.store.models import RunImage
from mistctl.store.port import StateStore
from mistctl.store.redis_batch import HeldWrites, Write, write_batch
from mistctl.store.redis_store import RedisStore
from mistctl.workflow.records import Records
from mistctl.workflow.run_images import written_image


class SiteRecords(Records):
    """`Records` of one site job, its writes held (module docstring), knowing the site's before-image as
    stored when the job started (`RunBook.site_start`; None: the run has none for it). Only this job writes
    that image meanwhile."""

    def __init__(self, store: RedisStore, *args: Any, site: str, image: str | None, **kwargs: Any) -> None:
        self.held = HeldWrites(store)
        super().__init__(cast(StateStore, self.held), *args, **kwargs)
        self._site = site
        self._image = None if image is None else RunImage.model_validate_json(image)

    async def wrote(self, kind: str, key: str, obj: dict[str, Any]) -> None:
        if kind != K.SITES.key or key != self._site:
            await super().wrote(kind, key, obj)
        elif self._image is not None:
            self._image = written_image(self._image, obj)
            await self.store.put_run_images([self._image])

    def take(self) -> list[Write]:
        """The writes held so far (to send with the done mark); the audit left is among them once
        `flush_audit` ran."""
        return self.held.take()

    async def write_held(self) -> None:
        """Write what is held now (a job that ends without its done mark)."""
        await write_batch(self.held.store, self.held.take())
