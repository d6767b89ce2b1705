"""Before-images: what a run is about to change, written to the state store before it changes it.

`record_before_images` runs once the run is recorded and before its first write (write-ahead): for each
object the plan creates, its kind and key; for each it updates or deletes, the object as the read phase
found it (secrets redacted by the store's model, never kept in clear). `Records.wrote` then adds the
id and the `modified_time` Mist answered each write with, so `mistctl rollback` can tell an object
changed since. A kill between the image and the write is safe: the rollback reconciles with the live org.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.diff import LiveState
from mistctl.domain.plan import Change, Plan
from mistctl.store.models import RunImage
from mistctl.store.port import StateStore

#: The kinds a rollback restores: the org-level objects and the sites (not devices, variables or claims).
IMAGED_KINDS = frozenset({k.key for k in K.ORG_KINDS} | {K.SITES.key})


def before_images(run_id: str, plan: Plan, live: LiveState) -> list[RunImage]:
    """One image per object the plan writes (its first change wins: a bind re-writes a template)."""
    by_id = {kind: {str(o.get("id")): o for o in objs} for kind, objs in live.objects.items()}
    found: dict[tuple[str, str], RunImage] = {}
    for change in _writes(plan.changes):
        before: dict[str, Any] | None = None
        if change.action != "create":
            before = by_id.get(change.kind, {}).get(str(change.mist_id))
            if before is None:  # not listed (trusted from the records): nothing to restore it to
                continue
        found.setdefault((change.kind, change.key), RunImage(
            run_id=run_id, org_id=plan.org_id, kind=change.kind, key=change.key, action=change.action,
            mist_id=change.mist_id, before=before))
    return list(found.values())


def _writes(changes: Iterable[Change]) -> Iterable[Change]:
    return (c for c in changes if c.action in ("create", "update", "delete") and c.kind in IMAGED_KINDS)


#: A run's images by (kind, key), as the process applying it wrote them (none of them read back).
ImageBook = dict[tuple[str, str], RunImage]


async def record_before_images(store: StateStore, run_id: str, plan: Plan, live: LiveState, *,
                               book: ImageBook | None = None) -> int:
    """Write the run's before-images (one store write); how many new (a retried job keeps the first ones).

    `book`: filled with every image of the run (those found and those written), for `mark_written`."""
    found = await store.get_run_images(run_id)
    known = {(i.kind, i.key) for i in found}
    images = [i for i in before_images(run_id, plan, live) if (i.kind, i.key) not in known]
    if images:
        await store.put_run_images(images)
    if book is not None:
        book.update({(i.kind, i.key): i for i in (*found, *images)})
    return len(images)


async def mark_written(store: StateStore, run_id: str, kind: str, key: str, obj: dict[str, Any],
                       book: ImageBook | None = None) -> None:
    """The run wrote the object: remember its id and the `modified_time` Mist answered with.

    `book`: the run's images as this process holds them (`record_before_images`), so none is read back;
    None: read it from the store (another process may have recorded it)."""
    image = await store.get_run_image(run_id, kind, key) if book is None else book.get((kind, key))
    if image is None:
        return
    image = written_image(image, obj)
    await store.put_run_images([image])
    if book is not None:
        book[(kind, key)] = image


def written_image(image: RunImage, obj: dict[str, Any]) -> RunImage:
    """The image once the run wrote its object: Mist's id for it and the `modified_time` it answered with."""
    modified = obj.get("modified_time")
    return image.model_copy(update={
        "mist_id": str(obj.get("id") or image.mist_id), "written": True,
        "after_modified": float(modified) if isinstance(modified, int | float) else None})
