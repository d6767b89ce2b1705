"""Org designs: a fleet file without sites, to which the service's single-site routes add one site.

The package ships `default.yaml` (the example fleet's IP plan, zones, org objects and site defaults);
`MISTCTL_DESIGN` names another. A design is validated once when loaded, so a broken design stops the
service at start-up instead of answering every request with the design's own problems. Its secret fields
may be `${NAME}` references, read from the environment given to `load_design` (the service's own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mistctl.domain.errors import FleetInvalid, Issue
from mistctl.domain.fleet import Fleet
from mistctl.domain.parse import parse_fleet
from mistctl.fleetio import MAX_FLEET_BYTES, confined_reader, read_bounded

DEFAULT_DESIGN = "default.yaml"


@dataclass(frozen=True)
class Design:
    """A validated org design (its raw mapping, `sites` left out) and where it came from."""

    source: str
    data: dict[str, Any] = field(repr=False)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # values of its `${NAME}` references

    def fleet(self, sites: list[dict[str, Any]] | None = None) -> Fleet:
        """The design as a fleet holding `sites` (fleet-file site mappings); `FleetInvalid` on problems."""
        text = yaml.safe_dump({**self.data, "sites": list(sites or [])}, sort_keys=False)
        return parse_fleet(text, source=self.source, env=self.env)


def default_design_text() -> str:
    """The text of the shipped default design."""
    return resources.files(__package__).joinpath(DEFAULT_DESIGN).read_text(encoding="utf-8")


def load_design(path: Path | None = None, env: Mapping[str, str] | None = None) -> Design:
    """The design at `path` (the shipped default when None), validated; `FleetInvalid` names the problems.

    `env` gives the values of its `${NAME}` secret references (an unset one is a problem naming it)."""
    source = str(path) if path is not None else f"{__package__}/{DEFAULT_DESIGN}"
    try:
        text = read_bounded(path, MAX_FLEET_BYTES) if path is not None else default_design_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        issue = Issue(source, "design file", f"cannot be read: {reason} (check MISTCTL_DESIGN)")
        raise FleetInvalid([issue]) from None
    env = dict(env or {})
    parse_fleet(text, source=source, read_file=_reader(path), env=env)  # every problem, with its line
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict):  # parse_fleet refused anything else already
        raise FleetInvalid([Issue(source, "design file", "must be a mapping (a fleet file without sites)")])
    data.pop("sites", None)  # a design's own sites are not the service's business
    return Design(source, data, env)


def _reader(path: Path | None) -> Any:
    if path is None:
        return None
    return confined_reader(path.parent)
