"""A passage's place in its transcript, as a link to the coding page: ``coding?interview=<id>&at=<start>-<end>``.

Retrieved segments, matrix cells and agreement disagreements carry such a link; the coding page
reads it back (:func:`parse_place`), opens that interview and shows the span.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: The coding page's URL path (``casestudy.ui.pages.coding.PAGE.url_path``; a test keeps them equal).
CODING_PAGE = "coding"


@dataclass(frozen=True)
class Place:
    """The half-open span [start, end) of one interview, in code points."""

    interview_id: int
    start: int
    end: int

    @property
    def query(self) -> dict[str, str]:
        """The query parameters of the link (for ``st.page_link`` / ``st.switch_page``)."""
        return {"interview": str(self.interview_id), "at": f"{self.start}-{self.end}"}

    @property
    def link(self) -> str:
        """The coding page's relative URL for this place."""
        return f"{CODING_PAGE}?interview={self.interview_id}&at={self.start}-{self.end}"


def passage_link(interview_id: int, start: int, end: int) -> str:
    return Place(interview_id, start, end).link


def parse_place(params: Mapping[str, str]) -> Place | None:
    """The place named by query parameters ``interview`` and ``at`` (``at`` optional); None when
    they are missing or malformed (a hand-edited URL is ignored, not an error)."""
    interview = str(params.get("interview") or "")
    if not interview.isdigit():
        return None
    at = str(params.get("at") or "")
    start, _, end = at.partition("-")
    if start.isdigit() and end.isdigit() and int(end) > int(start):
        return Place(int(interview), int(start), int(end))
    return Place(int(interview), 0, 0)
