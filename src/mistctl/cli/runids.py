"""Run ids as people type them: the short id `status` and `audit` print (8 characters), or any unique prefix."""

from __future__ import annotations

from mistctl.errors import UserError
from mistctl.store.port import StateStore

SHORT = 8  # what the tables print; runs are uuid4 hex, so 8 characters rarely collide
MAX_SCAN = 100_000  # runs are few (one per apply, rollout or rotation); a prefix is matched among them


def short_id(run_id: str | None) -> str:
    """The id as the tables print it."""
    return (run_id or "")[:SHORT]


async def resolve_run_id(store: StateStore, given: str) -> str:
    """The one run whose id is `given` or starts with it; `UserError` naming the candidates otherwise."""
    prefix = given.strip().lower()
    if not prefix:
        raise UserError("--run needs a run id (or its first characters); `mistctl status` lists recent runs")
    exact = await store.get_run(prefix, include_plan=False)
    if exact is not None:
        return exact.id
    matches = [r for r in await store.list_runs(limit=MAX_SCAN) if r.id.startswith(prefix)]
    if not matches:
        raise UserError(f"no run {given!r}; `mistctl status` lists recent runs")
    if len(matches) > 1:
        shown = ", ".join(f"{r.id} ({r.kind}, {r.status})" for r in matches[:10])
        more = f" and {len(matches) - 10} more" if len(matches) > 10 else ""
        raise UserError(f"run id {given!r} is ambiguous: it begins {len(matches)} runs: {shown}{more}; "
                        "type more of the id")
    return matches[0].id
