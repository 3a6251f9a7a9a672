"""Tables as data: columns, rows of cells, and cells that expand to a derivation trace.

Cells are plain strings (escaped when rendered) or an ``Expandable`` (HTML ``<details>``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One step of a derivation: a formula, the inputs it used (as text), and its result."""

    formula: str
    inputs: tuple[str, ...]
    result: str


@dataclass(frozen=True)
class Expandable:
    """A cell that shows ``summary`` and opens to ``steps``."""

    summary: str
    steps: tuple[Step, ...]

    def __str__(self) -> str:
        return self.summary


Cell = str | Expandable


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: tuple[int, ...] = ()  # column indexes aligned right
    classes: tuple[tuple[int, str], ...] = ()  # (column, CSS class prefix): the cell's text picks the class, e.g. verdicts

    def __post_init__(self) -> None:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.caption!r}: row {i} has {len(row)} cells for {len(self.columns)} columns")

    def css_class(self, column: int, cell: Cell) -> str:
        prefix = dict(self.classes).get(column)
        if prefix is None:
            return "num" if column in self.numeric else ""
        return f"{prefix}-{''.join(ch if ch.isalnum() else '-' for ch in str(cell).lower())}"
