"""Fleet text to a validated `Fleet`: the YAML, the sites CSV it names, defaults merged, all checked.

Each section is parsed on its own so that one bad section does not hide the problems of the others;
every problem found anywhere is raised together in one `FleetInvalid`. Pure: files named by the
fleet (the sites CSV) are read through the `read_file` callable the caller passes in.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mistctl.domain import kinds as K
from mistctl.domain.envrefs import expand
from mistctl.domain.errors import FleetInvalid, Issue, Origin
from mistctl.domain.fleet import (
    Fleet,
    IpPlanSpec,
    OrgDesign,
    Site,
    SiteDefaults,
    Zone,
)
from mistctl.domain.fleetname import name_problem
from mistctl.domain.gcpause import gc_paused
from mistctl.domain.origins import Origins
from mistctl.domain.planless import missing_plan_issue, place_row
from mistctl.domain.pydantic_words import hint, pydantic_issues
from mistctl.domain.refs import describe
from mistctl.domain.sites_csv import parse_sites_csv
from mistctl.domain.textsafe import printable, text_issues
from mistctl.domain.validate import validate_parts
from mistctl.domain.validate_schema import non_text_key
from mistctl.domain.yamlsrc import YamlDoc, load_yaml

ReadFile = Callable[[str], str]
M = TypeVar("M", bound=BaseModel)

TOP_KEYS = ("name", "org_id", "ip_plan", "zones", "org", "site_defaults", "sites")
_MERGED = ("vars", "overrides")


def parse_fleet(
    text: str, *, source: str = "fleet.yaml", read_file: ReadFile | None = None, env: Mapping[str, str] | None = None
) -> Fleet:
    """Parse and validate a fleet file's text; raises `FleetInvalid` listing every problem found.

    `env` gives the values of `${NAME}` references in secret fields (none set when not given).
    The cyclic garbage collector is paused meanwhile (`gcpause`: nothing built here holds a cycle).
    """
    with gc_paused():
        return _parse(text, source, read_file, env)


def _parse(text: str, source: str, read_file: ReadFile | None, env: Mapping[str, str] | None) -> Fleet:
    doc = load_yaml(text, source)
    if doc.data is None:
        raise FleetInvalid([Issue(source, "fleet file", "is empty: it needs ip_plan, zones and sites")])
    if not isinstance(doc.data, dict):
        message = f"must be a mapping with the keys {', '.join(TOP_KEYS)}"
        raise FleetInvalid([Issue(source, "fleet file", message, 1)])
    reader = _Reader(doc, source, read_file, env or {})
    fleet = reader.read(doc.data)
    if reader.issues or fleet is None:
        # In file order, so the report reads top to bottom alongside the file.
        raise FleetInvalid(sorted(reader.issues, key=lambda i: (i.file != source, i.file, i.line or 0)))
    return fleet


class _Reader:
    """Reads one fleet document section by section, collecting issues and origins."""

    def __init__(self, doc: YamlDoc, source: str, read_file: ReadFile | None, env: Mapping[str, str]) -> None:
        self.doc, self.source, self.read_file, self.env = doc, source, read_file, env
        self.issues: list[Issue] = list(doc.issues)
        self.origins = Origins(source, lines=doc.lines)
        self.plan: IpPlanSpec | None = None
        self.zone_names: dict[int, str] = {}
        self.csv_rows: set[int] = set()  # the ids of the site entries read from CSV files (alive in `_sites`)

    def origin(self, raw: Any) -> Origin:
        return Origin(self.source, self.doc.line_of(raw))

    def model(self, cls: type[M], raw: Any, item: str, origin: Origin) -> M | None:
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            self.issues += pydantic_issues(exc, origin, item)
            return None

    def read(self, data: dict[str, Any]) -> Fleet | None:
        top = Origin(self.source, 1)
        for key in data:
            if key not in TOP_KEYS:
                close = hint(key, list(TOP_KEYS))
                at = Origin(self.source, self.doc.top_key_lines.get(str(key), 1))  # the key's own line
                self.issues.append(Issue.at(at, "fleet file", f"unknown top-level key '{key}'{close}"))
        if self.doc.controls:  # else no string of the document holds a control character
            self.issues += text_issues({k: v for k, v in data.items() if k != "sites"}, top)  # textsafe.py
        plan = self._plan(data.get("ip_plan"))
        zones = self._zones(data.get("zones"), planned="ip_plan" in data)
        self.plan, self.zone_names = plan, {z.id: z.name for z in zones}
        org = self._org(data.get("org"))
        defaults, defaults_raw = self._defaults(data.get("site_defaults"))
        sites = self._sites(data.get("sites"), defaults_raw)
        org_id = data.get("org_id")
        if org_id is not None and not isinstance(org_id, str):
            self.issues.append(Issue.at(top, "org_id", "must be the org's id as a string: quote it"))
        name = data.get("name")
        bad_name = name_problem(name) if name is not None else None
        if bad_name:
            self.issues.append(Issue.at(Origin(self.source, self.doc.top_key_lines.get("name", 1)), "name", bad_name))
        missing = missing_plan_issue(self.source, sites, org.count()) if "ip_plan" not in data else None
        self.issues += [missing] if missing else []
        self.issues += validate_parts(plan, zones, org, sites, self.origins)
        if self.issues:
            return None
        return Fleet(name=name, org_id=org_id, ip_plan=plan, zones=zones, org=org, site_defaults=defaults, sites=sites)

    def _plan(self, raw: Any) -> IpPlanSpec | None:
        if raw is None:  # plan-less: allowed when no site has a zone and number (checked in `read`)
            return None
        self.origins.ip_plan = self.origin(raw)
        return self.model(IpPlanSpec, raw, "ip_plan", self.origins.ip_plan)

    def _zones(self, raw: Any, planned: bool) -> list[Zone]:
        if raw is None and not planned:
            return []
        if not isinstance(raw, list) or not raw:
            self.issues.append(Issue(self.source, "zones", "add zones as a list of {id: 1, name: us-east}"))
            return []
        zones = []
        for i, item in enumerate(raw):
            origin = self.origin(item)
            zone = self.model(Zone, item, f"zones #{i + 1}", origin)
            if zone is not None:
                zones.append(zone)
                self.origins.zones.append(origin)
        return zones

    def _org(self, raw: Any) -> OrgDesign:
        if raw is None:
            return OrgDesign()
        if not isinstance(raw, dict):
            self.issues.append(
                Issue.at(self.origin(raw), "org", "must map kinds (networks, wlans, ...) to lists")
            )
            return OrgDesign()
        clean: dict[str, list[dict[str, Any]]] = {}
        for key, items in raw.items():
            if key not in K.BY_KEY or K.BY_KEY[key] not in K.ORG_KINDS:
                self.issues.append(Issue.at(self.origin(raw), f"org.{key}", _org_key_fix(key)))
                continue
            clean[key] = self._org_objects(key, items, self.origin(raw))
        return OrgDesign(**clean)

    def _org_objects(self, key: str, items: Any, origin: Origin) -> list[dict[str, Any]]:
        if items is None:
            return []
        if not isinstance(items, list):
            self.issues.append(Issue.at(origin, f"org.{key}", "must be a list of objects"))
            return []
        objs, origins = [], []
        for i, obj in enumerate(items):
            bad_key = non_text_key(obj) if isinstance(obj, dict) else None
            if not isinstance(obj, dict) or bad_key is not None:
                message = "must be a mapping of Mist fields"
                if bad_key is not None:
                    message = f"the key {bad_key} is not text: Mist's field names are strings; quote it"
                self.issues.append(Issue.at(origin, f"{K.BY_KEY[key].title} #{i + 1} in org.{key}", message))
                continue
            origins.append(self.origin(obj))
            obj, unset = expand(obj, self.env)
            for ref in unset:
                message = f"{ref.path} is ${{{ref.name}}}, which is not set: export {ref.name} (the secret's value)"
                self.issues.append(Issue.at(origins[-1], describe(key, obj, i), message))
            objs.append(obj)
        self.origins.org[key] = origins
        return objs

    def _defaults(self, raw: Any) -> tuple[SiteDefaults, dict[str, Any]]:
        if raw is None:
            return SiteDefaults(), {}
        defaults = self.model(SiteDefaults, raw, "site_defaults", self.origin(raw))
        if defaults is None:
            return SiteDefaults(), {}
        return defaults, defaults.model_dump(exclude_unset=True, exclude_none=True)

    def _sites(self, raw: Any, defaults: dict[str, Any]) -> list[Site]:
        entries = self._site_entries(raw)
        sites = []
        for n, (entry, origin) in enumerate(entries):
            name = entry.get("name")
            item = f"site '{printable(name)}'" if isinstance(name, str) and name else f"sites #{n + 1}"
            if self.doc.controls or id(entry) in self.csv_rows:  # a CSV row's text is not the document's
                self.issues += text_issues(entry, origin, item)
            site = self.model(Site, _effective(defaults, entry), item, origin)
            if site is not None:
                sites.append(site)
                self.origins.sites.append(origin)
        return sites

    def _site_entries(self, raw: Any) -> list[tuple[dict[str, Any], Origin]]:
        if raw is None:
            return []
        if isinstance(raw, str):
            return self._csv(raw, Origin(self.source))
        if not isinstance(raw, list):
            self.issues.append(
                Issue(self.source, "sites", "must be a list of sites or the name of a CSV file")
            )
            return []
        entries: list[tuple[dict[str, Any], Origin]] = []
        for i, item in enumerate(raw):
            if isinstance(item, dict) and set(item) == {"csv"}:
                entries += self._csv(item["csv"], self.origin(item))
            elif isinstance(item, dict):
                entries.append((item, self.origin(item)))
            else:
                self.issues.append(
                    Issue(self.source, f"sites #{i + 1}", "must be a mapping (name, zone, number)")
                )
        return entries

    def _csv(self, name: Any, origin: Origin) -> list[tuple[dict[str, Any], Origin]]:
        if not isinstance(name, str) or not name.strip():
            self.issues.append(Issue.at(origin, "sites", "a CSV entry needs a file name: csv: sites.csv"))
            return []
        shown = name if posixpath.isabs(name) else posixpath.join(posixpath.dirname(self.source), name)
        if self.read_file is None:
            self.issues.append(
                Issue.at(origin, "sites", f"names the CSV file '{name}' but no file reader was given")
            )
            return []
        try:
            text = self.read_file(name)
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            self.issues.append(Issue.at(origin, "sites", f"cannot read the CSV file '{shown}': {reason}"))
            return []
        rows, issues = parse_sites_csv(text, source=shown)
        self.issues += issues
        placed = [(place_row(self.plan, self.zone_names, row), origin) for row, origin in rows]  # mist_library CSVs
        self.csv_rows.update(id(row) for row, _ in placed)
        return placed


def _org_key_fix(key: Any) -> str:
    if key in K.BY_COLLECTION:
        return f"Mist calls these '{key}'; the fleet key is '{K.BY_COLLECTION[key].key}'"
    keys = [k.key for k in K.ORG_KINDS]
    return f"unknown kind{hint(key, keys)}; kinds: {', '.join(keys)}"


def _effective(defaults: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """A site's values with the defaults merged: the site's keys win, vars merge, overrides join."""
    site = {k: v for k, v in defaults.items() if k not in _MERGED}
    site.update({k: v for k, v in raw.items() if k not in _MERGED})
    if site.get("site_groups", []) is None:
        site["site_groups"] = []
    own_vars = raw.get("vars") or {}
    site["vars"] = {**defaults.get("vars", {}), **own_vars} if isinstance(own_vars, dict) else own_vars
    own_overrides = raw.get("overrides") or []
    merged = (
        [*defaults.get("overrides", []), *own_overrides] if isinstance(own_overrides, list) else own_overrides
    )
    hashable = isinstance(merged, list) and all(isinstance(m, str) for m in merged)
    site["overrides"] = list(dict.fromkeys(merged)) if hashable else merged
    return site
