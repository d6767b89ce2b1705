"""Creating an object when a POST's answer may be lost: look it up by natural key before trying again."""

from __future__ import annotations

from typing import Any

from mistctl.domain.diff import Index, LiveState
from mistctl.domain.kinds import Kind
from mistctl.mist.errors import OutcomeUnknown
from mistctl.workflow.ports import MistApi

MAX_CREATE_ATTEMPTS = 3


async def create_or_find(
    mist: MistApi,
    org_id: str,
    kind: Kind,
    key: str,
    body: dict[str, Any],
    *,
    names: dict[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """POST `body`; when the answer is lost, list the kind and adopt the object with natural key `key`.

    `names`: live-shaped stubs of other kinds the key needs (WLAN templates for WLANs and policies).
    """
    for _attempt in range(MAX_CREATE_ATTEMPTS):
        try:
            return await mist.create_org(org_id, kind.collection, body)
        except OutcomeUnknown:
            objs = await mist.list_org(org_id, kind.collection)
            found = Index(LiveState(org_id, {kind.key: objs, **(names or {})})).by_key[kind.key].get(key, [])
            if found:
                return found[0]
    return await mist.create_org(org_id, kind.collection, body)
