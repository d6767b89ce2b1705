"""Fleet sites written as a sites CSV (the format `sites_csv` reads), for `mistctl import --sites-csv`."""

from __future__ import annotations

import csv
import io
from typing import Any

COLUMNS = ("name", "zone", "number", "address", "country_code", "timezone", "notes", "gatewaytemplate_name",
           "networktemplate_name", "rftemplate_name", "sitegroup_names", "lat", "lng", "vars", "devices")
_FIELDS = {"gatewaytemplate_name": "gateway_template", "networktemplate_name": "switch_template",
           "rftemplate_name": "rf_template"}


class NotCsvSafe(ValueError):
    """A value the CSV's `a:b|c:d` cells cannot hold; the YAML can."""


def sites_csv(sites: list[dict[str, Any]]) -> str:
    """The CSV text of fleet site mappings; `NotCsvSafe` names a value a cell cannot hold."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    buf.write("#")
    writer.writerow(COLUMNS)
    for site in sites:
        writer.writerow([_cell(site, column) for column in COLUMNS])
    return buf.getvalue()


def _cell(site: dict[str, Any], column: str) -> str:
    if column in ("lat", "lng"):
        return str(site["latlng"][column]) if site.get("latlng") else ""
    if column == "sitegroup_names":
        return _joined(site.get("site_groups", []), site)
    if column == "vars":
        return _joined([f"{k}:{v}" for k, v in _checked_pairs(site, site.get("vars", {}))], site)
    if column == "devices":
        return _joined([f"{k}:{v}" for d in site.get("devices", []) for k, v in d.items() if k != "name"], site)
    value = site.get(_FIELDS.get(column, column))
    return "" if value is None else str(value)


def _checked_pairs(site: dict[str, Any], pairs: dict[str, str]) -> list[tuple[str, str]]:
    for key in pairs:
        if ":" in key:
            raise NotCsvSafe(f"site '{site['name']}': variable name '{key}' holds ':'")
    return list(pairs.items())


def _joined(items: list[str], site: dict[str, Any]) -> str:
    if any("|" in item for item in items):
        raise NotCsvSafe(f"site '{site['name']}': a value holds '|', which separates items in a CSV cell")
    text = "|".join(items)
    # one item holding a comma would be split on it: a trailing | says the separator is |
    return f"{text}|" if len(items) == 1 and "," in text else text
