"""Convert Natural Earth country outlines (the npm package `world-atlas`, countries-110m TopoJSON) into the
console map's compact outline file, once:

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    .venv/bin/python scripts/world_outlines.py package/countries-110m.json src/mistctl/web/data/world-110m.json

Source and licence: Natural Earth 1:110m admin-0 countries (public domain, naturalearthdata.com), as
TopoJSON in `world-atlas` 2.0.2 (ISC licence, Copyright 2013-2019 Michael Bostock). The output holds one
SVG path per country in an equirectangular projection (`web.geo.project`), Antarctica left out; nothing
is fetched at run time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from mistctl.web.geo import SOURCE, WIDTH, project  # noqa: E402

Point = tuple[float, float]


def decode_arcs(topology: dict[str, Any]) -> list[list[Point]]:
    """The topology's arcs as (lng, lat) points (delta-decoded and un-quantised)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(arcs: list[list[Point]], indexes: list[int]) -> list[Point]:
    """A ring from arc indexes (a negative index ~i is arc i reversed), shared end points once."""
    points: list[Point] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)
    return points


def unwrapped(points: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """A ring crossing the antimeridian (Fiji, Russia) drawn twice, once shifted to each side of the map,
    so no edge runs across the whole map; the viewBox clips what falls outside."""
    if all(abs(a[0] - b[0]) < WIDTH / 2 for a, b in zip(points, points[1:], strict=False)):
        return [points]
    right = [(x + WIDTH if x < WIDTH / 2 else x, y) for x, y in points]
    left = [(x - WIDTH if x > WIDTH / 2 else x, y) for x, y in points]
    return [right, left]


def path(rings: list[list[Point]]) -> str:
    """An SVG path of rings, projected and rounded to 0.1 unit, repeated points dropped."""
    parts = []
    for points in rings:
        projected: list[tuple[float, float]] = []
        for lng, lat in points:
            x, y = project(lat, lng)
            point = (round(x, 1), round(y, 1))
            if not projected or projected[-1] != point:
                projected.append(point)
        if len(projected) >= 3:
            parts += ["M" + "L".join(f"{x:g},{y:g}" for x, y in copy) + "Z" for copy in unwrapped(projected)]
    return "".join(parts)


def convert(topology: dict[str, Any]) -> dict[str, Any]:
    """The outline file's content."""
    arcs = decode_arcs(topology)
    countries = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        name = geometry.get("properties", {}).get("name", "")
        if name == "Antarctica" or geometry["type"] not in ("Polygon", "MultiPolygon"):
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        d = path([ring(arcs, r) for polygon in polygons for r in polygon])
        if d:
            countries.append({"name": name, "d": d})
    return {"source": SOURCE, "countries": countries}


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    data = convert(json.loads(source.read_text()))
    target.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n")
    sys.stdout.write(f"{len(data['countries'])} countries, {target.stat().st_size / 1024:.0f} KiB -> {target}\n")


if __name__ == "__main__":
    main()
