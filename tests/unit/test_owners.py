"""Owner identities and the plan's owner conflicts (`domain.owners`), and a fleet's `name:`."""

from __future__ import annotations

from pathlib import Path

import pytest

from mistctl.domain.errors import FleetInvalid
from mistctl.domain.owners import Ownership, design_ownership, fleet_ownership, owner_problems
from mistctl.domain.parse import parse_fleet
from mistctl.domain.plan import Change

EXAMPLE = Path(__file__).resolve().parents[2] / "examples"


def test_a_fleet_is_owned_by_its_name_else_its_file_name_else_unnamed() -> None:
    assert fleet_ownership("branch-east", "/ci/checkout/fleets/east.yaml").owner == "fleet:branch-east"
    by_file = fleet_ownership(None, "/home/me/work/fleet.yaml")
    assert by_file.owner == "fleet:fleet.yaml" and by_file.source == "file name"
    assert fleet_ownership(None, "C:/x/../my fleet (2).yaml").owner == "fleet:my-fleet--2-.yaml"
    assert fleet_ownership(None, None).owner == "fleet:unnamed"
    assert "a `name:` in the file keeps it" in by_file.describe()


def test_the_design_is_owned_by_its_name_else_its_file_stem() -> None:
    assert design_ownership(None, "mistctl.designs/default.yaml").owner == "design:default"
    assert design_ownership("hq", "/etc/mistctl/design.yaml").owner == "design:hq"


def test_ownership_survives_the_queue_as_json() -> None:
    taken = fleet_ownership("east", take=True)
    assert Ownership.loads(Ownership.dumps(taken)) == taken
    assert Ownership.loads(Ownership.dumps(None)) is None and Ownership.loads(None) is None


def _change(action: str, kind: str = "switch_templates", key: str = "store-access") -> Change:
    return Change(action, 7, kind, key)  # type: ignore[arg-type]


def test_only_writes_to_another_owners_org_objects_are_conflicts() -> None:
    me = fleet_ownership("east")
    recorded = {("switch_templates", "store-access"): "design:default", ("labels", "mine"): "fleet:east",
                ("networks", "old"): None, ("sites", "Store-1"): "design:default",
                ("wlan_templates", "same"): "design:default"}
    changes = [_change("update"), _change("update"), _change("delete", "labels", "mine"),
               _change("update", "networks", "old"), _change("update", "sites", "Store-1"),
               _change("noop", "wlan_templates", "same"), _change("create", "rf_templates", "new")]
    found = owner_problems(changes, recorded, me)
    assert [(p.kind, p.key, p.fatal, p.owner) for p in found] == [
        ("switch_templates", "store-access", True, "design:default"),  # once, though two changes
        ("networks", "old", False, None),  # no owner recorded: claimed, a note
    ]
    assert found[0].message.startswith("switch template store-access is owned by design 'default'; pass "
                                       "--take-ownership to change it")
    assert "claims it for fleet 'east'" in found[1].message


def test_taking_ownership_turns_the_conflict_into_a_note() -> None:
    found = owner_problems([_change("delete")], {("switch_templates", "store-access"): "fleet:west"},
                           fleet_ownership("east", take=True))
    assert [(p.fatal, p.owner) for p in found] == [(False, "fleet:west")]
    assert "--take-ownership given" in found[0].message


def test_a_fleet_name_must_be_short_and_safe() -> None:
    text = "\n".join(line for line in (EXAMPLE / "fleet.yaml").read_text().splitlines()
                     if not line.startswith("name:"))  # the example's own name, replaced below

    def reader(name: str) -> str:
        return (EXAMPLE / name).read_text()

    assert parse_fleet("name: branch-east\n" + text, source="f.yaml", read_file=reader).name == "branch-east"
    for bad in ('"a b"', "x" * 64, "-lead", "[1, 2]", '"fleet:x"', '"east\\n"'):
        with pytest.raises(FleetInvalid, match="name: must be 1 to 63 letters"):
            parse_fleet(f"name: {bad}\n" + text, source="f.yaml", read_file=reader)
