"""The fleet's only I/O: read the fleet file (and the sites CSV it names) from disk, then parse it.

`${NAME}` references in secret fields are read from the process environment.
CSV files are read as `utf-8-sig` because spreadsheets exported from Excel start with a BOM.
A CSV file must lie in the fleet file's folder (or below it), symlinks resolved, unless the caller
allows files outside (`--allow-outside`): a fleet file from elsewhere must not make mistctl read
`/etc/passwd` or `/proc/self/environ`. Only regular files are read, and only up to a size limit
(`/dev/zero` would never end). Errors name the file and the reason, never the file's content.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from mistctl.domain.errors import FleetInvalid, Issue
from mistctl.domain.fleet import Fleet
from mistctl.domain.parse import ReadFile, parse_fleet

#: The largest fleet file read (a 100,000-site fleet written inline is about 10 MiB).
MAX_FLEET_BYTES = 32 * 1024 * 1024
#: The largest sites CSV read.
MAX_CSV_BYTES = 64 * 1024 * 1024
OUTSIDE = "is outside the fleet file's folder: move it there, or pass --allow-outside to read it anyway"


class FileRefused(OSError):
    """A file mistctl will not read: outside the fleet's folder, not a regular file, or too large."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EACCES, reason)


def read_bounded(path: Path, limit: int, encoding: str = "utf-8") -> str:
    """A regular file's text, refused (`FileRefused`) when it is something else or over `limit` bytes."""
    if not stat.S_ISREG(path.stat().st_mode):  # before opening: opening a FIFO would wait for a writer
        raise FileRefused("is not a regular file")
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FileRefused(f"is larger than {limit // (1024 * 1024)} MiB")
    return data.decode(encoding)


def confined_reader(folder: Path, *, allow_outside: bool = False) -> ReadFile:
    """Reads CSV files named relative to `folder`; outside it (symlinks resolved) only when allowed."""
    base = folder.resolve()

    def read_file(name: str) -> str:
        target = (folder / name).resolve()
        if not allow_outside and not target.is_relative_to(base):
            raise FileRefused(OUTSIDE)
        return read_bounded(target, MAX_CSV_BYTES, "utf-8-sig")

    return read_file


def load_fleet(path: Path, *, allow_outside: bool = False) -> Fleet:
    """Read, parse and validate a fleet file; raises `FleetInvalid` listing every problem found."""
    source = str(path)
    try:
        text = read_bounded(path, MAX_FLEET_BYTES)
    except FileNotFoundError:
        raise FleetInvalid([Issue(source, "fleet file", "does not exist: check the path")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise FleetInvalid([Issue(source, "fleet file", f"cannot be read: {reason}")]) from None
    reader = confined_reader(path.parent, allow_outside=allow_outside)
    return parse_fleet(text, source=source, read_file=reader, env=os.environ)
