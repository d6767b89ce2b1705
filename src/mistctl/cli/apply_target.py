"""What `mistctl apply TARGET` was given: a plan saved by `mistctl plan --out`, or a fleet file.

Told apart by content, not by the name: a fleet file may be JSON (YAML's subset) and a plan may be saved
under any name. A saved plan is a JSON object carrying the plan's own keys (`fleet_hash` and
`live_fingerprint`, which no fleet file has); anything else is read as a fleet file, which reports its
own errors at their lines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mistctl.errors import UserError
from mistctl.fleetio import MAX_FLEET_BYTES, FileRefused, read_bounded

PLAN_KEYS = frozenset({"fleet_hash", "live_fingerprint"})


def saved_plan_in(target: Path) -> dict[str, Any] | None:
    """The saved plan `target` holds, or None when it is not one (then it is a fleet file)."""
    try:
        text = read_bounded(target, MAX_FLEET_BYTES)
    except (OSError, FileRefused, UnicodeDecodeError):
        return None  # the fleet loader reports the file's problem, in the words it uses everywhere
    if not text.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) and PLAN_KEYS <= data.keys() else None


def resolve_apply_target(target: Path, fleet_file: Path | None) -> tuple[dict[str, Any] | None, Path]:
    """(the saved plan or None, the fleet file to load)."""
    saved = saved_plan_in(target)
    if saved is None:
        if fleet_file is not None:
            raise UserError(f"--fleet goes with a saved plan; {target} is a fleet file: "
                            f"`mistctl apply {target}` (or `mistctl apply PLAN --fleet {fleet_file}`)")
        return None, target
    path = fleet_file or (Path(saved["fleet_path"]) if saved.get("fleet_path") else None)
    if path is None:
        raise UserError(f"{target}: the plan does not name its fleet file; pass it with --fleet FLEET")
    return saved, path

