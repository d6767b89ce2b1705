"""`gc_frozen` (domain/gcpause.py): the heap is frozen while applies run and put back by the last one to end."""

from __future__ import annotations

import gc

import pytest

from mistctl.domain.gcpause import gc_frozen


def test_the_heap_is_frozen_until_the_last_block_ends_errors_included() -> None:
    gc.unfreeze()  # whatever an earlier test left frozen
    with gc_frozen():
        assert gc.get_freeze_count() > 0
        with pytest.raises(RuntimeError), gc_frozen():  # a second apply at once, ending with an error
            assert gc.get_freeze_count() > 0
            raise RuntimeError("boom")
        # the first one still runs: still frozen (the count itself drops as frozen objects are freed by
        # reference counting, so it is compared with 0, which `gc.unfreeze` would have left)
        assert gc.get_freeze_count() > 0
        made = [[] for _ in range(3)]
        made[0].append(made)  # a cycle made in the block is not frozen: collected as usual
        del made
        assert gc.collect() > 0
    assert gc.get_freeze_count() == 0
