"""The benchmarks' child processes read compiled bytecode, as an installed mistctl does (pip compiles it at
install), whatever PYTHONDONTWRITEBYTECODE says in the benchmark's own environment: the children write and
read it under a PYTHONPYCACHEPREFIX folder of the benchmark's, so no checkout is written to."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def bytecode_env(env: Mapping[str, str], cache: Path | None) -> dict[str, str]:
    """`env` for a child that keeps its bytecode under `cache`; with `cache` None, one that compiles every
    source at every start (PYTHONDONTWRITEBYTECODE, no cache folder)."""
    out = {k: v for k, v in env.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    if cache is None:
        out["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        out["PYTHONPYCACHEPREFIX"] = str(cache)
    return out
