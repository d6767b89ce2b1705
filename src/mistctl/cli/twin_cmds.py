"""CLI commands: `mistctl twin serve`, the local twin of the Mist cloud API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

twin_app = typer.Typer(help="Run the local twin of the Mist cloud API.", no_args_is_help=True)


@twin_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: a free one, shown when ready).")] = 8900,
    org_id: Annotated[str | None, typer.Option("--org-id", help="Org id (generated when omitted).")] = None,
    token: Annotated[
        str | None, typer.Option(help="Admin API token (generated and printed when omitted).")
    ] = None,
    devices: Annotated[Path | None, typer.Option(help="JSON list of claimable devices.")] = None,
    latency_ms: Annotated[float, typer.Option("--latency-ms", help="Added latency per call.")] = 0,
    jitter_ms: Annotated[float, typer.Option("--jitter-ms", help="Random extra latency, 0..N ms.")] = 0,
    rate_limit: Annotated[int, typer.Option("--rate-limit", help="Calls per token per window.")] = 5000,
    rate_window: Annotated[float, typer.Option("--rate-window", help="Rate window, seconds.")] = 3600,
    fault_rate: Annotated[float, typer.Option("--fault-rate", help="Share of calls answered 5xx.")] = 0,
    drop_rate: Annotated[float, typer.Option("--drop-rate", help="Share of writes whose answer is lost")] = 0,
    upgrade_seconds: Annotated[
        float, typer.Option("--upgrade-seconds", help="How long a firmware upgrade takes.")
    ] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the device pool and the faults.")] = 0,
    state: Annotated[Path | None, typer.Option(help="SQLite file keeping the state across restarts.")] = None,
    device_count: Annotated[int, typer.Option("--device-count", help="Claimable devices generated.")] = 200,
    inventory_count: Annotated[
        int, typer.Option("--inventory-count", help="Devices already in the org inventory.")
    ] = 0,
) -> None:
    """Serve the twin until interrupted; prints one ready line with the org id (and a generated token)."""
    from mist_twin.config import TwinConfig
    from mist_twin.server import serve as serve_twin

    try:
        config = TwinConfig(
            org_id=org_id, token=token, devices_file=devices, latency_ms=latency_ms, jitter_ms=jitter_ms,
            rate_limit=rate_limit, rate_window=rate_window, fault_rate=fault_rate, drop_rate=drop_rate,
            seed=seed, state_file=state, device_count=device_count, inventory_count=inventory_count,
            upgrade_seconds=upgrade_seconds,
        )  # fmt: skip
        serve_twin(config, host, port)
    except ValidationError as exc:
        first = exc.errors()[0]
        option = "--" + str(first["loc"][0]).replace("_", "-") if first["loc"] else "options"
        typer.echo(f"mistctl twin serve: {option}: {first['msg']}", err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:
        typer.echo(f"mistctl twin serve: {exc}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def register(app: typer.Typer) -> None:
    """Add the `twin` sub-app to the mistctl CLI."""
    app.add_typer(twin_app, name="twin")
