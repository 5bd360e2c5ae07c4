"""The demo study's interviews: the 14 synthetic transcripts shipped in ``demo/data/``."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from casestudy.interviews.store import import_manifest
from casestudy.models import Study

DATA_FOLDER = Path(__file__).resolve().parent / "data"


def load_demo_interviews(session: Session, study: Study) -> None:
    """Import every transcript listed in ``demo/data/manifest.csv`` into the demo study."""
    import_manifest(session, study, DATA_FOLDER / "manifest.csv")
