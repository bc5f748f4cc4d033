"""The meeting pack as a small document model, built once and rendered by three writers.

A :class:`Document` is a list of :class:`Section` s; a section holds blocks in reading order:
:class:`Para` (a paragraph), :class:`Bullets`, :class:`Table` and :class:`Figure` (a PNG with a
one-line caption). The DOCX, HTML and XLSX writers only lay these out; every word, number and
picture is decided in :mod:`svtui.pack.assemble`, so the three files can never disagree.

Text here is plain text (data strings already made inert by svtui.safe.plain); each writer
escapes it for its own format.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass
class Para:
    text: str
    style: str = "body"  # body | lead (the headline) | note | pointer


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    widths_cm: list[float] | None = None  # column widths for print (None: the writer decides)


@dataclass
class Figure:
    """A drawn picture: kind "map" or "chart"; png bytes; caption says what it shows."""

    kind: str
    png: bytes
    caption: str
    alt: str
    width_cm: float = 16.0


Block = Union[Para, Bullets, Table, Figure]


@dataclass
class Section:
    """A heading and its blocks. kind: summary | csp | locality | notes | part; level 1-3.

    page_break: start the section on a new page (each locality gets its own page)."""

    heading: str
    kind: str
    key: str = ""
    level: int = 1
    page_break: bool = False
    blocks: list[Block] = field(default_factory=list)

    def words(self) -> int:
        """Words of running text (paragraphs and bullets; headings, notes, tables and captions
        excluded), as the word budget counts them."""
        n = 0
        for b in self.blocks:
            if isinstance(b, Para) and b.style in ("body", "lead"):
                n += len(b.text.split())
            elif isinstance(b, Bullets):
                n += sum(len(i.split()) for i in b.items)
        return n

    def figures(self, kind: str | None = None) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure) and (kind is None or b.kind == kind)]


@dataclass
class Document:
    title: str
    subtitle: str
    synthetic: bool
    sections: list[Section] = field(default_factory=list)
    tables: dict[str, object] = field(default_factory=dict)  # sheet name -> polars frame (xlsx only)
    provenance: dict = field(default_factory=dict)
    word_counts: dict[str, int] = field(default_factory=dict)  # section key -> words before data notes
