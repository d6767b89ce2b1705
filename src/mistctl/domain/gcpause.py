"""Pause Python's cyclic garbage collector while a large, cycle-free structure is built; freeze the heap
while an apply runs.

Each collection pass walks every tracked object; building a 10,000-site fleet (a million small
objects: YAML nodes, values, models) triggered passes whose cost grew with the heap, more than half
of the work. The structures built hold no reference cycles, so nothing is left for the collector;
reference counting still frees everything as usual. Nested pauses are fine: only the outermost
turns the collector back on, and only if it was on before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_frozen = 0  # applies running inside `gc_frozen` (an HTTP service runs several at once)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The collector off for the block, back on (if it was) afterwards, exceptions included."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def gc_frozen() -> Iterator[None]:
    """The objects alive now (modules, the fleet, its plan, the live org) left out of the collector's passes
    for the block (`gc.freeze`), and put back afterwards (`gc.unfreeze`) by the last block to end.

    An apply of 400 sites otherwise spent about a tenth of its CPU in collections walking those objects again
    and again (a full pass over a large heap is over 0.1 s) while they stay alive throughout. Objects made in
    the block are collected as usual; a cycle among the frozen ones is freed once they are put back."""
    global _frozen
    if _frozen == 0:
        gc.freeze()
    _frozen += 1
    try:
        yield
    finally:
        _frozen -= 1
        if _frozen == 0:
            gc.unfreeze()
