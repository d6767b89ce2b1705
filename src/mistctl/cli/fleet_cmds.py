"""CLI commands on the fleet file, offline: `mistctl validate FLEET` and `mistctl ipam FLEET`.

Exit code 2 (invalid input) with every problem listed, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from mistctl.cli.errors import EXIT_INVALID
from mistctl.cli.json_out import echo_json
from mistctl.cli.plainout import echo_styled, rich_writes_plain
from mistctl.domain.errors import FleetError, FleetInvalid
from mistctl.domain.fleet import Fleet
from mistctl.domain.ipam import ipam_records
from mistctl.domain.textsafe import printable
from mistctl.fleetio import load_fleet

if TYPE_CHECKING:  # Rich is imported where it draws: not by a valid fleet's `validate` off a terminal
    from rich.console import Console
    from rich.table import Table

FleetArg = Annotated[Path, typer.Argument(help="The fleet file (YAML).", show_default=False)]
AllowOutsideOpt = Annotated[bool, typer.Option(
    "--allow-outside", help="Read sites CSV files outside the fleet file's folder.")]


class IpamFormat(StrEnum):
    """Output formats of `mistctl ipam`."""

    table = "table"
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.command("validate")(validate)
    app.command("ipam")(ipam)


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    # soft_wrap: messages stay on one line each, whatever the terminal width, so they can be grepped.
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _invalid(exc: FleetError) -> NoReturn:
    from rich.text import Text

    err = _console(stderr=True)
    if isinstance(exc, FleetInvalid):
        err.print(Text(exc.report().splitlines()[0], style="bold red"))
        for issue in exc.issues:  # names in them are shown escaped (mistctl.domain.textsafe)
            where = f"{issue.file}:{issue.line}" if issue.line else issue.file
            err.print(Text.assemble("  ", (printable(where), "dim"), ": ", (printable(issue.item), "bold"), ": ",
                                    printable(issue.message)))
    else:
        err.print(Text.assemble(("error: ", "red"), printable(str(exc), lines=True)))
    raise typer.Exit(EXIT_INVALID)


def _load(path: Path, allow_outside: bool) -> Fleet:
    try:
        return load_fleet(path, allow_outside=allow_outside)
    except FleetError as exc:
        _invalid(exc)


def validate(fleet: FleetArg, allow_outside: AllowOutsideOpt = False,
             as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False) -> None:
    """Check a fleet file offline: syntax, keys, IP plan, references, variables, Mist's schemas."""
    loaded = _load_json(fleet, allow_outside) if as_json else _load(fleet, allow_outside)
    sites, zones = len(loaded.sites), len(loaded.zones)
    if as_json:
        echo_json({"ok": True, "sites": sites, "zones": zones, "org_objects": loaded.org.count(),
                   "planless_sites": sum(not s.placed for s in loaded.sites)})
        return
    planless = sum(not s.placed for s in loaded.sites)
    own = f" ({planless} plan-less: their own variables)" if planless else ""
    # as _console().print(Text(..., style="green")), without importing Rich off a terminal (cli/plainout.py)
    echo_styled(f"fleet OK: {sites} sites in {zones} zones{own}, {loaded.org.count()} org objects", "green")


def _load_json(path: Path, allow_outside: bool) -> Fleet:
    """Load, or print the problems as JSON (`validate --json`) and exit 2."""
    try:
        return load_fleet(path, allow_outside=allow_outside)
    except FleetInvalid as exc:
        issues = [{"file": i.file, "line": i.line, "item": i.item, "message": i.message} for i in exc.issues]
    except FleetError as exc:
        issues = [{"file": str(path), "line": None, "item": "", "message": str(exc)}]
    echo_json({"ok": False, "issues": issues})
    raise typer.Exit(EXIT_INVALID)


def ipam(
    fleet: FleetArg,
    fmt: Annotated[IpamFormat, typer.Option("--format", help="table, csv or json.")] = IpamFormat.table,
    site: Annotated[str | None, typer.Option("--site", help="Only this site.")] = None,
    allow_outside: AllowOutsideOpt = False,
) -> None:
    """Print the IP plan: every site's segments (VLAN, CIDR, gateway); json adds the site variables."""
    loaded = _load(fleet, allow_outside)
    try:
        records = ipam_records(loaded, site, variables=fmt is IpamFormat.json)  # only json shows them
    except FleetError as exc:
        _invalid(exc)
    if fmt is IpamFormat.json:
        typer.echo(json.dumps(records, indent=2))
    elif fmt is IpamFormat.csv:
        typer.echo(_csv(records), nl=False)
    else:
        _print_table(records)


def _print_table(records: list[dict[str, Any]]) -> None:
    # Where Rich would write plain text (off a terminal, as cli/plainout.py reads it) the lines are written
    # directly, in linear time and without importing Rich; on a terminal, or when plainout is unsure, Rich draws.
    from mistctl.cli.plain_table import plain_lines

    rows = _shown_rows(records)
    lines = plain_lines("IP plan", COLUMNS, RIGHT, rows) if rich_writes_plain() else None
    if lines is None:
        _print_wide(_table(rows))
    else:
        typer.echo("\n".join(lines))


def _print_wide(table: Table) -> None:
    # Off a terminal Rich assumes 80 columns and would cut addresses short: give the table its width.
    from rich.console import Console

    console = _console()
    needed = console.measure(table, options=console.options.update_width(10_000)).maximum
    if not console.is_terminal and needed > console.width:
        console = Console(highlight=False, soft_wrap=True, width=needed)
    console.print(table)


def _rows(records: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for rec in records:
        for seg in rec["segments"]:
            rows.append(
                [
                    rec["site"],
                    str(rec["zone"]),
                    str(rec["number"]),
                    seg["name"],
                    str(seg["vlan"]),
                    seg["cidr"],
                    seg["gateway"],
                ]
            )
    return rows


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading `'` (OWASP's advice)."""
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def _csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["site", "zone", "number", "segment", "vlan", "cidr", "gateway"])
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in _rows(records))
    return out.getvalue()


COLUMNS = ("site", "zone", "number", "segment", "vlan", "cidr", "gateway")
RIGHT = tuple(col in ("zone", "number", "vlan") for col in COLUMNS)


def _shown_rows(records: list[dict[str, Any]]) -> list[list[str]]:
    """The table's rows: a site's name, zone and number on its first segment only."""
    shown, previous = [], None
    for row in _rows(records):
        shown.append(row if row[0] != previous else ["", "", "", *row[3:]])
        previous = row[0]
    return shown


def _table(rows: list[list[str]]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="IP plan")
    for col, right in zip(COLUMNS, RIGHT, strict=True):
        table.add_column(col, justify="right" if right else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table
