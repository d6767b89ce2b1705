"""Extract the spec schemas of the fleet's org kinds into `src/mistctl/domain/mist_schemas.json`.

`mistctl validate` checks every org object against Mist's own schema (types, enums, closed objects)
at every depth, offline and without loading the 3 MB spec: this script copies the schema of each
kind named in `mistctl.domain.mist_fields.SCHEMAS`, with every schema it reaches kept under `$defs`,
cleaned as for the twin (annotations dropped, OpenAPI's `nullable` made JSON Schema).

Run: `.venv/bin/python scripts/extract_fleet_schemas.py` (re-run when the vendored spec changes).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "spec" / "mist.openapi.yaml"
OUT = REPO / "src" / "mistctl" / "domain" / "mist_schemas.json"
REF_PREFIX = "#/components/schemas/"


def _twin_extractor() -> Any:
    path = Path(__file__).resolve().parent / "extract_twin_schemas.py"
    spec = importlib.util.spec_from_file_location("extract_twin_schemas", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kinds() -> dict[str, str]:
    sys.path.insert(0, str(REPO / "src"))
    from mistctl.domain.mist_fields import SCHEMAS

    return dict(SCHEMAS)


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    """The mist_schemas.json document: one `$ref` per fleet kind and the `$defs` they reach."""
    clean = _twin_extractor().clean
    kinds = _kinds()
    defs: dict[str, Any] = {}
    pending = set(kinds.values())
    while pending:
        name = pending.pop()
        found: set[str] = set()
        defs[name] = clean(spec["components"]["schemas"][name], found)
        pending |= found - defs.keys()
    return {
        "spec_version": spec.get("info", {}).get("version", "?"),
        "kinds": {key: f"#/$defs/{name}" for key, name in kinds.items()},
        "$defs": dict(sorted(defs.items())),
    }


def render(document: dict[str, Any]) -> str:
    """Compact JSON with one schema per line, so a spec update gives a readable diff."""
    compact: dict[str, Any] = {"sort_keys": True, "separators": (",", ":")}
    lines = [f"  {json.dumps(k)}: {json.dumps(v, **compact)}" for k, v in document["$defs"].items()]
    return (
        "{\n"
        f' "spec_version": {json.dumps(document["spec_version"])},\n'
        f' "kinds": {json.dumps(document["kinds"], sort_keys=False)},\n'
        ' "$defs": {\n' + ",\n".join(lines) + "\n }\n}\n"
    )


def main() -> None:
    """Read the vendored spec, write mist_schemas.json."""
    with SPEC.open("rb") as fh:
        spec = yaml.load(fh, Loader=yaml.CSafeLoader)
    document = extract(spec)
    OUT.write_text(render(document))
    size = OUT.stat().st_size
    sys.stdout.write(f"wrote {OUT.relative_to(REPO)}: {len(document['$defs'])} schemas, {size // 1024} KiB\n")


if __name__ == "__main__":
    main()
