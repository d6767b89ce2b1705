"""`python -m mist_twin`: serve the twin (the same options as `mistctl twin serve`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from mist_twin.config import TwinConfig
from mist_twin.server import serve


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m mist_twin", description="A local twin of the Mist API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900, help="0 picks a free port (printed when ready)")
    parser.add_argument("--org-id")
    parser.add_argument("--token", help="the admin API token (generated and printed when omitted)")
    parser.add_argument("--org-name", default="Twin Org")
    parser.add_argument("--devices", type=Path, help="JSON list of claimable devices")
    parser.add_argument("--device-count", type=int, default=200)
    parser.add_argument("--inventory-count", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--jitter-ms", type=float, default=0)
    parser.add_argument("--rate-limit", type=int, default=5000)
    parser.add_argument("--rate-window", type=float, default=3600)
    parser.add_argument("--fault-rate", type=float, default=0)
    parser.add_argument("--drop-rate", type=float, default=0)
    parser.add_argument("--upgrade-seconds", type=float, default=5, help="how long a firmware upgrade takes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--state", type=Path, help="SQLite file that keeps the twin's state across restarts")
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> TwinConfig:
    """A TwinConfig from the parsed options."""
    return TwinConfig(
        org_id=args.org_id,
        token=args.token,
        org_name=args.org_name,
        devices_file=args.devices,
        device_count=args.device_count,
        inventory_count=args.inventory_count,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        fault_rate=args.fault_rate,
        drop_rate=args.drop_rate,
        upgrade_seconds=args.upgrade_seconds,
        seed=args.seed,
        state_file=args.state,
    )


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted; 2 with a one-line message on a bad option or devices file."""
    args = parse_args(argv)
    try:
        config = config_from(args)
        serve(config, args.host, args.port)
    except (ValidationError, ValueError) as exc:
        sys.stderr.write(f"mist twin: {_first_line(exc)}\n")
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        option = "--" + str(first["loc"][0]).replace("_", "-") if first["loc"] else "options"
        return f"{option}: {first['msg']}"
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
