"""`mistctl conformance`: check mistctl's assumptions about Mist on the user's own org, then clean up.

Exit codes: 0 every relied-on assumption holds and nothing was left behind, 1 an assumption differs,
a call failed or something could not be deleted, 2 bad input (settings, no org), 130 interrupted.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mistctl.cli.probe_cmds import fail_with, target_or_exit
from mistctl.mist.client import MistClient
from mistctl.mist.errors import MistError
from mistctl.mist.target import Target
from mistctl.workflow.conformance import new_report, run_conformance
from mistctl.workflow.conformance_model import CALL_CAP, ConformanceReport

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130
_OUTCOME = {True: "[green]holds[/green]", False: "[red]differs[/red]", None: "[dim]not checked[/dim]"}

OrgOpt = Annotated[str | None, typer.Option("--org-id", help="Mist org id (else MIST_ORG_ID, or the token's org).")]
HostOpt = Annotated[str | None, typer.Option("--mist-host", help="Mist cloud host or URL (else MIST_HOST).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]


def register(app: typer.Typer) -> None:
    """Add the conformance command."""
    app.command("conformance")(conformance_cmd)


def conformance_cmd(org_id: OrgOpt = None, mist_host: HostOpt = None, as_json: JsonOpt = False) -> None:
    """Check on a throwaway site what mistctl assumes about Mist (18 calls, at most 40), then delete it."""
    target = target_or_exit(mist_host)
    holder: list[ConformanceReport] = []
    try:
        asyncio.run(_run(target, org_id or target.org_id, holder))
    except KeyboardInterrupt:
        if not holder:
            raise typer.Exit(EXIT_INTERRUPTED) from None
        holder[0].interrupted = True
    report = holder[0]
    if as_json:
        _print_json(report)
    else:
        _print_table(report, target)
    if report.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FAILED)


async def _run(target: Target, org_id: str | None, holder: list[ConformanceReport]) -> None:
    async with target.client() as client:
        report = new_report(org_id or await _only_org(client))
        holder.append(report)  # the caller keeps it: it survives Ctrl-C
        await run_conformance(client, report)


async def _only_org(client: MistClient) -> str:
    try:
        orgs = (await client.get_self()).org_ids()
    except MistError as exc:
        fail_with(f"cannot read the token's orgs: {exc}", EXIT_FAILED)
    if len(orgs) != 1:
        fail_with(f"the token has privileges on {len(orgs)} orgs: pass --org-id (or set MIST_ORG_ID)", EXIT_INVALID)
    return orgs[0]


def _print_table(report: ConformanceReport, target: Target) -> None:
    out = Console(highlight=False, soft_wrap=True)
    out.print(target.describe(), markup=False)
    table = Table(title=f"Conformance on org {report.org_id} ({report.run_name})", title_justify="left")
    for column in ("assumption", "result", "seen", "what mistctl does"):
        table.add_column(column)
    for finding in report.findings.values():
        does = finding.assumption.if_differs if finding.holds is False else ""
        table.add_row(finding.assumption.text, _OUTCOME[finding.holds], _plain(finding.saw), _plain(does))
    out.print(table)
    out.print(f"calls spent: {report.calls} (at most {CALL_CAP})", markup=False)
    made = ", ".join(f"{m.collection} {m.name}" for m in report.made) or "nothing"
    out.print(f"created and deleted again: {made}", markup=False)
    for line in report.left_behind:
        out.print(f"LEFT BEHIND (delete it by hand): {line}", markup=False)
    if report.error:
        out.print(f"stopped: {report.error}", markup=False)
    if report.interrupted:
        out.print("interrupted: what was made has been deleted", markup=False)
    verdict = "conformance ok: mistctl's assumptions hold on this org" if report.ok else "conformance FAILED"
    out.print(verdict, markup=False)


def _print_json(report: ConformanceReport) -> None:
    typer.echo(json.dumps(report.to_json(), indent=2))


def _plain(text: str) -> str:
    return text.replace("[", r"\[")


