"""`mistctl apply --assure`: after the sites are provisioned, wait the soak, then gate on their SLEs."""

from __future__ import annotations

from rich.console import Console

from mistctl.bootstrap import Services
from mistctl.cli.day2_render import health_table
from mistctl.cli.errors import EXIT_FAILED
from mistctl.domain.durations import human_duration
from mistctl.workflow.assure import failure_summary, gate_after_soak


async def gate_applied(svc: Services, sites: list[str], *, soak: float, run_id: str, out: Console) -> int:
    """Soak, then check the provisioned sites (one org-wide call per SLE family); 1 if any is below."""
    if not sites:
        return 0
    ids: dict[str, str | None] = {}
    for name in sites:
        state = await svc.store.get_site_state(svc.org_id, name)
        ids[name] = state.site_id if state is not None else None
    out.print(f"soaking {human_duration(soak)} before the SLE gate of {len(sites)} site(s)")
    report = await gate_after_soak(svc.mist, svc.store, svc.org_id, ids, soak=soak, run_id=run_id)
    out.print(health_table(report))
    if report.ok:
        out.print(f"[green]SLE gate passed[/green] for {len(sites)} site(s)")
        return 0
    out.print(f"[red]SLE gate failed[/red]: {failure_summary(report)}", highlight=False)
    return EXIT_FAILED
