"""Where each part of a fleet was written (file, line, CSV row), shared by the parser and every validator."""

from __future__ import annotations

from dataclasses import dataclass, field

from mistctl.domain.errors import Origin


@dataclass
class Origins:
    """Where each part of the fleet was written, for messages (indexes follow the parsed lists)."""

    file: str
    ip_plan: Origin | None = None
    zones: list[Origin] = field(default_factory=list)
    sites: list[Origin] = field(default_factory=list)
    org: dict[str, list[Origin]] = field(default_factory=dict)
    lines: dict[int, int] = field(default_factory=dict)  # the YAML's mapping lines, by id (nested ones too)

    def of_plan(self) -> Origin:
        """The ip_plan section."""
        return self.ip_plan or Origin(self.file)

    def of_zone(self, index: int) -> Origin:
        """The zone at this index."""
        return self.zones[index] if index < len(self.zones) else Origin(self.file)

    def of_site(self, index: int) -> Origin:
        """The site at this index (its CSV row when it came from a CSV file)."""
        return self.sites[index] if index < len(self.sites) else Origin(self.file)

    def of_object(self, kind_key: str, index: int) -> Origin:
        """The org object of this kind at this index."""
        found = self.org.get(kind_key, [])
        return found[index] if index < len(found) else Origin(self.file)
