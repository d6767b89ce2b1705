"""The fleet's only I/O: read the fleet file (and the sites CSV it names) from disk, then parse it.

`${NAME}` references in secret fields are read from the process environment.
CSV files are read as `utf-8-sig` because spreadsheets exported from Excel start with a BOM.
"""

from __future__ import annotations

import os
from pathlib import Path

from mistctl.domain.errors import FleetInvalid, Issue
from mistctl.domain.fleet import Fleet
from mistctl.domain.parse import parse_fleet


def load_fleet(path: Path) -> Fleet:
    """Read, parse and validate a fleet file; raises `FleetInvalid` listing every problem found."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FleetInvalid([Issue(source, "fleet file", "does not exist: check the path")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise FleetInvalid([Issue(source, "fleet file", f"cannot be read: {reason}")]) from None

    def read_file(name: str) -> str:
        return (path.parent / name).read_text(encoding="utf-8-sig")

    return parse_fleet(text, source=source, read_file=read_file, env=os.environ)
