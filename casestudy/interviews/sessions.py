"""Interview sessions: who held an interview, who observed it, when, how long, where the audio is,
and how far it got (recorded, transcribed, checked by the observer with a note).

The session is kept in plain columns of the interview table (``Interview.interviewer``,
``observer``, ``date``, ``duration_minutes``, ``audio_ref``, ``session_status``,
``observer_note``, ``checked_at``); :func:`session_record` is the one way to read them (the
interview list, ``casestudy interviews sessions``, reporting checklists such as COREQ), and
:func:`check_session_changes` the rules every edit goes through
(:func:`casestudy.interviews.store.update_metadata`). This module reads no database itself.

Rules: the status is one of :data:`~casestudy.interviews.constants.SESSION_STATUSES`; "checked"
needs an observer (it is the observer who checks the interview) and records the day it was
checked (today unless given); a document (not an interview) has no session.
"""

from __future__ import annotations

import datetime as dt

from casestudy.errors import UserError
from casestudy.interviews.constants import SESSION_STATUSES
from casestudy.models import Interview

#: The keys of :func:`session_record`, in order (also the columns of ``interviews sessions``).
SESSION_COLUMNS = ("id", "case", "respondent", "role", "file", "interviewer", "observer", "date", "duration_minutes",
                   "audio_ref", "status", "observer_note", "checked_at", "guide")
#: Interview fields that belong to the session (editable through ``update_metadata``).
SESSION_FIELDS = ("interviewer", "observer", "date", "duration_minutes", "audio_ref", "session_status", "observer_note", "checked_at")


def session_record(interview: Interview) -> dict:
    """The session of one interview as plain values (see :data:`SESSION_COLUMNS`).

    ``guide`` is the number of the guide version assigned to the interview, or None when it
    follows the study's newest. ``date`` and ``checked_at`` are ``datetime.date`` or None;
    ``duration_minutes`` an int or None; texts are "" when not recorded.
    """
    respondent = interview.respondent
    return {
        "id": interview.id,
        "case": interview.case.public_label,
        "respondent": respondent.name if respondent is not None else "",
        "role": respondent.role if respondent is not None else "",
        "file": interview.file_name,
        "interviewer": interview.interviewer,
        "observer": interview.observer,
        "date": interview.date,
        "duration_minutes": interview.duration_minutes,
        "audio_ref": interview.audio_ref,
        "status": interview.session_status,
        "observer_note": interview.observer_note,
        "checked_at": interview.checked_at,
        "guide": interview.guide.number if interview.guide is not None else None,
    }


def _date(value, what: str) -> dt.date | None:
    if value is None or value == "" or isinstance(value, dt.date):
        return value or None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UserError(f"invalid {what} {value!r}; use YYYY-MM-DD") from None


def check_session_changes(interview: Interview, changes: dict, today: dt.date | None = None) -> dict:
    """The session ``changes`` to an interview, checked and completed (see the module rules).

    Returns a new dict: ``session_status`` lower-cased, ``checked_at`` set to ``today`` when the
    interview becomes checked without a date, cleared when it is no longer checked."""
    session_keys = set(changes) & set(SESSION_FIELDS)
    if not session_keys:
        return dict(changes)
    if interview.kind != "interview" and session_keys - {"date"}:
        raise UserError(f"{interview.file_name} is a document: it has no interview session (interviewer, observer, status...)")
    result = dict(changes)
    if "session_status" in result:
        result["session_status"] = str(result["session_status"] or "").strip().lower()
        if result["session_status"] not in SESSION_STATUSES:
            raise UserError(f"unknown session status {changes['session_status']!r}; choose one of: {', '.join(SESSION_STATUSES)}")
    if "checked_at" in result:
        result["checked_at"] = _date(result["checked_at"], "date of the check")
    status = result.get("session_status", interview.session_status)
    observer = (result.get("observer", interview.observer) or "").strip()
    if status == "checked":
        if not observer:
            raise UserError(f"interview {interview.id} has no observer: name the observer who checked it (--observer)")
        if not result.get("checked_at") and (interview.session_status != "checked" or not interview.checked_at):
            result["checked_at"] = today or dt.date.today()
    elif "session_status" in result:
        result["checked_at"] = None
    for key in ("interviewer", "observer", "audio_ref", "observer_note"):
        if key in result and result[key] is not None:
            result[key] = str(result[key]).strip()
    return result
