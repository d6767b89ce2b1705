"""The CSVs people already have: a mist_library `import_sites.py` CSV (no zone or number columns, the
addresses written as vars in the script's `key:value,key:value` form) imports to a fleet that validates."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml

from mistctl.domain.fleet import Zone
from mistctl.fleetio import load_fleet
from tests.e2e.cli_support import run

HEADER = "#name,address,sitegroup_names,gatewaytemplate_name,networktemplate_name,rftemplate_name,vars"
ZONES = {1: "us-east", 2: "us-central", 3: "us-west"}


def _library_csv(workdir: Path, sites: int, odd: int = 0) -> Path:
    """`sites` rows as the script takes them; the last `odd` hold hand-written addresses."""
    plan = load_fleet(workdir / "examples" / "fleet.yaml").ip_plan
    assert plan is not None
    from mistctl.domain.ipplan import plan_site

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for i in range(sites):
        zone, number = 1 + i % 3, 100 + i // 3
        planned = plan_site(plan, Zone(id=zone, name=ZONES[zone]), number).vars()
        variables = {k: v for k, v in planned.items() if k.endswith(("_subnet", "_gateway", "_vlan", "_prefix"))}
        if i >= sites - odd:  # every variable the templates use, at addresses of no plan
            variables = {k: v.replace("10.", "172.", 1) for k, v in variables.items()}
        variables["store_code"] = f"S{i:03d}"
        cells = ",".join(f"{k}:{v}" for k, v in variables.items())
        writer.writerow([f"Store-{i:03d}", f"{i} Main St, Springfield", "retail-stores, flagship", "store-spoke",
                         "store-access", "store-rf", cells])
    path = workdir / "library.csv"
    path.write_text(HEADER + "\n" + buf.getvalue())
    return path


def test_a_library_csv_as_a_fleet_entry_validates(workdir: Path) -> None:
    _library_csv(workdir, 100)
    base = yaml.safe_load((workdir / "examples" / "fleet.yaml").read_text())
    base["sites"] = [{"csv": "library.csv"}]  # beside the fleet file: CSVs are read from its folder only
    (workdir / "with-csv.yaml").write_text(yaml.safe_dump(base, sort_keys=False))
    code, out = run("validate", "with-csv.yaml")
    assert code == 0, out
    assert "fleet OK: 100 sites" in out
    fleet = load_fleet(workdir / "with-csv.yaml")
    site = fleet.site("Store-004")
    assert site is not None and (site.zone, site.number) == (2, 101)
    assert site.vars == {"store_code": "S004"}  # the addresses are the plan's again


def test_import_from_a_library_csv_with_a_base_fleet(workdir: Path) -> None:
    _library_csv(workdir, 100, odd=4)
    code, out = run("import", "--from-csv", "library.csv", "--fleet", "examples/fleet.yaml", "--out", "fleet.yaml")
    assert code == 0, out
    assert "4 sites fit no IP plan" in out and "Store-099" in out
    assert "fleet.yaml validates: 100 sites (96 in the IP plan)" in out
    data = yaml.safe_load((workdir / "fleet.yaml").read_text())
    sites = {s["name"]: s for s in data["sites"]}
    assert (sites["Store-000"]["zone"], sites["Store-000"]["number"]) == (1, 100)
    assert sites["Store-000"]["vars"] == {"store_code": "S000"}
    assert "zone" not in sites["Store-097"] and sites["Store-097"]["vars"]["mgmt_subnet"].startswith("172.")
    assert data["ip_plan"] == yaml.safe_load((workdir / "examples" / "fleet.yaml").read_text())["ip_plan"]
    code, out = run("validate", "fleet.yaml")
    assert code == 0, out


def test_import_from_a_library_csv_infers_the_plan_and_writes_a_sites_csv(workdir: Path) -> None:
    path = _library_csv(workdir, 30)
    text = path.read_text().replace(",store-spoke,store-access,store-rf,", ",,,,")
    lines = text.splitlines()  # with the optional networks column some copies carry
    path.write_text("\n".join([lines[0] + ",networks", *(f'{line},"corp,guest"' for line in lines[1:])]) + "\n")
    code, out = run("import", "--from-csv", "library.csv", "--fleet", "empty.yaml", "--out", "f.yaml")
    assert code == 2 and "cannot read the base fleet" in out
    (workdir / "empty.yaml").write_text("org: {}\n")
    code, out = run("import", "--from-csv", "library.csv", "--fleet", "empty.yaml", "--out", "f.yaml",
                    "--sites-csv", "f-sites.csv")
    assert code == 0, out
    assert "IP plan inferred: hierarchical" in out and "30 of 30 sites fit it" in out and "fit no IP plan" not in out
    assert "the CSV's 'networks' column is not imported" in out
    assert "site group 'retail-stores' is named by the CSV but not the org" in out
    fleet = load_fleet(workdir / "f.yaml")
    assert len(fleet.sites) == 30 and all(s.placed for s in fleet.sites)
    assert (workdir / "f-sites.csv").read_text().startswith("#name,zone,number,")
    assert yaml.safe_load((workdir / "f.yaml").read_text())["sites"] == "f-sites.csv"
    code, out = run("import", "--from-csv", "library.csv", "--fleet", "empty.yaml", "--out", "f.yaml")
    assert code == 2 and "f.yaml exists: pass --force" in out
