"""The map's geometry: an equirectangular projection and the country outlines that ship with mistctl.

The outlines are Natural Earth's 1:110m admin-0 countries (public domain), from the npm package
`world-atlas` 2.0.2 (ISC), converted once by `scripts/world_outlines.py` into `data/world-110m.json`
(one SVG path per country, already projected). Nothing is fetched at run time.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

SOURCE = ("Natural Earth 1:110m admin-0 countries (public domain), via the npm package world-atlas 2.0.2 "
          "(ISC, Copyright 2013-2019 Michael Bostock); converted by scripts/world_outlines.py")
WIDTH = 1000.0
NORTH, SOUTH = 84.0, -58.0  # the latitudes drawn (Antarctica left out)
SCALE = WIDTH / 360.0
HEIGHT = round((NORTH - SOUTH) * SCALE, 1)
OUTLINES = Path(__file__).parent / "data" / "world-110m.json"


def project(lat: float, lng: float) -> tuple[float, float]:
    """(x, y) in the map's viewBox for a latitude and longitude in degrees (clamped to what is drawn)."""
    lat = min(NORTH, max(SOUTH, lat))
    lng = min(180.0, max(-180.0, lng))
    return (lng + 180.0) * SCALE, (NORTH - lat) * SCALE


@functools.cache
def country_paths() -> tuple[str, ...]:
    """Every country's outline as an SVG path (read once per process)."""
    data = json.loads(OUTLINES.read_text(encoding="utf-8"))
    return tuple(str(c["d"]) for c in data["countries"])
