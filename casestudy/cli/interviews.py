"""Interview commands: import (files or a manifest), list, show, text, speakers, edit, delete."""

from __future__ import annotations

import sys

from casestudy.cli import Context, add_format_option, lazy_module
from casestudy.errors import UserError

store = lazy_module("casestudy.interviews.store")

LIST_COLUMNS = ["id", "case", "respondent", "role", "file", "encoding", "characters", "turns", "sentences", "language", "consent_withdrawn"]


def _study_and_interview(ctx: Context, session):
    study = ctx.study(session)
    return study, store.get_interview(session, study, ctx.args.id)


def cmd_import(ctx: Context):
    a = ctx.args
    files = [store.read_file(path) for path in a.files]
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        items = [
            store.ImportItem(name, data, a.case, a.respondent, a.role, a.language, a.date, a.interviewer or "", a.observer or "",
                                  a.duration, a.audio or "", a.notes or "")
            for name, data in files
        ]
        imported = store.import_interviews(session, study, items)
        records = store.interview_records(session, imported)
    _print_imported(records)


def _print_imported(records: list[dict]) -> None:
    for r in records:
        print(f"imported {r['file']} as interview {r['id']}: {r['case']}, {r['respondent']} ({r['role']}), "
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


def cmd_edit(ctx: Context):
    a = ctx.args
    changes = {key: getattr(a, key) for key in ("interviewer", "observer", "date", "notes") if getattr(a, key) is not None}
    if a.duration is not None:
        changes["duration_minutes"] = a.duration
    if a.audio is not None:
        changes["audio_ref"] = a.audio
    if not changes:
        raise UserError("nothing to change; give --interviewer, --observer, --date, --duration, --audio or --notes")
    with ctx.store.write("cli") as session:
        _, interview = _study_and_interview(ctx, session)
        store.update_metadata(session, interview, **changes)
        print(f"updated interview {interview.id}: {', '.join(sorted(changes))}")


def cmd_delete(ctx: Context):
    with ctx.store.write("cli") as session:
        _, interview = _study_and_interview(ctx, session)
        name = interview.file_name
        store.delete_interview(session, interview)
    print(f"deleted interview {ctx.args.id} ({name})")


def _metadata_options(p, with_date: bool = True) -> None:
    p.add_argument("--interviewer")
    p.add_argument("--observer")
    p.add_argument("--duration", type=int, help="minutes")
    p.add_argument("--audio", help="reference to the audio file")
    p.add_argument("--notes")
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
    group = subparsers.add_parser("interviews", help="interview transcripts").add_subparsers(dest="interviews_command", required=True)

    p = group.add_parser("import", help="import transcripts (all files or none)")
    p.set_defaults(handler=cmd_import)
    p.add_argument("files", nargs="+", metavar="FILE", help=".txt .md .docx .vtt .srt .odt .pdf")
    p.add_argument("--case", required=True, help="case label, e.g. 'Case A' or 'Unit 4'")
    p.add_argument("--respondent", required=True, help="respondent name (registered in the case)")
    p.add_argument("--role", choices=["manager", "therapist", "other"], help="checked against the respondent's role")
    p.add_argument("--language", help="nl, en, ... (default: the study language)")
    _metadata_options(p)

    p = group.add_parser("import-manifest", help="import every file of a manifest CSV (file,case,respondent,role,language,date), all or none")
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
    _metadata_options(_by_id(group, "edit", "edit interview metadata", cmd_edit))
    _by_id(group, "delete", "delete an interview with its turns and sentences", cmd_delete)
