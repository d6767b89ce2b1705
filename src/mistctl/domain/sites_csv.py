"""Sites from a CSV file in the column format of the Mist community library's site-import script.

The first line starts with `#` and names the columns. Accepted columns: `name`, `address`,
`country_code`, `timezone`, `notes`, `sitegroup_names` (comma separated), `gatewaytemplate_name`,
`networktemplate_name` (the switch template), `rftemplate_name`, `vars` (``"key1:value1|key2:value2"``;
commas separate pairs when no `|` is present, as in older copies of the script), plus mistctl's
`zone`, `number` (optional: a row without them is placed in the fleet's IP plan from its `vars`
when they fit it, else keeps them as its own), `overrides` (``"a|b"``), `lat`/`lng` and `devices`
(``"mac:5c5b35000001|serial:XYZ"``).
An empty cell means "not set here", so `site_defaults` apply. The script's `*_id` columns hold Mist
ids, which cannot be checked offline: they are rejected with the `_name` column to use instead.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from typing import Any

from mistctl.domain.errors import Issue, Origin

_SIMPLE = {
    "name": "name",
    "address": "address",
    "country_code": "country_code",
    "timezone": "timezone",
    "notes": "notes",
    "zone": "zone",
    "number": "number",
    "gatewaytemplate_name": "gateway_template",
    "networktemplate_name": "switch_template",
    "rftemplate_name": "rf_template",
}
_LISTS = {"sitegroup_names": "site_groups", "site_group_names": "site_groups", "overrides": "overrides"}
_OTHER = {"vars", "lat", "lng", "devices"}
KNOWN_COLUMNS = frozenset(_SIMPLE) | frozenset(_LISTS) | _OTHER
_UNSUPPORTED = {"alarmtemplate_name", "aptemplate_name", "secpolicy_name", "site_name"}
_DEVICE_KINDS = ("mac", "serial", "claim_code")
_COLUMN_LIKE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def parse_sites_csv(text: str, *, source: str) -> tuple[list[tuple[dict[str, Any], Origin]], list[Issue]]:
    """Raw site mappings (fleet keys) with the line each came from, and the problems found."""
    try:
        return _parse(text, source)
    except csv.Error as exc:  # a cell over the csv module's limit, a NUL byte: name the kind, not the text
        return [], [Issue(source, "CSV", _csv_error_fix(exc))]


def _csv_error_fix(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a cell is larger than {csv.field_size_limit() // 1024} KiB: this is not a sites CSV"
    if "NUL" in text:
        return "holds NUL bytes: save it as UTF-8 text"
    return "cannot be read as CSV: check the quoting (a quote opened and never closed?)"


def _parse(text: str, source: str) -> tuple[list[tuple[dict[str, Any], Origin]], list[Issue]]:
    lines = text.splitlines()
    if not lines or not lines[0].startswith("#"):
        fix = "the first line must start with '#' and name the columns, e.g. #name,address,zone,number"
        return [], [Issue(source, "CSV header", fix, 1)]
    header = [c.strip().lower() for c in next(csv.reader([lines[0][1:]], skipinitialspace=True))]
    issues = _header_issues(header, source)
    if issues:
        return [], issues
    rows: list[tuple[dict[str, Any], Origin]] = []
    reader = csv.reader(io.StringIO("\n".join(lines[1:])), skipinitialspace=True)
    for cells in reader:
        line = reader.line_num + 1
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        origin = Origin(source, line)
        if len(cells) != len(header):
            item = f"CSV row {line}"
            issues.append(
                Issue.at(origin, item, f"has {len(cells)} cells but the header names {len(header)}")
            )
            continue
        site, problems = _row(dict(zip(header, (c.strip() for c in cells), strict=True)))
        item = f"site '{site['name']}'" if site.get("name") else f"CSV row {line}"
        issues += [Issue.at(origin, item, p) for p in problems]
        rows.append((site, origin))
    return rows, issues


def _header_issues(header: list[str], source: str) -> list[Issue]:
    issues = []
    for n, column in enumerate(header, 1):
        if column in KNOWN_COLUMNS:
            continue
        # Only a name that looks like a column is quoted back: never echo a stray file's first line.
        item = f"CSV column '{column}'" if _COLUMN_LIKE.match(column) else f"CSV column {n}"
        issues.append(Issue(source, item, _column_fix(column), 1))
    for required in ("name",):  # no zone and number: placed from its vars when they fit the plan
        if required not in header:
            issues.append(Issue(source, "CSV header", f"add the '{required}' column", 1))
    return issues


def _column_fix(column: str) -> str:
    if not _COLUMN_LIKE.match(column):
        return f"is not a column name; known columns: {', '.join(sorted(KNOWN_COLUMNS))}"
    if column.endswith("_id") or column.endswith("_ids"):
        stem, suffix = column.rsplit("_", 1)
        use = f"{stem}_names" if suffix == "ids" else f"{stem}_name"
        return f"holds Mist ids, which mistctl cannot check offline: use '{use}'"
    if column in _UNSUPPORTED:
        return "is not supported by mistctl: remove the column"
    close = difflib.get_close_matches(column, sorted(KNOWN_COLUMNS), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown column; {hint}known columns: {', '.join(sorted(KNOWN_COLUMNS))}"


def _row(cells: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    site: dict[str, Any] = {}
    problems: list[str] = []
    for column, value in cells.items():
        if not value:
            continue
        if column in _SIMPLE:
            site[_SIMPLE[column]] = value
        elif column in _LISTS:
            site[_LISTS[column]] = _split_list(value)
        elif column == "vars":
            site["vars"] = dict(_parse_pairs(value, "vars", problems))
        elif column == "devices":
            site["devices"] = _parse_devices(value, problems)
    if "lat" in cells or "lng" in cells:
        _latlng(cells, site, problems)
    return site, problems


def _split_list(value: str) -> list[str]:
    separator = "|" if "|" in value else ","
    return [part.strip() for part in value.split(separator) if part.strip()]


def _parse_pairs(value: str, column: str, problems: list[str]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for n, part in enumerate(_split_list(value), 1):
        key, sep, val = part.partition(":")
        if not sep or not key.strip():  # the part is not quoted back: a value may be a secret
            problems.append(f"{column}: item {n} is not key:value; write \"key1:value1|key2:value2\"")
            continue
        pairs.append((key.strip(), val.strip()))
    return pairs


def _parse_devices(value: str, problems: list[str]) -> list[dict[str, str]]:
    devices = []
    for key, val in _parse_pairs(value, "devices", problems):
        if key not in _DEVICE_KINDS:
            problems.append(f"devices: '{key}' is not one of {', '.join(_DEVICE_KINDS)}")
            continue
        devices.append({key: val})
    return devices


def _latlng(cells: dict[str, str], site: dict[str, Any], problems: list[str]) -> None:
    lat, lng = cells.get("lat", ""), cells.get("lng", "")
    if not lat and not lng:
        return
    try:
        site["latlng"] = {"lat": float(lat), "lng": float(lng)}
    except ValueError:
        problems.append("lat and lng must both be decimal degrees, e.g. 40.7128 and -74.0060")
