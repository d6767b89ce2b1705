"""The address plan drawn as SVG on the server: no client library, readable without JavaScript.

On top, the supernet as one bar with each zone at its place (and the reserved ranges over it); below,
one row per zone: its name, prefix and capacity left, then its blocks as a grid of cells coloured by
use (`ipam_view.Cell.state`). Every cell carries a `<title>` (a tooltip and what a screen reader says).
Colours come from class names styled by the console's stylesheet, or by an embedded `<style>` when the
SVG is served on its own (`standalone=True`).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from mistctl.web.ipam_view import Cell, IpamModel, ZoneUse

ROW_LABEL_W = 196  # right of each row of cells: its site numbers and first address
WIDTH = 980 + ROW_LABEL_W
LABEL_W = 204
COLS = 64
CELL = 10
STEP = 12  # a cell and its gap
GRID_W = COLS * STEP
BAR_Y = 34
BAR_H = 26
ROWS_Y = 96
LABEL_LINES = 3
LINE_H = 16

LEGEND = (("free", "free"), ("alloc1", "up to a third allocated"), ("alloc2", "up to two thirds allocated"),
          ("alloc3", "mostly or all allocated"), ("res-part", "partly reserved"), ("reserved", "reserved"))

STYLE = """
.ipam text{font:13px system-ui,sans-serif;fill:#1b1f24}
.ipam .sub{fill:#4a5560;font-size:12px}
.ipam .strong{font-weight:600}
.ipam .rowlabel{fill:#4a5560;font-size:10px}
.ipam .zlink text{fill:#0b5cad;text-decoration:underline}
.c-free{fill:#eef2f6;stroke:#b8c3cf;stroke-width:.5}
.c-alloc1{fill:#9ecae1}.c-alloc2{fill:#4292c6}.c-alloc3{fill:#08519c}
.c-reserved{fill:#5f5f5f}.c-res-part{fill:#b0b0b0}
.z-bar{fill:#dfe6ee;stroke:#fff;stroke-width:1}.z-used{fill:#4292c6;stroke:#fff;stroke-width:1}
.z-none{fill:#f4f6f8;stroke:#fff;stroke-width:1}.r-bar{fill:#5f5f5f;opacity:.85}
"""


def render_ipam_svg(model: IpamModel, *, standalone: bool = False, key: str = "") -> Markup:
    """The plan as one `<svg>` element (every text escaped); `standalone` embeds its colours; `key` keeps
    its element ids apart from another plan's on the same page."""
    parts: list[str] = []
    y = ROWS_Y
    for zone in model.zones:
        row, height = _zone_row(model, zone, y)
        parts.append(row)
        y += height
    legend_y = y + 8
    height = legend_y + 30
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="ipam" viewBox="0 0 {WIDTH} {height}" '
            f'width="100%" role="img" aria-labelledby="ipam-title{key} ipam-desc{key}">')
    title = f"Address plan of {model.supernet}"
    body = [head, _tag("title", title, id=f"ipam-title{key}"),
            _tag("desc", _describe(model), id=f"ipam-desc{key}")]
    if standalone:
        body.append(f"<style>{STYLE}</style>")
    body += [_supernet_bar(model), *parts, _legend(legend_y), "</svg>"]
    return Markup("".join(body))


def _describe(model: IpamModel) -> str:
    zones = "; ".join(f"zone {z.id}{f' {z.name}' if z.name else ''}: {z.allocated} allocated, "
                      f"{z.reserved} reserved, {z.free} free of {z.capacity}" for z in model.zones)
    return f"{model.scheme} plan, sites are /{model.block_prefix} blocks. {zones}."


def _tag(name: str, text: str, **attrs: str) -> str:
    rendered = "".join(f' {k}="{escape(v)}"' for k, v in attrs.items())
    return f"<{name}{rendered}>{escape(text)}</{name}>"


def _text(x: float, y: float, text: str, cls: str = "") -> str:
    css = f' class="{cls}"' if cls else ""
    return f'<text x="{x:g}" y="{y:g}"{css}>{escape(text)}</text>'


def _rect(x: float, y: float, w: float, h: float, cls: str, title: str) -> str:
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.5):.1f}" height="{h:g}" class="{cls}">'
            f"<title>{escape(title)}</title></rect>")


def _bar_x(model: IpamModel, address: int) -> float:
    first, last = model.supernet_span
    return LABEL_W + (address - first) / (last - first + 1) * GRID_W


def _supernet_bar(model: IpamModel) -> str:
    zone_prefix = f", zones of /{model.zone_prefix}" if model.zone_prefix else ""
    parts = [_text(0, BAR_Y - 14, f"Supernet {model.supernet}: {model.scheme} plan{zone_prefix}, "
                                  f"sites of /{model.block_prefix} ({model.capacity:,} per zone)", "strong"),
             _text(0, BAR_Y + 17, model.supernet, "sub"),
             _rect(LABEL_W, BAR_Y, GRID_W, BAR_H, "z-none", f"{model.supernet}: not in any zone shown")]
    for zone in model.zones:
        cls = "z-used" if zone.allocated else ("z-bar" if zone.name else "z-none")
        for first, last in zone.spans:
            x0, x1 = _bar_x(model, first), _bar_x(model, last + 1)
            title = f"{_zone_title(zone)} ({zone.where}): {zone.allocated:,} sites, {zone.free:,} free"
            parts.append(_rect(x0, BAR_Y, x1 - x0, BAR_H, cls, title))
            if x1 - x0 >= 18:
                cls = "strong" if zone.allocated else "sub"
                parts.append(_text((x0 + x1) / 2 - 4, BAR_Y + 17, str(zone.id), cls))
    low, high = model.supernet_span
    for cidr, first, last in model.reserved:
        x0, x1 = _bar_x(model, max(first, low)), _bar_x(model, min(last, high) + 1)
        if x1 > x0:
            parts.append(_rect(x0, BAR_Y, x1 - x0, BAR_H, "r-bar", f"reserved {cidr}"))
    return "".join(parts)


def _zone_title(zone: ZoneUse) -> str:
    return f"Zone {zone.id} {zone.name}" if zone.name else f"Zone {zone.id} (not in the design)"


def _zone_row(model: IpamModel, zone: ZoneUse, y: int) -> tuple[str, int]:
    rows = -(-len(zone.cells) // COLS)
    height = max(LABEL_LINES * LINE_H, rows * STEP) + 14
    title = _text(0, y + 12, _zone_title(zone), "strong")
    if zone.name:  # a designed zone: its title opens the fleet filtered to the zone
        title = f'<a href="/ui?zone={zone.id}" class="zlink">{title}</a>'
    parts = [title, _text(0, y + 12 + LINE_H, zone.where, "sub"),
             _text(0, y + 12 + 2 * LINE_H, f"{zone.free:,} of {zone.capacity:,} free", "sub")]
    parts += _row_labels(model, zone, y)
    for index, cell in enumerate(zone.cells):
        x = LABEL_W + (index % COLS) * STEP
        parts.append(_rect(x, y + (index // COLS) * STEP, CELL, CELL, f"c-{cell.state}",
                           _cell_title(model, zone, cell)))
    return "".join(parts), height


def _row_labels(model: IpamModel, zone: ZoneUse, y: int) -> list[str]:
    """Each row of cells labelled with its site numbers and first address (readable without hovering)."""
    labels = []
    for row in range(0, len(zone.cells), COLS):
        first, last = zone.cells[row], zone.cells[min(row + COLS, len(zone.cells)) - 1]
        start = model.cell_addresses(zone, first).split("-", 1)[0]
        words = f"sites {first.first:,}–{last.last:,}" + (f" from {start}" if start else "")
        labels.append(_text(LABEL_W + GRID_W + 8, y + (row // COLS) * STEP + 9, words, "rowlabel"))
    return labels


def _cell_title(model: IpamModel, zone: ZoneUse, cell: Cell) -> str:
    numbers = f"site {cell.first}" if cell.size == 1 else f"sites {cell.first}-{cell.last}"
    where = model.cell_addresses(zone, cell)
    counts = [f"{n} {word}" for n, word in ((cell.allocated, "allocated"), (cell.reserved, "reserved"),
                                            (cell.free, "free")) if n]
    return f"Zone {zone.id}, {numbers}{f' ({where})' if where else ''}: {', '.join(counts)}"


def _legend(y: float) -> str:
    parts = []
    x = 0
    for state, words in LEGEND:
        parts.append(f'<rect x="{x:g}" y="{y:g}" width="{CELL}" height="{CELL}" class="c-{state}"/>')
        parts.append(_text(x + CELL + 6, y + 9, words, "sub"))
        x += CELL + 12 + len(words) * 7
    return "".join(parts)
