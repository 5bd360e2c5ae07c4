"""The demo study's interviews: the 14 synthetic transcripts shipped in ``demo/data/``, their
interview sessions and the study's interview guide (``demo/data/interview-guide.yaml``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from casestudy.interviews import guide as guides
from casestudy.interviews.store import ImportItem, import_interviews, list_interviews, manifest_items, turns_of, update_metadata
from casestudy.models import Study

DATA_FOLDER = Path(__file__).resolve().parent / "data"


GUIDE_FILE = DATA_FOLDER / "interview-guide.yaml"
INTERVIEWER = "Demo Researcher"
OBSERVER = "Demo Observer"
# Where the probes started, set by hand where the guide's English probes do not match the Dutch
# interviewer (the rest is found from the guide): file -> words of the first probing turn.
PROBE_STARTS = {"case-f-manager.txt": "steun van het hoger management"}


def load_demo_interviews(session: Session, study: Study) -> list[Callable[[Session, Study], None]]:
    """Demo step: every transcript listed in ``demo/data/manifest.csv`` (all read and checked
    first), then the interview guide and the sessions; its parts, one transcript each and then
    the rest (``demo.load_demo`` runs each in a writing transaction of its own)."""
    items = manifest_items(DATA_FOLDER / "manifest.csv")
    return [functools.partial(_import_one, item=item) for item in items] + [_guide_and_sessions]


def _import_one(session: Session, study: Study, item: ImportItem) -> None:
    import_interviews(session, study, [item])


def _guide_and_sessions(session: Session, study: Study) -> None:
    """Store the interview guide and record the sessions: each interview held by the demo
    researcher with an observer, transcribed; Case A's and Case B's checked by the observer."""
    guide = guides.read_guide(GUIDE_FILE.name, GUIDE_FILE.read_bytes())
    guides.store_guide(session, study, guide, "demo", "the demo's guide")
    for interview in list_interviews(session, study):
        checked = interview.case.public_label in ("Case A", "Case B")
        changes = {"interviewer": INTERVIEWER, "observer": OBSERVER, "duration_minutes": 17,
                   "audio_ref": f"audio/{interview.file_name.rsplit('.', 1)[0]}.m4a",
                   "session_status": "checked" if checked else "transcribed",
                   "observer_note": "Open questions came first; probes only for determinants not yet raised." if checked else ""}
        if checked:
            changes["checked_at"] = interview.date
        words = PROBE_STARTS.get(interview.file_name)
        if words:
            changes["probe_start_turn"] = next(t.ordinal for t in turns_of(session, interview)
                                               if t.role == "interviewer" and words in interview.text[t.text_start : t.end])
        update_metadata(session, interview, **changes)
