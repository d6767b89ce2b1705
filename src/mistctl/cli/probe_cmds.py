"""`mistctl probe`: is the Mist target reachable, the token valid, the org visible and writable?

Exit codes: 0 all good, 1 unreachable / bad token / no write privilege, 2 bad input (settings, flags).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from mistctl.cli.json_out import echo_json, probe_json
from mistctl.config import Settings
from mistctl.errors import UserError
from mistctl.mist.owners import USER_TOKEN_HINT, Owner, group_tokens
from mistctl.mist.probe import ProbeResult, probe
from mistctl.mist.target import Target, TargetError, resolve_target

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
_MARKS = {True: "[green]ok[/green]", False: "[red]FAIL[/red]", None: "[dim]-[/dim]"}

OrgOpt = Annotated[
    str | None, typer.Option("--org-id", help="Mist org id (else MIST_ORG_ID, or the token's org).")
]
HostOpt = Annotated[str | None, typer.Option("--mist-host", help="Mist cloud host or URL (else MIST_HOST).")]


def register(app: typer.Typer) -> None:
    """Add the probe command."""
    app.command("probe")(probe_cmd)


def probe_cmd(org_id: OrgOpt = None, mist_host: HostOpt = None,
              as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False) -> None:
    """Check the Mist target: cloud reachable, token valid, org visible, write privilege, calls left."""
    out = Console(highlight=False, soft_wrap=True, stderr=as_json)
    target = target_or_exit(mist_host)
    out.print(target.describe(), markup=False)
    results = asyncio.run(_probe_all(target, org_id or target.org_id))
    if as_json:
        echo_json(probe_json(target.describe().removeprefix("target: "), results))
        raise typer.Exit(EXIT_OK if all(r.ok for r in results) else EXIT_FAILED)
    for result in results:
        out.print(_checks_table(result, several=len(results) > 1))
        if result.privileges:
            out.print(_privileges_table(result))
    for line in budget_lines([r.owner for r in results], [r.token for r in results]):
        out.print(line, markup=False)
    problems = [p for r in results for p in r.problems]
    if all(r.ok for r in results):
        out.print(f"probe ok: mistctl can provision org {results[0].org_id}", markup=False)
        raise typer.Exit(EXIT_OK)
    fail_with("probe failed: " + "; ".join(problems or ["see the table above"]), EXIT_FAILED)


def target_or_exit(mist_host: str | None) -> Target:
    """The Mist target from the settings, or exit 2 with what is wrong (probe and conformance)."""
    try:
        return resolve_target(Settings(), mist_host)
    except ValidationError as exc:
        wrong = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        fail_with(f"invalid setting {wrong}", EXIT_INVALID)
    except (TargetError, UserError) as exc:  # UserError: a token with a space or control character, by position
        fail_with(str(exc), EXIT_INVALID)
    except OSError as exc:
        fail_with(f"cannot open the built-in twin's state ({exc}); remove it or set MIST_HOST", EXIT_INVALID)


def budget_lines(owners: list[Owner | None], keys: list[str]) -> list[str]:
    """Which tokens share a call budget, and a hint towards org tokens when user tokens are in use."""
    known = {k: o for k, o in zip(keys, owners, strict=True) if o is not None}
    lines = [f"API budget: {g.describe()}" for g in group_tokens(keys, known)]
    if any(o.kind == "user" for o in known.values()):
        lines.append(USER_TOKEN_HINT)
    return lines


async def _probe_all(target: Target, org_id: str | None) -> list[ProbeResult]:
    """One probe per token (several tokens share the load, so each must be able to write)."""
    async with target.client(group=False) as client:  # the probe asks GET /self itself
        return [await probe(client.for_token(key), org_id) for key in client.token_keys]


def _checks_table(result: ProbeResult, *, several: bool) -> Table:
    title = f"Probe (token {result.token})" if several else "Probe"
    table = Table(title=title, title_justify="left")
    for column in ("check", "result", "detail"):
        table.add_column(column)
    for check in result.rows():
        table.add_row(check.name, _MARKS[check.ok], check.detail.replace("[", r"\["))
    return table


def _privileges_table(result: ProbeResult) -> Table:
    table = Table(title="Privileges", title_justify="left")
    for column in ("scope", "role", "name", "id"):
        table.add_column(column)
    for p in result.privileges:
        ident = p.org_id if p.scope == "org" else p.site_id or p.msp_id or ", ".join(p.sitegroup_ids) or ""
        table.add_row(p.scope, p.role, p.name or p.org_name or "", ident or "")
    return table


def fail_with(message: str, code: int) -> NoReturn:
    """Print `error: message` on stderr (no markup) and exit with `code`."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {message}", markup=False)
    raise typer.Exit(code)
