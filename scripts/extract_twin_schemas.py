"""Extract the schemas of the operations the Mist twin serves into `src/mist_twin/schemas.json`.

The twin validates request bodies at runtime without loading the 3 MB spec: this script copies the
request and 200-response schemas of each served operation, with every `#/components/schemas/X` they
reach kept under a local `$defs`. Annotations (descriptions, examples) are dropped to keep the file
small, and OpenAPI 3.0's `nullable: true` (still used by this 3.1 document) is rewritten to a JSON
Schema `null` type so that `jsonschema` accepts the nulls Mist accepts (e.g. unbinding a template).

Run: `.venv/bin/python scripts/extract_twin_schemas.py` (re-run when the vendored spec changes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "spec" / "mist.openapi.yaml"
OUT = REPO / "src" / "mist_twin" / "schemas.json"

#: operationIds the twin serves (keep in step with the routers in src/mist_twin).
OPERATIONS: tuple[str, ...] = (
    "getSelf", "getSelfApiUsage", "getOrg",
    "listOrgSites", "createOrgSite", "getSiteInfo", "updateSiteInfo", "deleteSite",
    "getSiteSetting", "updateSiteSettings",
    "listOrgSiteGroups", "createOrgSiteGroup", "getOrgSiteGroup", "updateOrgSiteGroup", "deleteOrgSiteGroup",
    "getOrgInventory", "addOrgInventory", "updateOrgInventoryAssignment", "searchOrgInventory",
    "claimOrgLicense",
    "listOrgServices", "createOrgService", "getOrgService", "updateOrgService", "deleteOrgService",
    "listOrgNetworks", "createOrgNetwork", "getOrgNetwork", "updateOrgNetwork", "deleteOrgNetwork",
    "listOrgDeviceProfiles", "createOrgDeviceProfile", "getOrgDeviceProfile", "updateOrgDeviceProfile",
    "deleteOrgDeviceProfile", "assignOrgDeviceProfile", "unassignOrgDeviceProfile",
    "listOrgGatewayTemplates", "createOrgGatewayTemplate", "getOrgGatewayTemplate",
    "updateOrgGatewayTemplate", "deleteOrgGatewayTemplate",
    "listOrgNetworkTemplates", "createOrgNetworkTemplate", "getOrgNetworkTemplate",
    "updateOrgNetworkTemplate", "deleteOrgNetworkTemplate",
    "listOrgTemplates", "createOrgTemplate", "getOrgTemplate", "updateOrgTemplate", "deleteOrgTemplate",
    "listOrgRfTemplates", "createOrgRfTemplate", "getOrgRfTemplate", "updateOrgRfTemplate",
    "deleteOrgRfTemplate",
    "listOrgWlans", "createOrgWlan", "getOrgWLAN", "updateOrgWlan", "deleteOrgWlan",
    "listOrgWxTags", "createOrgWxTag", "getOrgWxTag", "updateOrgWxTag", "deleteOrgWxTag",
    "listOrgWxRules", "createOrgWxRule", "getOrgWxRule", "updateOrgWxRule", "deleteOrgWxRule",
    "listOrgPsks", "createOrgPsk", "getOrgPsk", "updateOrgPsk", "deleteOrgPsk",
    "updateOrgMultiplePsks", "deleteOrgPskList", "deleteOrgPskOldPassphrase",
    "listSiteSlesMetrics", "getSiteSleSummary", "getOrgSitesSle",
    "listSiteAvailableDeviceVersions", "upgradeDevice", "upgradeSiteDevices", "listSiteDeviceUpgrades",
    "getSiteDeviceUpgrade", "cancelSiteDeviceUpgrade", "upgradeSsr",
    "listSiteDevices", "listSiteDevicesStats", "getSiteDeviceStats", "updateSiteDevice",
)  # fmt: skip

#: Keywords that only annotate: dropped from the copy.
ANNOTATIONS = frozenset({"description", "example", "examples", "title", "deprecated", "externalDocs"})
#: Keywords whose value maps names to schemas (the names are data, not keywords).
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
#: Keywords whose value is data, never walked.
DATA_KEYWORDS = frozenset({"default", "enum", "const", "required"})
REF_PREFIX = "#/components/schemas/"


def clean(node: Any, refs: set[str]) -> Any:
    """A copy of a schema node: annotations dropped, refs made local, `nullable` made JSON Schema."""
    if isinstance(node, list):
        return [clean(item, refs) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ANNOTATIONS or key.startswith("x-") or key == "nullable":
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
            name = value[len(REF_PREFIX) :]
            refs.add(name)
            out[key] = f"#/$defs/{name}"
        elif key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: clean(sub, refs) for name, sub in value.items()}
        elif key in DATA_KEYWORDS:
            out[key] = value
        else:
            out[key] = clean(value, refs)
    return allow_null(out) if node.get("nullable") is True else out


def allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema widened to accept null (what OpenAPI 3.0's `nullable: true` meant)."""
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def body_schema(content: dict[str, Any] | None) -> Any:
    """The JSON schema of a request or response content map, if any."""
    if not content:
        return None
    media = content.get("application/json") or next(iter(content.values()))
    return media.get("schema")


def find_operation(spec: dict[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    """The (method, path, operation) of an operationId."""
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return method.upper(), path, op
    raise SystemExit(f"operationId {operation_id} not in the spec")


def response_schema(spec: dict[str, Any], op: dict[str, Any]) -> Any:
    """The schema of the operation's 200 answer (None when it has no body)."""
    answer = op.get("responses", {}).get("200", {})
    if "$ref" in answer:
        answer = spec["components"]["responses"][answer["$ref"].rsplit("/", 1)[-1]]
    return body_schema(answer.get("content"))


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    """The schemas.json document for the served operations."""
    refs: set[str] = set()
    operations: dict[str, Any] = {}
    for operation_id in OPERATIONS:
        method, path, op = find_operation(spec, operation_id)
        request = body_schema(op.get("requestBody", {}).get("content"))
        operations[operation_id] = {
            "method": method,
            "path": path,
            "request": None if request is None else clean(request, refs),
            "response": clean(response_schema(spec, op), refs),
        }
    defs: dict[str, Any] = {}
    pending = set(refs)
    while pending:
        name = pending.pop()
        found: set[str] = set()
        defs[name] = clean(spec["components"]["schemas"][name], found)
        pending |= found - defs.keys()
    version = spec.get("info", {}).get("version", "?")
    return {"spec_version": version, "operations": operations, "$defs": dict(sorted(defs.items()))}


def render(document: dict[str, Any]) -> str:
    """Compact JSON with one operation or schema per line, so a spec update gives a readable diff."""

    def block(mapping: dict[str, Any]) -> str:
        compact = {"sort_keys": True, "separators": (",", ":")}
        lines = [f"  {json.dumps(k)}: {json.dumps(v, **compact)}" for k, v in mapping.items()]  # type: ignore[arg-type]
        return "{\n" + ",\n".join(lines) + "\n }"

    return (
        "{\n"
        f' "spec_version": {json.dumps(document["spec_version"])},\n'
        f' "operations": {block(document["operations"])},\n'
        f' "$defs": {block(document["$defs"])}\n'
        "}\n"
    )


def main() -> None:
    """Read the vendored spec, write schemas.json."""
    with SPEC.open("rb") as fh:
        spec = yaml.load(fh, Loader=yaml.CSafeLoader)
    document = extract(spec)
    OUT.write_text(render(document))
    size = OUT.stat().st_size
    sys.stdout.write(
        f"wrote {OUT.relative_to(REPO)}: {len(document['operations'])} operations, "
        f"{len(document['$defs'])} schemas, {size // 1024} KiB\n"
    )


if __name__ == "__main__":
    main()
