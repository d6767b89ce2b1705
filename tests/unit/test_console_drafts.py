"""The console's held fleets: only the service key that planned one may apply it, and they lapse."""

from __future__ import annotations

import pytest
import yaml

from mistctl.designs import default_design_text
from mistctl.domain.parse import parse_fleet
from mistctl.web import drafts
from mistctl.web.drafts import Drafts


def test_a_draft_is_held_for_its_key_only_and_lapses(monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = parse_fleet(yaml.safe_dump(yaml.safe_load(default_design_text())), source="fleet")
    clock = [1000.0]
    monkeypatch.setattr(drafts.time, "time", lambda: clock[0])
    held = Drafts()
    draft = held.keep("key:aaaa1111", fleet, {"org_id": "o"})
    assert "scanner-example-pass-01" not in repr(draft)  # the fleet (and its passphrases) is kept out of reprs
    assert held.draft(draft.id, "key:bbbb2222") is None
    assert held.draft(draft.id, "key:aaaa1111") is draft
    held.started("run-1", fleet)
    assert held.fleet_of("run-1") is fleet
    clock[0] += drafts.TTL + 1
    assert held.draft(draft.id, "key:aaaa1111") is None and held.fleet_of("run-1") is None
    ids = [held.keep("key:aaaa1111", fleet, {}).id for _ in range(drafts.LIMIT + 5)]
    assert held.draft(ids[0], "key:aaaa1111") is None and held.draft(ids[-1], "key:aaaa1111") is not None
