"""mistctl's packaged `mist_schemas.json` is what scripts/extract_fleet_schemas.py makes of the vendored spec."""

from __future__ import annotations

import importlib.util
import json
from importlib import resources
from pathlib import Path
from typing import Any

from mistctl.domain.kinds import ORG_KINDS
from mistctl.domain.mist_schema import validator

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "extract_fleet_schemas.py"


def _extractor() -> Any:
    spec = importlib.util.spec_from_file_location("extract_fleet_schemas", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_fleet_schemas_match_the_spec(mist_spec: dict[str, Any]) -> None:
    committed = json.loads(resources.files("mistctl.domain").joinpath("mist_schemas.json").read_text())
    assert _extractor().extract(mist_spec) == committed, "re-run scripts/extract_fleet_schemas.py"


def test_every_org_kind_compiles_and_takes_a_minimal_object() -> None:
    minimal = {"wlans": {"ssid": "s"}, "wlan_policies": {"order": 1, "src_wxtags": [], "dst_allow_wxtags": [],
                                                          "dst_deny_wxtags": []},
               "psks": {"name": "p", "ssid": "s", "passphrase": "12345678"},
               "hub_profiles": {"name": "h", "type": "gateway"}, "labels": {"name": "l", "type": "match"}}
    for kind in ORG_KINDS:
        body = minimal.get(kind.key, {"name": "x"})
        assert list(validator(kind.key).iter_errors(body)) == [], kind.key
