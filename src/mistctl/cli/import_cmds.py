"""`mistctl import`: an existing org (or a mist_library sites CSV) to a fleet file that validates.

Reads only (one list per kind, the inventory, one setting GET per site); writes the fleet file,
and the sites CSV with `--sites-csv`. Exit 0 when the file validates (once the printed secret
variables are set), 1 when it was written but does not, 2 bad input.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console

from mistctl.bootstrap import open_services
from mistctl.cli.errors import EXIT_FAILED, fail, handle_errors
from mistctl.cli.options import ConcurrencyOpt
from mistctl.domain.csv_import import convert_csv
from mistctl.domain.csv_writer import NotCsvSafe, sites_csv
from mistctl.domain.errors import FleetInvalid
from mistctl.domain.fleet_writer import Imported, build_fleet
from mistctl.domain.parse import parse_fleet
from mistctl.workflow.importer import read_org

OrgOpt = Annotated[str | None, typer.Option("--org-id", help="Mist org id (else MIST_ORG_ID).")]
HostOpt = Annotated[str | None, typer.Option("--mist-host", help="Mist cloud host or URL (else MIST_HOST).")]
_SHOWN = 20
_PLACEHOLDER = "x" * 12  # stands in for a secret when checking that the written file validates


def register(app: typer.Typer) -> None:
    """Add the import command."""
    app.command("import")(import_cmd)


@handle_errors
def import_cmd(
    out: Annotated[Path, typer.Option("--out", help="The fleet file to write.")] = Path("fleet.yaml"),
    sites_csv_out: Annotated[Path | None, typer.Option(
        "--sites-csv", help="Write the sites to this CSV (the fleet file names it) instead of the YAML.")] = None,
    from_csv: Annotated[Path | None, typer.Option(
        "--from-csv", help="Convert a mist_library import_sites.py CSV instead of reading the org's sites.")] = None,
    base: Annotated[Path | None, typer.Option(
        "--fleet", help="With --from-csv: take ip_plan, zones, org objects and defaults from this fleet file "
                        "(no Mist call); else the org objects are read from Mist.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")] = False,
    add_vars: Annotated[bool, typer.Option(
        "--plan-adds-vars", help="Place sites that lack some planned variables too (the first apply adds "
                                 "them; without it such sites stay plan-less and the round trip is exact).")] = False,
    concurrency: ConcurrencyOpt = None,
    org_id: OrgOpt = None,
    mist_host: HostOpt = None,
) -> None:
    """Write a fleet file for an existing org: org objects, sites, devices, the IP plan inferred."""
    for path in (out, sites_csv_out):
        if path is not None and path.exists() and not force:
            fail(f"{path} exists: pass --force to overwrite it, or choose another --out / --sites-csv")
    if base is not None and from_csv is None:
        fail("--fleet goes with --from-csv (it gives the plan and org objects the CSV's sites are placed in)")
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if from_csv is not None:
        data, report = _from_csv(from_csv, base, err, org_id=org_id, mist_host=mist_host)
    else:
        imported = asyncio.run(_read(err, org_id=org_id, mist_host=mist_host, concurrency=concurrency,
                                     complete=not add_vars))
        data, report = imported.fleet, imported
    code = _write(data, out, sites_csv_out, err)
    _report(report, err)
    raise typer.Exit(max(code, _check(out, report, err)))


async def _read(err: Console, *, org_id: str | None, mist_host: str | None, concurrency: int | None,
                complete: bool) -> Imported:
    async with open_services(mist_host=mist_host, org_id=org_id, concurrency=concurrency) as svc:
        err.print(svc.banner, markup=False)

        def progress(phase: str, done: int, total: int) -> None:
            if done == total or done % 50 == 0:
                err.print(f"  read {phase}: {done}/{total}", markup=False)

        live = await read_org(svc.mist, svc.org_id, concurrency=svc.concurrency, progress=progress)
        calls = svc.mist.calls.total
    imported = build_fleet(live, complete=complete)
    err.print(f"read {len(live.sites)} sites, {sum(len(v) for v in live.objects.values())} org objects and "
              f"{len(live.inventory)} inventory devices with {calls} API calls "
              f"({calls - len(live.sites)} lists and pages, {len(live.sites)} site settings); 0 writes", markup=False)
    return imported


def _from_csv(path: Path, base: Path | None, err: Console, *, org_id: str | None,
              mist_host: str | None) -> tuple[dict[str, Any], Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {getattr(exc, 'strerror', None) or 'not UTF-8 text'}")
    if base is not None:
        base_data = _load_base(base)
    else:
        imported = asyncio.run(_org_only(err, org_id=org_id, mist_host=mist_host))
        base_data = {k: v for k, v in imported.fleet.items() if k in ("org_id", "org")}
    converted = convert_csv(text, source=str(path), base=base_data)
    return converted.fleet, converted


async def _org_only(err: Console, *, org_id: str | None, mist_host: str | None) -> Imported:
    async with open_services(mist_host=mist_host, org_id=org_id) as svc:
        err.print(svc.banner, markup=False)
        live = await read_org(svc.mist, svc.org_id, with_sites=False)
        err.print(f"read the org's objects with {svc.mist.calls.total} API calls; 0 writes", markup=False)
    return build_fleet(live)


def _load_base(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        fail(f"cannot read the base fleet {path}: {exc}")
    if not isinstance(data, dict):
        fail(f"{path} is not a fleet file (a mapping with ip_plan, zones, org...)")
    return data


def _write(data: dict[str, Any], out: Path, csv_out: Path | None, err: Console) -> int:
    data = dict(data)
    if csv_out is not None:
        try:
            text = sites_csv(data["sites"])
        except NotCsvSafe as exc:
            fail(f"{exc}: write the sites in the YAML (leave out --sites-csv)")
        csv_out.write_text(text, encoding="utf-8")
        data["sites"] = os.path.relpath(csv_out.resolve(), out.resolve().parent)
    header = "# Written by `mistctl import`: review it, set the secrets' variables, then `mistctl plan`.\n"
    out.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    err.print(f"wrote {out}" + (f" and {csv_out}" if csv_out else ""), markup=False)
    return 0


def _report(report: Any, err: Console) -> None:
    inference = getattr(report, "inference", None)
    misfits: dict[str, str] = inference.misfits if inference is not None else getattr(report, "misfits", {})
    spec = inference.spec if inference is not None else None
    if inference is not None and spec is not None:
        how = "inferred" if getattr(report, "inferred", True) else "of the base fleet"
        fits = sum(p.fits for p in inference.placements.values())
        err.print(f"IP plan {how}: {spec.scheme} {spec.supernet}, segments "
                  f"{', '.join(s.name for s in spec.segments)}; {fits} of {len(inference.placements)} sites fit it",
                  markup=False)
    if misfits:
        said = ("1 site fits no IP plan and keeps its variables as its own:" if len(misfits) == 1 else
                f"{len(misfits)} sites fit no IP plan and keep their variables as their own:")
        err.print(said, markup=False)
        for name, why in list(misfits.items())[:_SHOWN]:
            err.print(f"  - {name}: {why}", markup=False)
        if len(misfits) > _SHOWN:
            err.print(f"  ... and {len(misfits) - _SHOWN} more", markup=False)
    secrets: dict[str, str] = getattr(report, "secrets", {})
    if secrets:
        err.print("secrets were not written; set these environment variables before validate/plan/apply:",
                  markup=False)
        for name, where in secrets.items():
            err.print(f"  export {name}=...   # {where}", markup=False)
    for note in getattr(report, "notes", []):
        err.print(f"note: {note}", markup=False)


def _check(out: Path, report: Any, err: Console) -> int:
    """Validate the written file (secrets stood in for when unset); 1 with the problems when it does not."""
    env = {**dict.fromkeys(getattr(report, "secrets", {}), _PLACEHOLDER), **os.environ}
    try:
        fleet = parse_fleet(out.read_text(encoding="utf-8"), source=str(out), env=env,
                            read_file=lambda name: (out.parent / name).read_text(encoding="utf-8-sig"))
    except FleetInvalid as exc:
        err.print(f"{out} does not validate yet:\n{exc}", markup=False)
        return EXIT_FAILED
    placed = sum(s.placed for s in fleet.sites)
    err.print(f"{out} validates: {len(fleet.sites)} sites ({placed} in the IP plan), {fleet.org.count()} org objects",
              markup=False)
    return 0
