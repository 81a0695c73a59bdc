"""The README says only what is true: the lists it gives are the code's own."""

from __future__ import annotations

import re

from conftest import REPO
from engine_core.analysis.fallback import REASONS


def _paragraph(start: str, end: str) -> str:
    text = (REPO / "README.md").read_text()
    begin = text.index(start)
    return text[begin:text.index(end, begin)]


def test_fallback_vocabulary_is_the_codes_closed_vocabulary():
    paragraph = _paragraph("- **fallback**:", "Each comes with its evidence.")
    listed = re.findall(r"`([a-z0-9_]+)`", paragraph.split("closed vocabulary:", 1)[1])
    assert listed == list(REASONS)  # every reason, once, in the code's order
