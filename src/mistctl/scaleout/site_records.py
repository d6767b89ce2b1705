"""A site job's records: its site's before-image was read with the job's start, so marking it written
costs one round trip, not two (a read and a write)."""

from __future__ import annotations

from typing import Any

from mistctl.domain import kinds as K
from mistctl.store.models import RunImage
from mistctl.workflow.records import Records
from mistctl.workflow.run_images import written_image


class SiteRecords(Records):
    """`Records` of one site job, knowing the site's before-image as stored when the job started
    (`RunBook.site_start`; None: the run has none for it). Only this job writes that image meanwhile."""

    def __init__(self, *args: Any, site: str, image: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._site = site
        self._image = None if image is None else RunImage.model_validate_json(image)

    async def wrote(self, kind: str, key: str, obj: dict[str, Any]) -> None:
        if kind != K.SITES.key or key != self._site:
            await super().wrote(kind, key, obj)
        elif self._image is not None:
            self._image = written_image(self._image, obj)
            await self.store.put_run_images([self._image])
