"""Rich renderings shared by the CLI commands: plan tables, the apply report, progress lines."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.segment import Segment
from rich.table import Table

from mistctl.domain.devices_diff import DEVICE_NAMES, HUB_GATEWAYS, ORDERS
from mistctl.domain.durations import human_duration
from mistctl.domain.kinds import BY_KEY, STEP_NAMES
from mistctl.domain.plan import Plan
from mistctl.domain.textsafe import printable
from mistctl.workflow.site_job import pending_note


def safe(value: object, *, lines: bool = False) -> str:
    """Text from a fleet or from Mist, ready for Rich: control characters shown escaped, markup escaped.

    Every name, key, path and error message a command prints goes through it (a hostile name must not
    clear the screen or retitle the terminal: `mistctl.domain.textsafe`).
    """
    return escape(printable(value, lines=lines))


class SafeConsole(Console):
    """A console whose printed text cannot act on the terminal: control characters in any text it renders
    (a table cell, a message) are shown escaped; Rich's own styles and cursor moves are left alone.

    The second line of defence: names are escaped where they are printed (`safe`); this catches any
    text from Mist that a table or message forgot to escape (markup is `safe`'s job alone).
    """

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            seg if seg.control else Segment(printable(seg.text, lines=True), seg.style, seg.control)
            for seg in buffer
        )


def console(stderr: bool = False) -> Console:
    """A console that degrades to plain text when not on a terminal, and escapes control characters."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 160
    return SafeConsole(stderr=stderr, highlight=False, width=width)


def plan_table(plan: Plan) -> Table:
    """Per kind: create, update, delete, unchanged, in step order."""
    table = Table(title="Plan", show_lines=False)
    for col in ("step", "kind", "create", "update", "delete", "unchanged"):
        table.add_column(col, justify="right" if col not in ("kind",) else "left")
    rows = plan.by_kind()
    for kind in sorted(rows, key=_step_of):
        row = rows[kind]
        table.add_row(str(_step_of(kind)), kind, _num(row["create"]), _num(row["update"]),
                      f"[bold red]{row['delete']}[/bold red]" if row["delete"] else "0", str(row["unchanged"]))
    return table


def _step_of(kind: str) -> int:
    if kind in BY_KEY:
        return BY_KEY[kind].step
    return {"site_vars": 1, "devices": 2, "claims": 2, ORDERS: 2, DEVICE_NAMES: 2, HUB_GATEWAYS: 5}.get(kind, 99)


def _num(n: int) -> str:
    return f"[bold]{n}[/bold]" if n else "0"


def change_lines(plan: Plan, site: str | None = None) -> list[str]:
    """One line per write (optionally one site's), with the fields an update changes."""
    lines = []
    for c in plan.changes:
        if not c.writes or (site is not None and c.site != site):
            continue
        where = f" [{c.site}]" if c.site and c.kind != "sites" else ""
        fields = f" ({', '.join(sorted(c.diff))})" if c.diff else ""
        if c.action == "delete" and c.body.get("devices"):
            fields = f" (releases {len(c.body['devices'])} device(s) to the org inventory)"
        lines.append(printable(f"  {_sign(c.action)} step {c.step:>2} {c.kind} {c.key}{where}{fields}"))
    return lines


def _sign(action: str) -> str:
    return {"create": "+", "update": "~", "claim": "+", "assign": "~", "delete": "-"}.get(action, " ")


def format_eta(seconds: float) -> str:
    """`1h2m`, `3m5s` or `12s`: the one human form of durations (`domain/durations.human_duration`)."""
    return human_duration(round(seconds))


def report_table(result: Any, calls_by_site: dict[str | None, int], limit: int = 50) -> Table:
    """The final report: each site's outcome and calls (failed sites first)."""
    table = Table(title="Apply report")
    for col in ("site", "status", "calls", "detail"):
        table.add_column(col)
    rows: list[tuple[str, str, str, str]] = []
    for name, (step, err) in sorted(result.sites_failed.items()):
        rows.append((safe(name), "[red]failed[/red]", str(calls_by_site.get(name, 0)),
                     safe(f"step {step} ({STEP_NAMES.get(step, '?')}): {err}")))
    for name, macs in sorted(result.sites_pending.items()):
        rows.append((safe(name), "[yellow]pending[/yellow]", str(calls_by_site.get(name, 0)), safe(pending_note(macs))))
    for name in sorted(result.sites_done):
        rows.append((safe(name), "[green]done[/green]", str(calls_by_site.get(name, 0)), ""))
    for row in rows[:limit]:
        table.add_row(*row)
    if len(rows) > limit:
        table.add_row(f"... {len(rows) - limit} more", "", "", "")
    table.add_row("(org level and reads)", "", str(calls_by_site.get(None, 0)), "")
    return table


def step_line(event: dict[str, Any]) -> str:
    """`step  3 networks: 2 change(s) applied, 1 failed`: what succeeded, never what was only tried."""
    applied, failed = event.get("applied", event["changes"]), event.get("failed", 0)
    tail = f", [red]{failed} failed[/red]" if failed else ""
    return f"step {event['step']:>2} {event['kind']}: {applied} change(s) applied{tail}"


class ProgressPrinter:
    """Progress for an apply: a live line on a terminal, plain lines otherwise (CI logs)."""

    def __init__(self, total_sites: int, out: Console, every: int = 25) -> None:
        self.total = total_sites
        self.out = out
        self.done = 0
        self.failed = 0
        self.every = every
        self.started = time.monotonic()
        self.tty = sys.stdout.isatty()

    def __enter__(self) -> ProgressPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "step":
            self.out.print(step_line(event))
        elif kind in ("site_done", "site_pending", "site_failed"):
            self._site(event)
        elif kind == "org_failed":
            for what, err in event["errors"].items():
                self.out.print(f"[red]org-level change failed[/red] {safe(what)}: {safe(err)}")
        elif kind == "waiting_for_lock":
            self.out.print(f"waiting for the org lock: held by run {safe(event.get('run_id'))} "
                           f"({safe(event.get('holder'))})")

    def _site(self, event: dict[str, Any]) -> None:
        if event["type"] in ("site_done", "site_pending"):  # pending: ordered devices not shipped yet
            self.done += 1
        else:
            self.failed += 1
            self.out.print(f"[red]site {safe(event['site'])} failed[/red] at step {event['step']}: "
                           f"{safe(event['error'])}")
        n = self.done + self.failed
        if n == self.total or n % self.every == 0:
            rate = n / max(1e-6, time.monotonic() - self.started)
            eta = (self.total - n) / rate if rate else 0.0
            self.out.print(f"sites {n}/{self.total} (done {self.done}, failed {self.failed}), "
                           f"ETA {format_eta(eta)}")


class LiveProgress:
    """A Rich progress bar for a terminal: sites done/failed, the current step, calls spent, ETA."""

    def __init__(self, total_sites: int, out: Console, calls: Callable[[], int]) -> None:
        self.out = out
        self.calls = calls
        self.done = 0
        self.failed = 0
        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"), TimeRemainingColumn(), console=out, transient=False,
        )
        self.task = self.bar.add_task("org-level steps", total=max(1, total_sites), detail="")

    def __enter__(self) -> LiveProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "step":
            self.bar.update(self.task, description=f"step {event['step']} {event['kind']}")
        elif kind == "waiting_for_lock":
            self.bar.console.print(f"waiting for the org lock: held by run {safe(event.get('run_id'))} "
                                   f"({safe(event.get('holder'))})")
        elif kind in ("site_done", "site_pending"):
            self.done += 1
        elif kind == "site_failed":
            self.failed += 1
            self.bar.console.print(f"[red]site {safe(event['site'])} failed[/red] at step {event['step']}: "
                                   f"{safe(event['error'])}")
        if kind in ("site_done", "site_pending", "site_failed"):
            self.bar.update(self.task, description="sites", advance=1)
        detail = f"done {self.done} failed {self.failed} calls {self.calls()}"
        self.bar.update(self.task, detail=detail)


def apply_progress(total_sites: int, out: Console, calls: Callable[[], int]) -> LiveProgress | ProgressPrinter:
    """A live bar on a terminal, plain lines otherwise (CI logs, pipes)."""
    if out.is_terminal:
        return LiveProgress(total_sites, out, calls)
    return ProgressPrinter(total_sites, out)
