"""`--json` output: one JSON document on stdout (progress and banners stay on stderr), or JSON lines.

Shapes, for scripts: `status` {"runs", "sites"} or {"site", "steps"}; `audit` {"entries"}; `probe`
{"target", "ok", "tokens": [{token, org_id, ok, checks, privileges, usage}]}; `psk list` {"psks"};
`validate` {"ok", "sites", "zones", "org_objects"} or {"ok": false, "issues": [{file, line, item, message}]}.
No secret is in any of them: the models carry redacted fields, tokens are fingerprints.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import typer
from pydantic import BaseModel


def plain(value: Any) -> Any:
    """`value` as JSON-ready data (pydantic models and dataclasses included)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def echo_json(data: Any) -> None:
    """One indented JSON document on stdout."""
    typer.echo(json.dumps(plain(data), indent=2, default=str))


def echo_line(data: Any) -> None:
    """One JSON object on one line (a stream of events, `apply --json`)."""
    typer.echo(json.dumps(plain(data), default=str, separators=(",", ":")))


def probe_json(target: str, results: list[Any]) -> dict[str, Any]:
    """`probe --json`: each token's checks, privileges and budget."""
    tokens = [{"token": r.token, "org_id": r.org_id, "org_name": r.org_name, "ok": r.ok,
               "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in r.rows()],
               "privileges": plain(r.privileges), "usage": plain(r.usage)} for r in results]
    return {"target": target, "ok": all(r.ok for r in results), "tokens": tokens}
