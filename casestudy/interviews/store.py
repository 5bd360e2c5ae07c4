"""Interviews: import transcripts, find speaker turns and sentences, cite by line number.

Interface later stages rely on (keep stable):

* ``Interview.text``: the stored, normalised transcript (``\n`` newlines, NFC). All offsets are
  code-point offsets into it, spans half-open ``[start, end)``.
* ``SpeakerTurn(ordinal, speaker, role, start, end, text_start, time)``: ``[start, end)`` covers
  the whole turn incl. timestamp and label, the spoken words run ``[text_start, end)``;
  ``role`` is interviewer / respondent / other; ``time`` is the timestamp as written ('' if none).
* ``Sentence(ordinal, start, end, turn_ordinal)``: sentences inside the turns' words.
* :func:`line_number_at` / :class:`LineIndex`: offset -> 1-based line number, as printed by
  ``interviews text`` and the transcript reader (line = ``\n``-separated line of the text).
* :func:`require_analysable`: raises when the respondent withdrew interview consent.

Imports are all-or-nothing: :func:`import_interviews` and :func:`import_manifest` do all their
work in the caller's single write session, so any error rolls the whole batch back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from casestudy import access, audit
from casestudy import study as studies
from casestudy.db import apply_edit
from casestudy.errors import UserError
from casestudy.interviews import convert
from casestudy.interviews.segment import (
    ParsedTranscript,
    check_speaker_role,
    line_index,
    parse_transcript,
)
from casestudy.models import Case, Interview, Respondent, Sentence, SpeakerTurn, Study

MANIFEST_COLUMNS = ("file", "case", "respondent", "role", "language", "date")


# --- import ----------------------------------------------------------------------------
@dataclass
class ImportItem:
    """One file to import with its metadata. ``speaker_roles`` overrides the guessed mapping."""

    file_name: str
    data: bytes
    case: str
    respondent: str
    role: str | None = None
    language: str | None = None
    date: dt.date | str | None = None
    interviewer: str = ""
    observer: str = ""
    duration_minutes: int | None = None
    audio_ref: str = ""
    notes: str = ""
    speaker_roles: dict[str, str] | None = None


def _parse_date(file_name: str, value) -> dt.date | None:
    if value is None or value == "" or isinstance(value, dt.date):
        return value or None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UserError(f"{file_name}: invalid date {value!r}; use YYYY-MM-DD")


def _resolve(session: Session, study: Study, item: ImportItem) -> tuple[Case, Respondent]:
    name = item.file_name
    try:
        case = studies.get_case(session, study, item.case or "")
        respondent = studies.get_respondent(session, case, item.respondent or "")
        if item.role:
            role = studies.normalise_role(item.role)
            if role != respondent.role:
                raise UserError(f"{respondent.name} is registered as {respondent.role}, not {role}")
        studies.require_analysis_allowed(respondent)
    except UserError as exc:
        raise UserError(f"{name}: {exc.message}") from None
    return case, respondent


def import_interviews(session: Session, study: Study, items: list[ImportItem]) -> list[Interview]:
    """Import every item or none: any problem raises a UserError naming the file (roll back)."""
    if not items:
        raise UserError("no files to import")
    prepared = []
    seen: dict[str, str] = {}
    for item in items:
        convert.check_size(item.file_name, len(item.data))
        case, respondent = _resolve(session, study, item)
        date = _parse_date(item.file_name, item.date)
        language = (item.language or study.language or "en").strip().lower()
        if item.duration_minutes is not None and item.duration_minutes < 0:
            raise UserError(f"{item.file_name}: the duration cannot be negative")
        parsed = parse_transcript(item.file_name, item.data, language, respondent.name, item.interviewer)
        if item.speaker_roles:
            parsed.apply_roles(item.speaker_roles)
        if parsed.sha256 in seen:
            raise UserError(f"{item.file_name}: the same file as {seen[parsed.sha256]} in this batch")
        seen[parsed.sha256] = item.file_name
        earlier = session.scalar(select(Interview).where(Interview.study_id == study.id, Interview.sha256 == parsed.sha256))
        if earlier is not None:
            raise UserError(
                f"{item.file_name}: this file was already imported as interview {earlier.id} "
                f"({earlier.file_name}, {earlier.case.public_label}, {earlier.respondent.name})"
            )
        prepared.append((item, case, respondent, date, language, parsed))
    return [_store(session, study, *entry) for entry in prepared]


def _store(session: Session, study: Study, item: ImportItem, case: Case, respondent: Respondent, date, language: str, parsed: ParsedTranscript) -> Interview:
    interview = Interview(
        study_id=study.id, case_id=case.id, respondent_id=respondent.id, file_name=item.file_name[:300],
        sha256=parsed.sha256, encoding=parsed.encoding, format=parsed.format, text=parsed.text, language=language,
        date=date, interviewer=item.interviewer.strip(), observer=item.observer.strip(),
        duration_minutes=item.duration_minutes, audio_ref=item.audio_ref.strip(), notes=item.notes,
        speaker_roles=dict(parsed.speaker_roles), warnings=list(parsed.warnings),
    )
    session.add(interview)
    session.flush()
    _bulk_insert(session, SpeakerTurn.__table__, ("interview_id", "ordinal", "speaker", "role", "start", "end", "text_start", "time"),
                 [(interview.id, t.ordinal, t.speaker[:200], t.role, t.start, t.end, t.text_start, t.time[:60]) for t in parsed.turns])
    _bulk_insert(session, Sentence.__table__, ("interview_id", "ordinal", "start", "end", "turn_ordinal"),
                 [(interview.id, x.ordinal, x.start, x.end, x.turn_ordinal) for x in parsed.sentences])
    audit.record(session, "interview", "import", interview.id, study.id, file=item.file_name, sha256=parsed.sha256,
                 encoding=parsed.encoding, characters=len(parsed.text), turns=len(parsed.turns), sentences=len(parsed.sentences))
    return interview


def _bulk_insert(session: Session, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert many rows with the driver's executemany (tuples, no per-row SQLAlchemy work).

    Runs on the session's connection, so it is part of the same all-or-nothing transaction.
    One summary audit event is written by the caller.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
           f"VALUES ({', '.join([placeholder] * len(columns))})")
    connection.exec_driver_sql(sql, rows)


def read_file(path: str | Path) -> tuple[str, bytes]:
    """(file name, bytes) of a file on disk, checking existence and the size limit before reading."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    convert.check_size(path.name, path.stat().st_size)
    return path.name, path.read_bytes()


def read_manifest(path: str | Path) -> list[dict[str, str]]:
    """Rows of a manifest CSV (columns file,case,respondent,role,language,date)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such manifest")
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{path.name}: the manifest must be UTF-8 text")
    reader = csv.DictReader(io.StringIO(content))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in MANIFEST_COLUMNS if c not in header]
    if missing:
        raise UserError(f"{path.name}: the manifest lacks the column(s) {', '.join(missing)}; expected {','.join(MANIFEST_COLUMNS)}")
    rows = []
    for number, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if not any(row.values()):
            continue
        if not row["file"]:
            raise UserError(f"{path.name}, line {number}: no file name")
        rows.append(row)
    if not rows:
        raise UserError(f"{path.name}: the manifest lists no files")
    return rows


def import_manifest(session: Session, study: Study, manifest: str | Path, skip_missing: bool = False) -> list[Interview]:
    """Import every file a manifest lists (paths relative to the manifest's folder), all or none."""
    manifest = Path(manifest)
    items = []
    for row in read_manifest(manifest):
        path = manifest.parent / row["file"]
        if skip_missing and not path.is_file():
            continue
        name, data = read_file(path)
        items.append(ImportItem(name, data, row["case"], row["respondent"], row["role"] or None, row["language"] or None, row["date"] or None))
    if not items and skip_missing:
        return []
    return import_interviews(session, study, items)


# --- reading -------------------------------------------------------------------------------
def _check_reader(principal: access.Principal | None, interview: Interview) -> None:
    """Transcripts are for researchers only: respondents review the reconstruction of their own
    case (never transcripts), experts read released masked texts only."""
    if principal is None or principal.is_researcher:
        return
    raise access.AccessDenied("transcripts are not available to you", principal, "transcripts")


def get_interview(session: Session, study: Study, interview_id: int | str, principal: access.Principal | None = None) -> Interview:
    try:
        interview = session.get(Interview, int(interview_id))
    except (TypeError, ValueError):
        interview = None
    if interview is None or interview.study_id != study.id:
        raise UserError(f"no interview {interview_id} in this study")
    _check_reader(principal, interview)
    return interview


@dataclass(frozen=True)
class InterviewLabel:
    """What a chooser needs about an interview, without loading its text."""

    id: int
    case: str
    respondent: str
    role: str
    file_name: str

    @property
    def label(self) -> str:
        return f"{self.case} · {self.respondent} ({self.role}) · {self.file_name}"


def interview_labels(session: Session, study: Study) -> list[InterviewLabel]:
    """Every interview of the study for pickers (researchers only; no transcript text is read)."""
    query = (
        select(Interview.id, Case.public_label, Respondent.name, Respondent.role, Interview.file_name)
        .join(Case, Interview.case_id == Case.id)
        .join(Respondent, Interview.respondent_id == Respondent.id)
        .where(Interview.study_id == study.id)
        .order_by(Case.public_label, Interview.id)
    )
    return [InterviewLabel(*row) for row in session.execute(query)]


def list_interviews(session: Session, study: Study, case: Case | None = None, principal: access.Principal | None = None) -> list[Interview]:
    if principal is not None and not principal.is_researcher:
        raise access.AccessDenied("transcripts are not available to you", principal, "transcripts")
    query = select(Interview).join(Case, Interview.case_id == Case.id).where(Interview.study_id == study.id)
    if case is not None:
        query = query.where(Interview.case_id == case.id)
    return list(session.scalars(query.order_by(Case.public_label, Interview.id)))


def turns_of(session: Session, interview: Interview) -> list[SpeakerTurn]:
    return list(session.scalars(select(SpeakerTurn).where(SpeakerTurn.interview_id == interview.id).order_by(SpeakerTurn.ordinal)))


def sentences_of(session: Session, interview: Interview) -> list[Sentence]:
    return list(session.scalars(select(Sentence).where(Sentence.interview_id == interview.id).order_by(Sentence.ordinal)))


def _counts(session: Session, model, interview_ids: list[int]) -> dict[int, int]:
    if not interview_ids:
        return {}
    rows = session.execute(select(model.interview_id, func.count()).where(model.interview_id.in_(interview_ids)).group_by(model.interview_id))
    return dict(rows.all())


def interview_records(session: Session, interviews: list[Interview]) -> list[dict]:
    """The list view: one dict per interview (see ``interviews list --format json``)."""
    ids = [i.id for i in interviews]
    turns, sentences = _counts(session, SpeakerTurn, ids), _counts(session, Sentence, ids)
    return [
        {
            "id": i.id,
            "case": i.case.public_label,
            "respondent": i.respondent.name,
            "role": i.respondent.role,
            "file": i.file_name,
            "format": i.format,
            "sha256": i.sha256,
            "encoding": i.encoding,
            "characters": len(i.text),
            "words": len(i.text.split()),
            "lines": len(line_index(i.text)),
            "turns": turns.get(i.id, 0),
            "sentences": sentences.get(i.id, 0),
            "speakers": dict(i.speaker_roles),
            "language": i.language,
            "date": i.date,
            "interviewer": i.interviewer,
            "observer": i.observer,
            "duration_minutes": i.duration_minutes,
            "audio_ref": i.audio_ref,
            "notes": i.notes,
            "warnings": list(i.warnings),
            "consent_withdrawn": studies.analysis_blocked(i.respondent),
            "version": i.version,
        }
        for i in interviews
    ]


def interview_detail(session: Session, interview: Interview) -> dict:
    """The list record plus ``turns`` (speaker, role, start, end, text_start, line, time) and ``sentences``."""
    record = interview_records(session, [interview])[0]
    index = line_index(interview.text)
    turns = []
    for t in turns_of(session, interview):
        turn = {"ordinal": t.ordinal, "speaker": t.speaker, "role": t.role, "start": t.start, "end": t.end,
                "text_start": t.text_start, "line": index.line_of(t.start)}
        if t.time:
            turn["time"] = t.time
        turns.append(turn)
    record["turns"] = turns
    record["sentences"] = [{"ordinal": s.ordinal, "start": s.start, "end": s.end, "turn": s.turn_ordinal} for s in sentences_of(session, interview)]
    return record


def require_analysable(interview: Interview) -> None:
    """For later stages: refuse to analyse material of a respondent who withdrew interview consent."""
    studies.require_analysis_allowed(interview.respondent)


# --- editing -----------------------------------------------------------------------------
def set_speaker_roles(session: Session, interview: Interview, roles: dict[str, str], expected_version: int | None = None) -> Interview:
    """Change the role of detected speaker labels (and of their turns)."""
    mapping = dict(interview.speaker_roles)
    for label, role in roles.items():
        if label not in mapping:
            raise UserError(f"interview {interview.id} has no speaker labelled {label!r}; found: {', '.join(mapping) or 'none'}")
        mapping[label] = check_speaker_role(role)
    apply_edit(session, Interview, interview.id, interview.version if expected_version is None else expected_version, speaker_roles=mapping)
    for label, role in roles.items():
        session.execute(
            update(SpeakerTurn).where(SpeakerTurn.interview_id == interview.id, SpeakerTurn.speaker == label).values(role=mapping[label])
        )
    session.flush()
    return interview


def update_metadata(session: Session, interview: Interview, expected_version: int | None = None, **changes) -> Interview:
    """Edit interviewer, observer, date, duration_minutes, audio_ref or notes."""
    allowed = {"interviewer", "observer", "date", "duration_minutes", "audio_ref", "notes"}
    unknown = set(changes) - allowed
    if unknown:
        raise UserError(f"cannot edit {', '.join(sorted(unknown))}; editable: {', '.join(sorted(allowed))}")
    if "date" in changes:
        changes["date"] = _parse_date(interview.file_name, changes["date"])
    if changes.get("duration_minutes") is not None and int(changes["duration_minutes"]) < 0:
        raise UserError("the duration cannot be negative")
    apply_edit(session, Interview, interview.id, interview.version if expected_version is None else expected_version, **changes)
    session.flush()
    return interview


def delete_interview(session: Session, interview: Interview) -> None:
    """Remove an interview with its turns and sentences (e.g. to import a corrected file)."""
    connection = session.connection()
    connection.execute(delete(Sentence.__table__).where(Sentence.__table__.c.interview_id == interview.id))
    connection.execute(delete(SpeakerTurn.__table__).where(SpeakerTurn.__table__.c.interview_id == interview.id))
    session.delete(interview)
    session.flush()


# --- reading view ------------------------------------------------------------------------
ROLE_COLOURS = {"interviewer": "#1f5fa8", "respondent": "#1b1b1b", "other": "#8a5a00"}


def transcript_html(text: str, turns, first_line: int = 1, last_line: int | None = None) -> str:
    """One pre-escaped HTML block of lines ``first_line..last_line`` with line numbers, each
    line coloured by the role of the turn it belongs to (inline styles only, no scripts).

    ``turns`` are SpeakerTurn rows or TurnSpans (anything with ``start``, ``end``, ``role``).
    Fast enough for 300,000 characters in one block (see bench/import_transcripts.py).
    """
    from html import escape

    index = line_index(text)
    last = min(last_line or len(index), len(index))
    first = max(1, first_line)
    ordered = sorted(turns, key=lambda t: t.start)
    width = len(str(last))
    pointer, parts = 0, []
    for number in range(first, last + 1):
        start, end = index.span(number)
        while pointer < len(ordered) and ordered[pointer].end < start:
            pointer += 1
        turn = ordered[pointer] if pointer < len(ordered) and ordered[pointer].start <= start <= ordered[pointer].end else None
        colour = ROLE_COLOURS.get(turn.role, "#1b1b1b") if turn is not None and start < end else "#1b1b1b"
        if turn is not None and start <= turn.start < turn.text_start <= end:  # the label line: label in bold
            content = (escape(text[start : turn.start], quote=False) + "<b>" + escape(text[turn.start : turn.text_start], quote=False)
                       + "</b>" + escape(text[turn.text_start : end], quote=False))
        else:
            content = escape(text[start:end], quote=False) or "&nbsp;"
        parts.append(
            f'<div style="display:flex;color:{colour}"><span style="flex:0 0 {width + 1}ch;text-align:right;'
            f'margin-right:1.2ch;color:#999;user-select:none">{number}</span><span style="white-space:pre-wrap;flex:1">'
            f"{content}</span></div>"
        )
    return '<div style="font-family:ui-monospace,Menlo,Consolas,monospace;font-size:0.85rem;line-height:1.5">' + "".join(parts) + "</div>"


# --- overview ----------------------------------------------------------------------------
def stage_status(session: Session, case: Case) -> str | None:
    count = session.scalar(select(func.count()).select_from(Interview).where(Interview.case_id == case.id)) or 0
    if not count:
        return None
    blocked = sum(studies.analysis_blocked(r) for r in case.respondents)
    return f"{count} transcript{'s' if count != 1 else ''}" + (f"; {blocked} consent withdrawn" if blocked else "")
