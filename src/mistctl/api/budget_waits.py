"""A background run waiting for the Mist call budget says so in its events: "waiting for the rate budget".

The Mist client calls a `WaitHook` before it sleeps (synchronously); this one publishes an event to the
run with the reset time, so `GET /deployments/{id}/events` and the console show why nothing moves.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from mistctl.mist.clock import Clock
from mistctl.mist.session import WaitHook
from mistctl.store.port import StateStore

WAITING = "waiting for the rate budget"


def budget_wait_events(store: StateStore, run_id: str, clock: Clock) -> WaitHook:
    """A hook that publishes `{"type": "waiting", "message": WAITING, "resets_at", "seconds"}` per wait."""
    pending: set[asyncio.Task[int]] = set()

    def on_wait(reason: str, seconds: float) -> None:
        if reason != "budget":
            return
        resets = datetime.fromtimestamp(clock.now() + seconds, UTC).isoformat(timespec="seconds")
        event = {"type": "waiting", "message": f"{WAITING} (it resets at {resets})", "resets_at": resets,
                 "seconds": round(seconds)}
        task = asyncio.get_running_loop().create_task(store.publish_event(run_id, event))
        pending.add(task)  # kept until done, so it is not collected half-way
        task.add_done_callback(pending.discard)

    return on_wait
