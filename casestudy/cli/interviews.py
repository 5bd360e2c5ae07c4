"""Interview commands: import (transcripts and other documents, files or a manifest), list, show,
text, speakers, edit, sessions, delete, period; the interview guide (``guide import|list|show|export|assign|turns``)."""

from __future__ import annotations

import sys

from pathlib import Path

from casestudy.cli import Context, add_format_option, files, lazy_module
from casestudy.errors import UserError
from casestudy.interviews import constants

store = lazy_module("casestudy.interviews.store")
sessions = lazy_module("casestudy.interviews.sessions")
guides = lazy_module("casestudy.interviews.guide")
elicitation = lazy_module("casestudy.coding.elicitation")  # the turn suggestions the codings take

LIST_COLUMNS = ["id", "kind", "case", "respondent", "role", "period", "file", "characters", "turns", "language", "date", "interviewer",
                "observer", "session_status", "consent_withdrawn"]


def _study_and_interview(ctx: Context, session):
    study = ctx.study(session)
    return study, store.get_interview(session, study, ctx.args.id)


def cmd_import(ctx: Context):
    a = ctx.args
    if a.kind == "interview" and not a.respondent:
        raise UserError("an interview needs --respondent (a document: --kind document --document-type TYPE)")
    read = [store.read_file(path) for path in a.files]
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        items = [
            store.ImportItem(name, data, a.case, a.respondent or "", a.role, a.language, a.date, a.interviewer or "", a.observer or "",
                             a.duration, a.audio or "", a.notes or "", kind=a.kind, document_type=a.document_type or "", period=a.period)
            for name, data in read
        ]
        imported = store.import_interviews(session, study, items)
        records = store.interview_records(session, imported)
    _print_imported(records)


def _print_imported(records: list[dict]) -> None:
    for r in records:
        who = f"{r['respondent']} ({r['role']})" if r["kind"] == "interview" else f"document: {r['document_type'] or 'untitled'}"
        print(f"imported {r['file']} as {r['kind']} {r['id']}: {r['case']}, {who}, "
              f"{r['encoding']}, {r['characters']} characters, {r['turns']} turns, {r['sentences']} sentences")
        for warning in r["warnings"]:
            print(f"  warning: {warning}")


def cmd_import_manifest(ctx: Context):
    with ctx.store.write("cli") as session:
        imported = store.import_manifest(session, ctx.study(session), ctx.args.manifest)
        records = store.interview_records(session, imported)
    _print_imported(records)


def cmd_list(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        ctx.emit(store.interview_records(session, store.list_interviews(session, study)), None if ctx.format == "json" else LIST_COLUMNS)


def cmd_show(ctx: Context):
    with ctx.store.read() as session:
        _, interview = _study_and_interview(ctx, session)
        detail = store.interview_detail(session, interview)
    if ctx.format in ("json", "yaml"):
        ctx.emit(detail)
        return
    summary = {k: v for k, v in detail.items() if k not in ("turns", "sentences")}
    ctx.emit(summary)
    print()
    ctx.emit(detail["turns"], ["ordinal", "line", "speaker", "role", "start", "end", "time"])


def cmd_text(ctx: Context):
    with ctx.store.read() as session:
        _, interview = _study_and_interview(ctx, session)
        text = interview.text
    if ctx.args.line_numbers:
        width = len(str(text.count("\n") + 1))
        text = "\n".join(f"{n:>{width}}  {line}" for n, line in enumerate(text.split("\n"), start=1))
    sys.stdout.write(text)


def cmd_speakers(ctx: Context):
    mapping = {}
    for pair in ctx.args.set or []:
        label, sep, role = pair.rpartition("=")
        if not sep or not label:
            raise UserError(f"invalid --set {pair!r}; use LABEL=ROLE, e.g. 'R=respondent'")
        mapping[label] = role
    with ctx.store.write("cli") as session:
        _, interview = _study_and_interview(ctx, session)
        if mapping:
            store.set_speaker_roles(session, interview, mapping)
        roles = dict(interview.speaker_roles)
    ctx.emit([{"speaker": label, "role": role} for label, role in roles.items()], ["speaker", "role"])


#: ``interviews edit`` option -> field of ``store.update_metadata``.
EDIT_OPTIONS = {"interviewer": "interviewer", "observer": "observer", "date": "date", "notes": "notes", "duration": "duration_minutes",
                "audio": "audio_ref", "status": "session_status", "observer_note": "observer_note", "checked_at": "checked_at",
                "document_type": "document_type", "period": "period", "probe_start": "probe_start_turn"}


def cmd_edit(ctx: Context):
    a = ctx.args
    changes = {field: getattr(a, option) for option, field in EDIT_OPTIONS.items() if getattr(a, option, None) is not None}
    if getattr(a, "probe_start_auto", False):
        changes["probe_start_turn"] = None
    if not changes:
        raise UserError("nothing to change; give --" + ", --".join(o.replace("_", "-") for o in EDIT_OPTIONS))
    with ctx.store.write("cli") as session:
        _, interview = _study_and_interview(ctx, session)
        store.update_metadata(session, interview, **changes)
        print(f"updated interview {interview.id}: {', '.join(sorted(changes))}")


def cmd_sessions(ctx: Context):
    """The interview sessions: interviewer, observer, date, duration, audio, status (documents left out)."""
    with ctx.store.read() as session:
        study = ctx.study(session)
        rows = [sessions.session_record(i) for i in store.list_interviews(session, study, principal=ctx.principal(session)) if i.kind == "interview"]
    ctx.emit(rows, None if ctx.format == "json" else list(sessions.SESSION_COLUMNS))


def cmd_delete(ctx: Context):
    with ctx.store.write("cli") as session:
        _, interview = _study_and_interview(ctx, session)
        name = interview.file_name
        store.delete_interview(session, interview)
    print(f"deleted interview {ctx.args.id} ({name})")


def cmd_period(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        interview = store.set_interview_period(session, ctx.study(session), a.id, None if a.clear else a.period)
    print(f"interview {interview.id}: " + (f"period {a.period}" if interview.period_id else "no period"))


# --- the interview guide --------------------------------------------------------------------
def cmd_guide_import(ctx: Context):
    path = Path(ctx.args.file)
    data = files.read_bytes(path, "interview guide")
    guide = guides.read_guide(path.name, data, ctx.args.input_format)
    with ctx.store.write("cli") as session:
        stored, what = guides.store_guide(session, ctx.study(session), guide, ctx.username or "cli", ctx.args.note or "")
        number = stored.number
    items = guide.items()
    print(f"{'stored' if what == 'added' else 'unchanged:'} interview guide version {number} ({guide.title}): {len(guide.topics)} topic(s), "
          f"{sum(i.kind == 'open' for i in items)} open question(s), {sum(i.kind == 'probe' for i in items)} probe(s)")


def cmd_guide_list(ctx: Context):
    with ctx.store.read() as session:
        rows = guides.guide_records(session, ctx.study(session))
    ctx.emit(rows, None if ctx.format == "json" else ["number", "title", "topics", "open", "probes", "interviews", "created_by", "created_at", "note"])


def cmd_guide_show(ctx: Context):
    a = ctx.args
    with ctx.store.read() as session:
        stored = guides.get_guide(session, ctx.study(session), a.version)
        guide, number = guides.guide_of(stored), stored.number
    if ctx.format in ("json", "yaml"):
        ctx.emit({"number": number, **guide.as_document()})
        return
    print(guides.guide_markdown(guide, a.role, number), end="")


def cmd_guide_export(ctx: Context):
    a = ctx.args
    with ctx.store.read() as session:
        stored = guides.get_guide(session, ctx.study(session), a.version)
        data = guides.export_guide(guides.guide_of(stored), a.format, stored.number)
    ctx.write(data, "this format (e.g. --output guide.docx)")


def cmd_guide_assign(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        interview = store.get_interview(session, study, a.interview_id)
        guides.set_interview_guide(session, interview, None if a.newest else a.version)
    print(f"interview {a.interview_id} follows " + ("the newest guide version" if a.newest else f"guide version {a.version}"))


def cmd_guide_turns(ctx: Context):
    """How each turn of an interview was asked, by the guide it followed."""
    with ctx.store.read() as session:
        study = ctx.study(session)
        interview = store.get_interview(session, study, ctx.args.interview_id, principal=ctx.principal(session))
        turns = {t.ordinal: t for t in store.turns_of(session, interview)}
        rows = [{"turn": s.turn, "speaker": turns[s.turn].speaker, "role": turns[s.turn].role, "elicitation": s.value,
                 "item": s.item.key if s.item else "", "asked_turn": s.asked_turn, "reason": s.reason}
                for s in elicitation.turn_suggestions(session, interview)]
    if not rows:
        raise UserError(f"interview {ctx.args.interview_id} has no turns to tell (a document, or no turns found)")
    ctx.emit(rows, None if ctx.format == "json" else ["turn", "speaker", "role", "elicitation", "item", "asked_turn", "reason"])


def register_guide(subparsers) -> None:
    group = subparsers.add_parser("guide", help="the study's interview guide: open questions and probes, versioned").add_subparsers(
        dest="guide_command", required=True)
    p = group.add_parser("import", help="store a guide from YAML or CSV as the newest version (same as the newest: unchanged)")
    p.set_defaults(handler=cmd_guide_import)
    p.add_argument("file", help=".yaml/.yml or .csv ('-' for standard input with --input-format)")
    p.add_argument("--input-format", choices=list(constants.GUIDE_IMPORT_FORMATS), help="default: from the file name")
    p.add_argument("--note", help="what changed in this version")
    p = group.add_parser("list", help="the stored guide versions")
    p.set_defaults(handler=cmd_guide_list)
    add_format_option(p)
    p = group.add_parser("show", help="a guide version to read (Markdown; --format json for the data)")
    p.set_defaults(handler=cmd_guide_show)
    p.add_argument("--version", type=int, help="default: the newest")
    p.add_argument("--role", choices=["manager", "therapist", "other"],
                   help="only what is meant for respondents of this role")
    add_format_option(p, ("table", "json", "yaml"))
    p = group.add_parser("export", help="a guide version as YAML or CSV (both import back), Markdown or DOCX")
    p.set_defaults(handler=cmd_guide_export)
    p.add_argument("--version", type=int, help="default: the newest")
    p.add_argument("--format", choices=list(constants.GUIDE_FORMATS), default="yaml")
    p.add_argument("--output", help="file to write (needed for docx)")
    p = group.add_parser("assign", help="say which guide version an interview followed")
    p.set_defaults(handler=cmd_guide_assign)
    p.add_argument("interview_id", type=int)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", type=int)
    which.add_argument("--newest", action="store_true", help="follow the newest version, whichever it is")
    p = group.add_parser("turns", help="per turn of an interview: spontaneous or after a probe, the guide item asked, and why")
    p.set_defaults(handler=cmd_guide_turns)
    p.add_argument("interview_id", type=int)
    add_format_option(p)


def _metadata_options(p, with_date: bool = True) -> None:
    p.add_argument("--interviewer")
    p.add_argument("--observer")
    p.add_argument("--duration", type=int, help="minutes")
    p.add_argument("--audio", help="reference to the audio file")
    p.add_argument("--notes")
    p.add_argument("--document-type", help="for a document: what it is, e.g. 'meeting minutes', 'incident log'")
    p.add_argument("--period", help="one of the case's periods (by name)")
    if with_date:
        p.add_argument("--date", help="YYYY-MM-DD")


def _by_id(group, name: str, help_text: str, handler, formats: bool = False):
    parser = group.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    parser.add_argument("id", type=int)
    if formats:
        add_format_option(parser)
    return parser


def register(subparsers) -> None:
    register_guide(subparsers)
    group = subparsers.add_parser("interviews", help="interview transcripts").add_subparsers(dest="interviews_command", required=True)

    p = group.add_parser("import", help="import transcripts (all files or none)")
    p.set_defaults(handler=cmd_import)
    p.add_argument("files", nargs="+", metavar="FILE", help=".txt .md .docx .vtt .srt .odt .pdf")
    p.add_argument("--case", required=True, help="case label, e.g. 'Case A' or 'Unit 4'")
    p.add_argument("--kind", choices=list(constants.SOURCE_KINDS), default="interview",
                   help="document: minutes, a report, an incident log... (no respondent)")
    p.add_argument("--respondent", help="respondent name (registered in the case); not for a document")
    p.add_argument("--role", choices=["manager", "therapist", "other"], help="checked against the respondent's role")
    p.add_argument("--language", help="nl, en, ... (default: the study language)")
    _metadata_options(p)

    p = group.add_parser("import-manifest", help="import every file of a manifest CSV (file,case,respondent,role,language,date"
                         "[,kind,document_type,period]), all or none")
    p.set_defaults(handler=cmd_import_manifest)
    p.add_argument("manifest", metavar="MANIFEST.csv", help="file paths are relative to the manifest's folder")

    p = group.add_parser("list", help="list imported interviews")
    p.set_defaults(handler=cmd_list)
    add_format_option(p)

    _by_id(group, "show", "one interview with its turns and sentences", cmd_show, formats=True)
    p = _by_id(group, "text", "print the stored normalised text exactly", cmd_text)
    p.add_argument("--line-numbers", action="store_true", help="prefix each line with its number (as used for citation)")
    p = _by_id(group, "speakers", "show or change the speaker mapping", cmd_speakers, formats=True)
    p.add_argument("--set", action="append", metavar="LABEL=ROLE", help="role: interviewer, respondent or other; repeatable")
    p = _by_id(group, "edit", "edit an interview's session and details (or a document's type and period)", cmd_edit)
    _metadata_options(p)
    p.add_argument("--status", choices=list(constants.SESSION_STATUSES), help="checked: the observer checked the interview")
    p.add_argument("--observer-note", help="the observer's note on the check")
    p.add_argument("--checked-at", help="YYYY-MM-DD (default: today when the status becomes checked)")
    probe = p.add_mutually_exclusive_group()
    probe.add_argument("--probe-start", type=int, metavar="TURN", help="the turn at which the probes started (for elicitation)")
    probe.add_argument("--probe-start-auto", action="store_true", help="find the start of the probes from the guide again")
    p = group.add_parser("sessions", help="interview sessions: interviewer, observer, date, duration, audio, status, observer's note")
    p.set_defaults(handler=cmd_sessions)
    add_format_option(p)
    _by_id(group, "delete", "delete an interview with its turns and sentences", cmd_delete)
    p = _by_id(group, "period", "tie an interview to a period of its case (its codings take it), or --clear", cmd_period)
    p.add_argument("period", nargs="?", help="period name, e.g. PRE-REORG")
    p.add_argument("--clear", action="store_true")
