"""The fleet file's user errors: every problem found is an `Issue`; `FleetInvalid` carries them all.

    ValueError
     └── FleetError            a problem the user fixes in the fleet file (never a traceback)
          ├── FleetInvalid     validation found problems; `.issues` lists every one of them
          └── PlanError        an IP plan question with no answer (unknown zone, number past capacity)

Messages name the file, the item and the fix, and never carry secrets (PSK passphrases, tokens):
a rule that needs a secret's value reports its length, never the value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """Where an item was written: the file and (when known) the 1-based line."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


MAX_ITEM_CHARS = 120
MAX_MESSAGE_CHARS = 1000


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Issue:
    """One problem: the file, the item (site, object kind and name) and what to change."""

    file: str
    item: str
    message: str
    line: int | None = None

    def __post_init__(self) -> None:
        # An item or message quoting a 100,000-character SSID or name would flood the terminal: cut it.
        object.__setattr__(self, "item", _shorten(self.item, MAX_ITEM_CHARS))
        object.__setattr__(self, "message", _shorten(self.message, MAX_MESSAGE_CHARS))

    @classmethod
    def at(cls, origin: Origin, item: str, message: str) -> Issue:
        """An issue located at an item's origin."""
        return cls(origin.file, item, message, origin.line)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.item}: {self.message}"


class FleetError(ValueError):
    """A problem in the user's fleet description."""


class FleetInvalid(FleetError):
    """The fleet file has problems; `.issues` holds all of them, `str()` is the readable report."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues: list[Issue] = list(issues)
        super().__init__(self.report())

    def report(self) -> str:
        """The issues as one readable block, one line each."""
        count = len(self.issues)
        head = f"{count} problem{'s' if count != 1 else ''} in the fleet:"
        return "\n".join([head, *(f"  {issue}" for issue in self.issues)])


class PlanError(FleetError):
    """The IP plan cannot place a site: the message names the site's zone/number and the limit."""
