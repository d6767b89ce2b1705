"""The service's default design and the example fleet agree on every org object (one owner per object).

A service deployment (the design) and `mistctl apply examples/fleet.yaml` write the same org objects; if
they differed, each run would rewrite what the other wrote and drift would flip between them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mistctl.designs import default_design_text, load_design
from mistctl.domain.kinds import ORG_KINDS
from mistctl.fleetio import load_fleet

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml"


def _by_name(section: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {(kind, str(item.get("name"))): item for kind, items in section.items() if isinstance(items, list)
            for item in items if isinstance(item, dict)}


def test_the_design_holds_the_example_fleets_org_objects_to_the_letter() -> None:
    design = yaml.safe_load(default_design_text())
    example = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    ours, theirs = _by_name(design["org"]), _by_name(example["org"])
    assert ours.keys() == theirs.keys()
    differ = sorted(f"{kind} {name}" for (kind, name), body in ours.items() if theirs[kind, name] != body)
    assert differ == [], f"the design and examples/fleet.yaml differ on: {', '.join(differ)}"
    assert design["org"] == example["org"]  # non-list org settings too
    for key in ("ip_plan", "zones", "site_defaults"):
        assert design[key] == example[key], key
    assert set(design) == set(example) - {"sites", "name"}  # each has its own owner name


def test_the_parsed_design_and_example_desire_the_same_org_objects() -> None:
    design = load_design().fleet([{"name": "Store-X", "zone": 1, "number": 30}])
    example = load_fleet(EXAMPLE)
    for kind in ORG_KINDS:  # what each would send to Mist for the org, kind by kind
        assert getattr(design.org, kind.key) == getattr(example.org, kind.key), kind.key
    assert design.org.switch_templates and design.org.wlans  # not two empty designs
    service_site, nyc = design.site("Store-X"), example.site("Store-NYC-001")
    assert service_site is not None and nyc is not None
    assert service_site.vars["store_code"] == "store"  # the default a service site gets
    assert nyc.vars["store_code"] == "NYC001"  # a site's own var wins
