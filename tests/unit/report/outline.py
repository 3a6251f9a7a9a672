"""A report page reduced to its structure for golden files: headings, readings, figures, tables (columns and
row counts), expandable rows, footer; numbers masked, SVG internals left out (structure, not pixels)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def mask(text: str) -> str:
    return NUMBER.sub("#", " ".join(text.split()))


class _Outline(HTMLParser):
    KEEP = frozenset({"h1", "h2", "h3", "caption", "th", "summary", "figcaption"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.stack: list[str] = []
        self.text: list[str] = []
        self.in_svg = 0
        self.rows = 0
        self.header: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "svg":
            self.in_svg += 1
            self.lines.append("  svg")
        if self.in_svg:
            return
        if tag == "section":
            self.lines.append(f"section #{a.get('id')}")
        elif tag == "p" and a.get("class") == "reading":
            self.stack.append("reading")
            self.text = []
        elif tag in self.KEEP:
            self.stack.append(tag)
            self.text = []
        elif tag == "table":
            self.rows, self.header = 0, []
        elif tag == "tr":
            self.rows += 1
        elif tag == "details":
            self.lines.append("      details")
        elif tag == "footer":
            self.lines.append("footer")

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.in_svg -= 1
            return
        if self.in_svg:
            return
        if self.stack and (tag == self.stack[-1] or (tag == "p" and self.stack[-1] == "reading")):
            kind = self.stack.pop()
            text = mask("".join(self.text))
            if kind == "th":
                self.header.append(text)
            elif kind != "summary":
                self.lines.append(f"  {kind}: {text}")
        elif tag == "table":
            self.lines.append(f"    columns: {' | '.join(self.header)}; rows: {self.rows - 1}")

    def handle_data(self, data: str) -> None:
        if self.stack and not self.in_svg:
            self.text.append(data)


def outline(html: str) -> str:
    p = _Outline()
    p.feed(html)
    return "\n".join(p.lines) + "\n"
