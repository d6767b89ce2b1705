"""A big table written as Rich draws it off a terminal (the default box), in linear time.

Rich measures and renders every cell through several layers: 50,000 rows (`mistctl ipam` of 10,000 sites)
took about a minute. Off a terminal nothing is styled or cropped, so the lines are plain text: this writes
the same characters (title, heavy header, light body; cells padded by one space) at a fraction of the cost.
Tables whose cells are not plain one-line printable text are left to Rich (`plain_lines` returns None).
ASCII cells are measured by their length; only a table with other characters imports Rich's width table
(`rich.cells`, not its Console).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def _width(cell: str) -> int:
    """The terminal cells `cell` takes, as Rich counts them (callers measure an ASCII cell by its length)."""
    from rich.cells import cell_len

    return cell_len(cell)


def plain_lines(title: str, headers: Sequence[str], right: Sequence[bool],
                rows: Sequence[Sequence[str]]) -> Iterator[str] | None:
    """The table's lines, or None when a cell needs Rich (control or non-printable characters)."""
    if not all(cell.isprintable() for cell in (title, *headers)):
        return None
    widths = [len(h) if h.isascii() else _width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            if not cell.isprintable():
                return None
            length = len(cell) if cell.isascii() else _width(cell)
            if length > widths[i]:
                widths[i] = length
    return _lines(title, headers, right, rows, widths)


def _cells(row: Sequence[str], right: Sequence[bool], widths: list[int], bar: str) -> str:
    parts = []
    for cell, is_right, width in zip(row, right, widths, strict=True):
        pad = " " * (width - (len(cell) if cell.isascii() else _width(cell)))
        parts.append(f" {pad}{cell} " if is_right else f" {cell}{pad} ")
    return bar + bar.join(parts) + bar


def _lines(title: str, headers: Sequence[str], right: Sequence[bool], rows: Sequence[Sequence[str]],
           widths: list[int]) -> Iterator[str]:
    yield title  # Rich does not centre it: the console soft-wraps (one line per message, whatever the width)
    yield "┏" + "┳".join("━" * (w + 2) for w in widths) + "┓"
    yield _cells(headers, right, widths, "┃")
    yield "┡" + "╇".join("━" * (w + 2) for w in widths) + "┩"
    for row in rows:
        yield _cells(row, right, widths, "│")
    yield "└" + "┴".join("─" * (w + 2) for w in widths) + "┘"
