"""The text inside one element of a page, found by its id with a real HTML parser.

Tests search the section they mean, so an assertion cannot pass on words that appear
elsewhere on the page.
"""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _ElementText(HTMLParser):
    def __init__(self, element_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.element_id = element_id
        self.depth = 0
        self.found = False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        if self.depth:
            self.depth += 1
        elif not self.found and dict(attrs).get("id") == self.element_id:
            self.found = True
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in VOID:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def element_text(page: str, element_id: str) -> str:
    """The text of the element with ``element_id`` (whitespace collapsed); fails if absent."""
    parser = _ElementText(element_id)
    parser.feed(page)
    parser.close()
    assert parser.found, f"no element with id {element_id!r} on the page"
    return " ".join(" ".join(parser.parts).split())
