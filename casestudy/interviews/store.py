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
* ``Interview.kind``: ``interview`` (a transcript, with a respondent) or ``document`` (minutes, a
  report, an incident log: no respondent, a ``document_type``, optionally a period of the case).
  Documents are imported by the same importers and coded, retrieved and cited like transcripts;
  readers that show a respondent show "" for a document.
* The interview session (interviewer, observer, date, duration, audio, status, the observer's
  note) is read with :func:`casestudy.interviews.sessions.session_record`.

Imports are all-or-nothing: :func:`import_interviews` and :func:`import_manifest` do all their
work in the caller's single write session, so any error rolls the whole batch back.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from casestudy import access, audit, periods, status
from casestudy import study as studies
from casestudy.db import apply_edit
from casestudy.errors import UserError
from casestudy.interviews import convert, sessions
from casestudy.interviews.constants import SOURCE_KINDS
from casestudy.interviews.segment import (
    ParsedTranscript,
    check_speaker_role,
    line_index,
    parse_transcript,
)
from casestudy.models import Case, CasePeriod, Interview, Respondent, Sentence, SpeakerTurn, Study
from casestudy.status import StageStatus

MANIFEST_COLUMNS = ("file", "case", "respondent", "role", "language", "date")
#: Optional manifest columns: a row with kind "document" names no respondent.
MANIFEST_OPTIONAL = ("kind", "document_type", "period")


# --- import ----------------------------------------------------------------------------
@dataclass
class ImportItem:
    """One file to import with its metadata. ``speaker_roles`` overrides the guessed mapping.

    ``kind`` "document" imports a text that is not an interview: ``respondent`` stays empty,
    ``document_type`` says what it is (e.g. "meeting minutes"), ``period`` optionally names
    one of the case's periods."""

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
    kind: str = "interview"
    document_type: str = ""
    period: str | None = None
    #: ``parse_transcript`` of exactly these bytes, file name, language and respondent, done
    #: ahead (the REFI-QDA import parses in the read phase of a staged write); None: parsed here.
    parsed: ParsedTranscript | None = None


def _parse_date(file_name: str, value) -> dt.date | None:
    if value is None or value == "" or isinstance(value, dt.date):
        return value or None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UserError(f"{file_name}: invalid date {value!r}; use YYYY-MM-DD")


def _check_kind(item: ImportItem) -> None:
    """What an item of its kind may carry: a document no respondent and no interview session, an
    interview no document type (UserError naming the file)."""
    problem = ""
    if item.kind not in SOURCE_KINDS:
        problem = f"unknown kind {item.kind!r}; choose one of: {', '.join(SOURCE_KINDS)}"
    elif item.kind == "document" and ((item.respondent or "").strip() or item.role):
        problem = "a document has no respondent; import it without one (or as an interview)"
    elif item.kind == "document" and (item.interviewer or item.observer or item.duration_minutes is not None or item.audio_ref):
        problem = "a document has no interview session (interviewer, observer, duration, audio)"
    elif item.kind == "interview" and item.document_type:
        problem = "only a document has a document type"
    if problem:
        raise UserError(f"{item.file_name}: {problem}")


def _resolve(session: Session, roster: studies.Roster, item: ImportItem) -> tuple[Case, Respondent | None, int | None]:
    """(case, respondent or None for a document, period id or None), checked."""
    name = item.file_name
    try:
        case = roster.case(item.case or "")
        period_id = periods.period_id_for(session, case, item.period)
        if item.kind == "document":
            return case, None, period_id
        respondent = roster.respondent(case, item.respondent or "")
        if item.role:
            role = studies.normalise_role(item.role)
            if role != respondent.role:
                raise UserError(f"{respondent.name} is registered as {respondent.role}, not {role}")
        studies.require_analysis_allowed(respondent)
    except UserError as exc:
        raise UserError(f"{name}: {exc.message}") from None
    return case, respondent, period_id


def import_interviews(session: Session, study: Study, items: list[ImportItem]) -> list[Interview]:
    """Import every item or none: any problem raises a UserError naming the file (roll back).

    Problems are reported in the items' order, each file's own checks (size, case and
    respondent, date, duplicate, parse) before the next file's. The batch is stored with one
    flush for its interviews and one multi-row insert each for all turns and sentences: per-file
    round trips cost more than segmentation at 1,000 transcripts.
    """
    if not items:
        raise UserError("no files to import")
    digests = {hashlib.sha256(item.data).hexdigest() for item in items}
    earlier_by_digest: dict[str, Interview] = {}
    for chunk in _chunks(sorted(digests), 500):
        earlier_by_digest.update((i.sha256, i) for i in session.scalars(
            select(Interview).where(Interview.study_id == study.id, Interview.sha256.in_(chunk))))
    resolved: dict[tuple[str, ...], tuple[Case, Respondent | None, int | None]] = {}
    roster = studies.Roster(session, study)
    prepared = []
    seen: dict[str, str] = {}
    for item in items:
        convert.check_size(item.file_name, len(item.data))
        _check_kind(item)
        who = (item.kind, item.case or "", item.respondent or "", item.role or "", item.period or "")
        if who not in resolved:
            resolved[who] = _resolve(session, roster, item)
        case, respondent, period_id = resolved[who]
        date = _parse_date(item.file_name, item.date)
        language = (item.language or study.language or "en").strip().lower()
        if item.duration_minutes is not None and item.duration_minutes < 0:
            raise UserError(f"{item.file_name}: the duration cannot be negative")
        parsed = item.parsed or parse_transcript(item.file_name, item.data, language, respondent.name if respondent else "", item.interviewer)
        if item.speaker_roles:
            parsed.apply_roles(item.speaker_roles)
        if parsed.sha256 in seen:
            raise UserError(f"{item.file_name}: the same file as {seen[parsed.sha256]} in this batch")
        seen[parsed.sha256] = item.file_name
        earlier = earlier_by_digest.get(parsed.sha256)
        if earlier is not None:
            raise UserError(
                f"{item.file_name}: this file was already imported as interview {earlier.id} "
                f"({earlier.file_name}, {earlier.case.public_label}, "
                f"{earlier.respondent.name if earlier.respondent else source_label(earlier)})"
            )
        prepared.append((item, case, respondent, period_id, date, language, parsed))
    return _store(session, study, prepared)


def _chunks(values: list, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _store(session: Session, study: Study, prepared: list[tuple]) -> list[Interview]:
    """Store parsed transcripts (see :func:`import_interviews`), one audit event per interview."""
    interviews = [
        Interview(
            study_id=study.id, case_id=case.id, respondent_id=respondent.id if respondent else None, file_name=item.file_name[:300],
            kind=item.kind, document_type=item.document_type.strip()[:100], period_id=period_id,
            sha256=parsed.sha256, encoding=parsed.encoding, format=parsed.format, text=parsed.text, language=language,
            date=date, interviewer=item.interviewer.strip(), observer=item.observer.strip(),
            duration_minutes=item.duration_minutes, audio_ref=item.audio_ref.strip(), notes=item.notes,
            speaker_roles=dict(parsed.speaker_roles), warnings=list(parsed.warnings),
        )
        for item, case, respondent, period_id, date, language, parsed in prepared
    ]
    session.add_all(interviews)
    session.flush()  # one multi-row INSERT ... RETURNING for the batch's ids
    turns, sentences = [], []
    for interview, (item, *_, parsed) in zip(interviews, prepared):
        interview_id = interview.id  # once: an ORM attribute read per row cost more than the rows
        turns += [(interview_id, t.ordinal, t.speaker[:200], t.role, t.start, t.end, t.text_start, t.time[:60]) for t in parsed.turns]
        sentences += [(interview_id, x.ordinal, x.start, x.end, x.turn_ordinal) for x in parsed.sentences]
        audit.record(session, "interview", "import", interview.id, study.id, file=item.file_name, kind=item.kind, sha256=parsed.sha256,
                     encoding=parsed.encoding, characters=len(parsed.text), turns=len(parsed.turns), sentences=len(parsed.sentences))
    _bulk_insert(session, SpeakerTurn.__table__, ("interview_id", "ordinal", "speaker", "role", "start", "end", "text_start", "time"), turns)
    _bulk_insert(session, Sentence.__table__, ("interview_id", "ordinal", "start", "end", "turn_ordinal"), sentences)
    return interviews


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
    """Rows of a manifest CSV (columns file,case,respondent,role,language,date; optionally
    kind,document_type,period)."""
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
        for optional in MANIFEST_OPTIONAL:
            row.setdefault(optional, "")
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
    items = manifest_items(manifest, skip_missing)
    if not items and skip_missing:
        return []
    return import_interviews(session, study, items)


def manifest_items(manifest: str | Path, skip_missing: bool = False) -> list[ImportItem]:
    """The files a manifest lists, read, as items for :func:`import_interviews`."""
    manifest = Path(manifest)
    items = []
    for row in read_manifest(manifest):
        path = manifest.parent / row["file"]
        if skip_missing and not path.is_file():
            continue
        name, data = read_file(path)
        items.append(ImportItem(name, data, row["case"], row["respondent"], row["role"] or None, row["language"] or None, row["date"] or None,
                                kind=row["kind"].lower() or "interview", document_type=row["document_type"], period=row["period"] or None))
    return items


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


def source_label(interview: Interview) -> str:
    """Who or what a source text is: "respondent (role)" for an interview, "document: type" for a document."""
    if interview.respondent is not None:
        return f"{interview.respondent.name} ({interview.respondent.role})"
    return f"document: {interview.document_type or 'untitled'}"


@dataclass(frozen=True)
class InterviewLabel:
    """What a chooser needs about an interview (or document), without loading its text."""

    id: int
    case: str
    respondent: str
    role: str
    file_name: str
    kind: str = "interview"
    document_type: str = ""

    @property
    def label(self) -> str:
        if self.kind == "document":
            return f"{self.case} · document: {self.document_type or 'untitled'} · {self.file_name}"
        return f"{self.case} · {self.respondent} ({self.role}) · {self.file_name}"


def interview_labels(session: Session, study: Study) -> list[InterviewLabel]:
    """Every interview and document of the study for pickers (researchers only; no text is read)."""
    query = (
        select(Interview.id, Case.public_label, func.coalesce(Respondent.name, ""), func.coalesce(Respondent.role, ""),
               Interview.file_name, Interview.kind, Interview.document_type)
        .join(Case, Interview.case_id == Case.id)
        .outerjoin(Respondent, Interview.respondent_id == Respondent.id)
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


def consent_withdrawn(interview: Interview) -> bool:
    """True when the interview's respondent withdrew interview consent (never for a document)."""
    return interview.respondent is not None and studies.analysis_blocked(interview.respondent)


def interview_records(session: Session, interviews: list[Interview]) -> list[dict]:
    """The list view: one dict per interview or document (see ``interviews list --format json``);
    ``session_status`` is the interview session's status ("" for a document)."""
    ids = [i.id for i in interviews]
    turns, sentences = _counts(session, SpeakerTurn, ids), _counts(session, Sentence, ids)
    period_ids = sorted({i.period_id for i in interviews if i.period_id is not None})
    period_names = dict(session.execute(select(CasePeriod.id, CasePeriod.name).where(CasePeriod.id.in_(period_ids))).all()) if period_ids else {}
    return [
        {
            "id": i.id,
            "kind": i.kind,
            "case": i.case.public_label,
            "respondent": i.respondent.name if i.respondent else "",
            "role": i.respondent.role if i.respondent else "",
            "document_type": i.document_type,
            "period": period_names.get(i.period_id, ""),
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
            "session_status": i.session_status if i.kind == "interview" else "",
            "observer_note": i.observer_note,
            "checked_at": i.checked_at,
            "guide": i.guide.number if i.guide is not None else None,
            "probe_start_turn": i.probe_start_turn,
            "warnings": list(i.warnings),
            "consent_withdrawn": consent_withdrawn(i),
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


def periods_name(session: Session, period_id: int | None) -> str:
    """The name of a case period by id ("" for none)."""
    if period_id is None:
        return ""
    from casestudy.models import CasePeriod

    period = session.get(CasePeriod, period_id)
    return period.name if period is not None else ""


def require_analysable(interview: Interview) -> None:
    """For later stages: refuse to analyse material of a respondent who withdrew interview consent
    (a document has no respondent and is always analysable)."""
    if interview.respondent is not None:
        studies.require_analysis_allowed(interview.respondent)


def unanalysable_interviews(session: Session, interview_ids: Iterable[int]) -> list[Interview]:
    """The interviews among ``interview_ids`` that :func:`require_analysable` refuses, by id.

    For bulk paths: reads only interview and respondent ids and the respondents' consent records
    (no transcript text, no ORM objects except for the interviews refused).
    """
    ids = sorted(set(interview_ids))
    respondent_of: dict[int, int] = {}
    for chunk in range(0, len(ids), 900):
        respondent_of.update(session.execute(
            select(Interview.id, Interview.respondent_id)
            .where(Interview.id.in_(ids[chunk : chunk + 900]), Interview.respondent_id.is_not(None))).all())
    blocked = studies.analysis_blocked_ids(session, respondent_of.values())
    return [session.get(Interview, iid) for iid, rid in sorted(respondent_of.items()) if rid in blocked]


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
    """Edit the interview session (interviewer, observer, date, duration_minutes, audio_ref,
    session_status, observer_note, checked_at; rules in :mod:`casestudy.interviews.sessions`),
    the notes, a document's ``document_type``, ``period`` (a period name of the case, "" for
    none) or ``probe_start_turn`` (the turn the probes start at, None: found from the guide)."""
    allowed = {"notes", "document_type", "period", "probe_start_turn", *sessions.SESSION_FIELDS}
    unknown = set(changes) - allowed
    if unknown:
        raise UserError(f"cannot edit {', '.join(sorted(unknown))}; editable: {', '.join(sorted(allowed))}")
    if "date" in changes:
        changes["date"] = _parse_date(interview.file_name, changes["date"])
    if changes.get("duration_minutes") is not None and int(changes["duration_minutes"]) < 0:
        raise UserError("the duration cannot be negative")
    if "document_type" in changes:
        if interview.kind != "document":
            raise UserError(f"{interview.file_name} is an interview: only a document has a document type")
        changes["document_type"] = (changes["document_type"] or "").strip()[:100]
    if "period" in changes:
        changes["period_id"] = periods.period_id_for(session, interview.case, changes.pop("period"))
    if changes.get("probe_start_turn") is not None:
        turn = int(changes["probe_start_turn"])
        last = session.scalar(select(func.max(SpeakerTurn.ordinal)).where(SpeakerTurn.interview_id == interview.id))
        if interview.kind != "interview" or last is None or not 0 <= turn <= last:
            raise UserError(f"interview {interview.id} has no turn {turn}" + (f"; its turns are 0-{last}" if last is not None else ""))
        changes["probe_start_turn"] = turn
    changes = sessions.check_session_changes(interview, changes)
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
def stage_status(session: Session, case: Case) -> StageStatus:
    """Done when every respondent who has not withdrawn the interview consent has a transcript
    (documents of the case are counted in the summary, they are not required)."""
    with_transcript = set(session.scalars(select(Interview.respondent_id).where(Interview.case_id == case.id, Interview.kind == "interview")))
    if not case.respondents:
        return status.not_started("interviews: add the respondents of the case, then import their transcripts")
    count = session.scalar(select(func.count()).select_from(Interview).where(Interview.case_id == case.id, Interview.kind == "interview")) or 0
    documents = session.scalar(select(func.count()).select_from(Interview).where(Interview.case_id == case.id, Interview.kind == "document")) or 0
    blocked = sum(studies.analysis_blocked(r) for r in case.respondents)
    missing = [r for r in case.respondents if r.id not in with_transcript and not studies.analysis_blocked(r)]
    summary = (status.plural(count, "transcript") + (f", {status.plural(documents, 'document')}" if documents else "")
               + (f"; {blocked} consent withdrawn" if blocked else ""))
    if not count:
        return status.not_started(f"interviews: import the transcripts of {status.plural(len(missing), 'respondent')}")
    if missing:
        names = status.names_and([r.name for r in missing])
        return status.still_open(summary, f"interviews: import the transcript of {names}")
    return status.done(summary)


def set_interview_period(session: Session, study: Study, interview_id: int | str, period: str | None) -> Interview:
    """Tie an interview to a period of its case by name (case ignored), or with None/"" untie it.
    Its codings take this period unless a coding names its own (see :func:`update_metadata`)."""
    return update_metadata(session, get_interview(session, study, interview_id), period=period)
