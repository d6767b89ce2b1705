"""`mistctl conformance`: check, on the user's own org, the assumptions mistctl makes about Mist.

In a throwaway site group, site and PSK named `mistctl-conformance-<random>` it checks site create and
update shapes, site-setting `vars` replace-or-merge, a site-group binding, page headers, `/self/usage`
and the token's owner, and a PSK rotation with `old_passphrase` and `delete_old_passphrase`. No claim,
no firmware. Whatever happens (a failed check, an error, Ctrl-C) it deletes what it made: every object
is recorded before its create is sent, and one whose answer was lost is found again by its name.
"""

from __future__ import annotations

import asyncio
import secrets

from mistctl.mist.errors import MistError, NotFound
from mistctl.workflow.conformance_checks import ConformanceStop, Run, run_checks
from mistctl.workflow.conformance_model import PREFIX, ConformanceApi, ConformanceReport, Made


def new_report(org_id: str, suffix: str | None = None) -> ConformanceReport:
    """An empty report for a run on `org_id` (the caller keeps it: it survives an interruption)."""
    return ConformanceReport(org_id=org_id, run_name=PREFIX + (suffix or secrets.token_hex(4)))


async def run_conformance(api: ConformanceApi, report: ConformanceReport) -> ConformanceReport:
    """Run every check, then delete what was made (also on error or cancellation); fills `report`."""
    start = api.calls.total
    run = Run(api, report.org_id, report, start=start)
    try:
        await run_checks(run)
    except ConformanceStop as exc:
        report.error = str(exc)
    except MistError as exc:
        report.error = f"{run.step}: {exc}"
    except (asyncio.CancelledError, KeyboardInterrupt):
        report.interrupted = True
        raise
    finally:
        await clean_up(api, report)
        report.calls = api.calls.total - start
    return report


async def clean_up(api: ConformanceApi, report: ConformanceReport) -> None:
    """Delete every object the run made, newest first; what cannot be deleted is listed as left behind."""
    for made in reversed(report.made):
        try:
            await _delete(api, report.org_id, made)
        except MistError as exc:
            report.left_behind.append(f"{made.collection} {made.name} ({made.id or 'id unknown'}): {exc}")


async def _delete(api: ConformanceApi, org_id: str, made: Made) -> None:
    ids = [made.id] if made.id else await _ids_by_name(api, org_id, made)
    for obj_id in ids:
        try:
            if made.collection == "sites":
                await api.delete_site(obj_id)
            else:
                await api.delete_org(org_id, made.collection, obj_id)
        except NotFound:
            pass  # already gone


async def _ids_by_name(api: ConformanceApi, org_id: str, made: Made) -> list[str]:
    """The ids of objects named like `made` (a create whose answer was lost may still have happened)."""
    return [str(o["id"]) for o in await api.list_org(org_id, made.collection) if o.get("name") == made.name]
