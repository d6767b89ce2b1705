"""The map page's data: every site with coordinates placed on the world outlines, coloured by its state
or by its SLE; the sites without coordinates listed beside it. No Mist calls: coordinates are the
`latlng` the fleet gave each site, recorded in its state when it was applied.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from markupsafe import Markup, escape

from mistctl.store.models import SITE_STATUSES, SiteState
from mistctl.web.geo import HEIGHT, WIDTH, country_paths, project
from mistctl.workflow.assure import DEFAULT_THRESHOLD

Colouring = Literal["state", "sle"]
SLE_CLASSES = ("pass", "fail", "no-data")
UNPLACED_SHOWN = 300


@dataclass(frozen=True)
class Mark:
    """One site on the map: where, its colour class and what its tooltip says."""

    name: str
    x: float
    y: float
    colour: str
    label: str


@dataclass
class MapView:
    """The picture's parts, the legend's counts, and the sites that have no coordinates."""

    colouring: Colouring
    marks: list[Mark] = field(default_factory=list)
    unplaced: list[SiteState] = field(default_factory=list)
    unplaced_total: int = 0
    legend: Counter[str] = field(default_factory=Counter)
    width: float = WIDTH
    height: float = HEIGHT
    threshold: float = DEFAULT_THRESHOLD

    @property
    def countries(self) -> tuple[str, ...]:
        return country_paths()

    @property
    def marks_svg(self) -> Markup:
        """Every mark as an SVG link to its site named by its `<title>` (the tooltip and the link's accessible
        name), names escaped; built here, as 10,000 marks in a template loop take over a second."""
        return Markup("".join(
            f'<a href="/ui/sites/{quote(m.name, safe="")}"><title>{escape(m.label)}</title><circle cx="{m.x:g}" '
            f'cy="{m.y:g}" r="4" class="m-{m.colour}"/></a>'
            for m in self.marks))

    @property
    def classes(self) -> tuple[str, ...]:
        return SITE_STATUSES if self.colouring == "state" else SLE_CLASSES


def sle_class(sle: dict[str, float | None] | None, threshold: float = DEFAULT_THRESHOLD) -> str:
    """`fail` when a metric is below the threshold, `pass` when some value is known, else `no-data`."""
    values = [v for v in (sle or {}).values() if v is not None]
    if not values:
        return "no-data"
    return "fail" if min(values) < threshold else "pass"


def colouring_of(value: str | None) -> Colouring:
    """The query parameter's colouring (anything else: by state)."""
    return "sle" if value == "sle" else "state"


def map_view(sites: list[SiteState], colouring: Colouring) -> MapView:
    """The marks, in name order, so the picture is the same for the same sites."""
    view = MapView(colouring)
    for site in sorted(sites, key=lambda s: s.name):
        colour = site.status if colouring == "state" else sle_class(site.sle)
        if site.latlng is None:
            view.unplaced_total += 1
            if len(view.unplaced) < UNPLACED_SHOWN:
                view.unplaced.append(site)
            continue
        view.legend[colour] += 1
        x, y = project(*site.latlng)
        lat, lng = site.latlng
        view.marks.append(Mark(site.name, round(x, 1), round(y, 1), colour,
                               f"{site.name}: {_word(colour)} ({lat:.4f}, {lng:.4f})"))
    return view


def _word(colour: str) -> str:
    return {"pass": "SLE passing", "fail": "SLE below threshold", "no-data": "no SLE data",
            "sle_failed": "SLE failed", "pending": "devices pending"}.get(colour, colour)
