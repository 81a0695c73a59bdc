"""What an HTML page would reach for on the network: every external URL in its markup and styles.

An offline page (the report, an exported view) may inline plotly.js, whose source mentions URLs in
strings and comments; those load nothing. So the markup is parsed as a browser parses it (script
bodies are opaque text) and every attribute and CSS ``url()``/``@import`` is checked, in the whole
document, not only where a CDN tag usually sits.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)           # http://, https://, //host, ftp://
_CSS_REFERENCE = re.compile(r"""(?:url\(\s*|@import\s+)['"]?\s*((?:[a-z][a-z0-9+.-]*:)?//[^'")\s]+)""", re.I)


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs) -> None:
        for name, value in attrs:
            if not value:
                continue
            if _EXTERNAL.match(value) or (name == "srcset" and "//" in value):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                self.found += _CSS_REFERENCE.findall(value)
        self._in_style = tag == "style"

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data) -> None:
        if self._in_style:
            self.found += _CSS_REFERENCE.findall(data)


def external_references(page: str) -> list[str]:
    """Every external URL the page's tags or styles name (empty for a page that works offline)."""
    parser = _References()
    parser.feed(page)
    parser.close()
    return parser.found
