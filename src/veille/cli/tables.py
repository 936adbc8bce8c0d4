"""Tables that fit the terminal: long text wraps, headers are never cut, and when even
that does not fit, the least needed columns go first (each column says how much it is
needed: 0, never dropped).

Rich alone shrinks every column until headers read "sour…"; here each column keeps at
least its header's longest word (a header may wrap between words), text columns keep a
readable width and wrap inside it, and short values (ids, dates, counts) never wrap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

TEXT_MIN = 16  # a wrapping column narrower than this reads one word a line
# What a column costs besides its content with rich's default box: one space of padding
# each side and one border to its left; the table adds the last border.
_PER_COLUMN, _EDGE = 3, 1


@dataclass(frozen=True)
class Col:
    header: str
    drop: int = 0  # 0: always shown; otherwise the higher, the sooner it goes
    justify: str = "left"
    wrap: bool = False  # long values wrap (text); otherwise each value is kept whole


def _width(markup: str) -> int:
    return Text.from_markup(markup).cell_len


def _header_min(column: Col) -> int:
    return max((_width(word) for word in column.header.split()), default=1)


def _minimum(column: Col, cells: list[str]) -> int:
    longest = max((_width(c) for c in cells), default=0)
    if column.wrap:
        return max(_header_min(column), min(TEXT_MIN, longest))
    # Values stay whole on their line (the column is never narrower than the widest);
    # the header may wrap between its words.
    return max(_header_min(column), longest)


def _widths(minimum: list[int], natural: list[int], wrap: list[bool], room: int) -> list[int]:
    """Each column's width: its minimum, then the room left given first to the short
    columns (so their headers stay on one line), then to text, in proportion to what
    each would still take."""
    widths = list(minimum)
    for group in ([i for i, w in enumerate(wrap) if not w], [i for i, w in enumerate(wrap) if w]):
        want = {i: natural[i] - widths[i] for i in group if natural[i] > widths[i]}
        total = sum(want.values())
        if not total or room <= 0:
            continue
        share = min(1.0, room / total)
        for i, more in want.items():
            widths[i] += int(more * share)
        room -= sum(widths[i] - minimum[i] for i in group)
    return widths


def fit(
    columns: Sequence[Col], rows: Sequence[Sequence[str]], width: int, title: str | None = None
) -> Table:
    """A table of `rows` (rich markup, escaped) in at most `width` columns of text."""
    cells = [[row[i] for row in rows] for i in range(len(columns))]
    minimum = [_minimum(c, cells[i]) for i, c in enumerate(columns)]
    kept = list(range(len(columns)))

    def needed() -> int:
        return _EDGE + sum(minimum[i] + _PER_COLUMN for i in kept)

    while needed() > width and any(columns[i].drop for i in kept):
        kept.remove(max((i for i in kept if columns[i].drop), key=lambda i: columns[i].drop))
    natural = [max([_width(columns[i].header)] + [_width(c) for c in cells[i]]) for i in kept]
    widths = _widths(
        [minimum[i] for i in kept], natural, [columns[i].wrap for i in kept], width - needed()
    )
    table = Table(title=title)
    for i, column_width in zip(kept, widths, strict=True):
        table.add_column(
            columns[i].header,
            justify=columns[i].justify,  # type: ignore[arg-type]
            overflow="fold",
            width=column_width,
        )
    for row in rows:
        table.add_row(*(row[i] for i in kept))
    return table
