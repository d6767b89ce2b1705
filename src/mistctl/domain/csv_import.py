"""A mist_library `import_sites.py` CSV (no zone or number, addresses written as vars) to a fleet's data.

Each row's zone and number come from its `vars` when they fit the plan: the base fleet's `ip_plan`
when it has one, else a plan inferred from all the rows. Only the variables the plan does not
produce stay the site's own; a row that fits no plan keeps all of them (plan-less). Site groups the
CSV names but the org lacks are added, as the script creates them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mistctl.domain.errors import FleetInvalid
from mistctl.domain.fleet import IpPlanSpec
from mistctl.domain.infer_plan import Inference, infer
from mistctl.domain.iplayout import layout_problems
from mistctl.domain.placement import place
from mistctl.domain.sites_csv import parse_sites_csv

_BASE_KEYS = ("org_id", "ip_plan", "zones", "org", "site_defaults")
#: Optional columns some copies of the CSV carry that a fleet site cannot hold, and what to do instead.
_IGNORED = {"networks": "org networks are listed in org.networks and reach sites through their templates"}


@dataclass
class Converted:
    """The fleet's data, the sites that fit no plan (with why), and notes for the user."""

    fleet: dict[str, Any]
    misfits: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    inferred: bool = False  # the plan was inferred from the rows (else the base fleet's)
    inference: Inference | None = None


def convert_csv(text: str, *, source: str, base: dict[str, Any]) -> Converted:
    """Convert the CSV's rows, with the base fleet's plan, zones, org objects and defaults."""
    text, dropped = _without_columns(text, _IGNORED)
    rows, issues = parse_sites_csv(text, source=source)
    if issues:
        raise FleetInvalid(issues)
    sites = [row for row, _origin in rows]
    fleet = {k: base[k] for k in _BASE_KEYS if k in base}
    out = Converted(fleet)
    out.notes += [f"the CSV's '{c}' column is not imported: {_IGNORED[c]}" for c in dropped]
    inference = out.inference = _inference(base, sites, out)
    if inference.spec is not None and "ip_plan" not in fleet:
        fleet["ip_plan"] = inference.spec.model_dump(mode="json", exclude_none=True)
        fleet["zones"] = [{"id": z, "name": n} for z, n in sorted(inference.zones.items())]
        out.inferred = True
    out.misfits = {n: r for n, r in inference.misfits.items() if n in {s.get("name") for s in sites if s.get("vars")}}
    fleet["sites"] = [_placed(site, inference) for site in sites]
    _add_missing_groups(fleet, sites, out.notes)
    return out


def _inference(base: dict[str, Any], sites: list[dict[str, Any]], out: Converted) -> Inference:
    by_name = {str(s.get("name")): dict(s.get("vars") or {}) for s in sites}
    if "ip_plan" not in base:
        return infer(by_name, complete=False)
    spec = IpPlanSpec.model_validate(base["ip_plan"])
    if layout_problems(spec):
        out.notes.append("the base fleet's ip_plan is not usable: run `mistctl validate` on it")
        return Inference(None)
    zones = {int(z["id"]): str(z["name"]) for z in base.get("zones") or []}
    return Inference(spec, zones, {n: place(spec, zones, v) for n, v in by_name.items()})


def _placed(site: dict[str, Any], inference: Inference) -> dict[str, Any]:
    found = inference.placements.get(str(site.get("name")))
    if found is None or not found.fits or "zone" in site or "number" in site or not site.get("vars"):
        return site
    placed = {"name": site["name"], "zone": found.zone, "number": found.number}
    placed.update({k: v for k, v in site.items() if k not in ("name", "vars")})
    if found.own:
        placed["vars"] = found.own
    return placed


def _add_missing_groups(fleet: dict[str, Any], sites: list[dict[str, Any]], notes: list[str]) -> None:
    org = fleet.setdefault("org", {})
    groups = org.setdefault("site_groups", [])
    known = {g.get("name") for g in groups if isinstance(g, dict)}
    for site in sites:
        for name in site.get("site_groups", []):
            if name not in known:
                groups.append({"name": name})
                known.add(name)
                notes.append(f"site group '{name}' is named by the CSV but not the org: added to org.site_groups")
    if not groups:
        del org["site_groups"]
    if not org:
        del fleet["org"]


def _without_columns(text: str, columns: Mapping[str, str]) -> tuple[str, list[str]]:
    """The CSV text without the named columns (the header line starts with '#'); the ones removed."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("#"):
        return text, []
    rows = list(csv.reader(io.StringIO("\n".join([lines[0][1:], *lines[1:]])), skipinitialspace=True))
    header = [c.strip().lower() for c in rows[0]]
    drop = [i for i, c in enumerate(header) if c in columns]
    if not drop:
        return text, []
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow([c for i, c in enumerate(row) if i not in drop])
    return "#" + buf.getvalue(), [header[i] for i in drop]
