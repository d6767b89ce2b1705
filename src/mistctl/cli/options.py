"""Options several commands share, declared once so they read the same in every `--help`."""

from __future__ import annotations

from typing import Annotated

import typer

ConcurrencyOpt = Annotated[int | None, typer.Option(
    "--concurrency", min=1, max=64, show_default=False,
    help="Sites at once, and Mist calls in flight (default: MIST_CONCURRENCY, else 8).")]
TakeOwnershipOpt = Annotated[bool, typer.Option(
    "--take-ownership", help="Change org objects another fleet or the service's design owns, and record this "
    "fleet as their owner (else they are conflicts: nothing is written).")]
SiteOpt = Annotated[list[str] | None, typer.Option(
    "--site", show_default=False,
    help="Only this site (a name or a glob like 'Store-NYC-*'; repeatable), with what it depends on.")]
KindOpt = Annotated[list[str] | None, typer.Option(
    "--kind", show_default=False,
    help="Only this kind (wlan, wlantemplate, sitegroup, site, device...; repeatable), with what it depends on.")]
