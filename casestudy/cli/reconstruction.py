"""Reconstruction and member-check commands: versions, diffs, case summary, rounds, answers, history."""

from __future__ import annotations

from pathlib import Path

from casestudy.cli import Context, add_command, files, lazy_module
from casestudy.errors import UserError

studies = lazy_module("casestudy.study")
app_settings = lazy_module("casestudy.settings")
documents = lazy_module("casestudy.reconstruction.documents")
reconstruction_membercheck = lazy_module("casestudy.reconstruction.membercheck")
reconstruction_narrative = lazy_module("casestudy.reconstruction.narrative")
reconstruction_references = lazy_module("casestudy.reconstruction.references")
reconstruction_summary = lazy_module("casestudy.reconstruction.summary")


def _write_file(path: str, data: bytes | str) -> None:
    try:
        target = Path(path)
        target.write_bytes(data) if isinstance(data, bytes) else target.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}")


def _case(ctx: Context, session, minimum: str | None = None):
    return studies.get_case(session, ctx.study(session, minimum), ctx.args.case)


def _version_record(v) -> dict:
    return {"number": v.number, "status": v.status, "locked": v.locked, "author": v.author, "created_at": v.created_at,
            "change_note": v.change_note, "words": reconstruction_narrative.word_count(v.text), "content_hash": v.content_hash}


# --- reconstruction -------------------------------------------------------------------
def cmd_version(ctx: Context):
    a = ctx.args
    text = files.read_text(a.file, "Markdown")
    summary = files.read_text(a.summary_file, "summary").strip() if a.summary_file else a.summary
    with ctx.store.write(a.author) as session:
        case = _case(ctx, session)
        version = reconstruction_narrative.save_version(session, case, text, a.author, a.note or "", summary)
        ctx.emit(_version_record(version) | {"case": case.public_label})


def cmd_versions(ctx: Context):
    with ctx.store.read() as session:
        ctx.emit([_version_record(v) for v in reconstruction_narrative.list_versions(session, _case(ctx, session))],
                 ["number", "status", "locked", "author", "created_at", "change_note", "words", "content_hash"])


def cmd_show(ctx: Context):
    with ctx.store.read() as session:
        version = reconstruction_narrative.get_version(session, _case(ctx, session), ctx.args.version)
        print(version.text, end="")


def cmd_diff(ctx: Context):
    with ctx.store.read() as session:
        diff = reconstruction_narrative.diff_versions(session, _case(ctx, session), ctx.args.old, ctx.args.new)
    if ctx.format == "json":
        ctx.emit(diff)
    else:
        print(diff["html"] if ctx.args.html else diff["plain"], end="" if diff["plain"].endswith("\n") else "\n")


def cmd_references(ctx: Context):
    with ctx.store.read() as session:
        version = reconstruction_narrative.get_version(session, _case(ctx, session), ctx.args.version)
        ctx.emit(
            [{"reference": s.reference.raw, "kind": s.reference.kind, "resolved": s.resolved is not None,
              "label": s.resolved.label if s.resolved else "", "problem": s.problem} for s in reconstruction_references.resolve_references(session, version.text)],
            ["reference", "kind", "resolved", "label", "problem"],
        )


def cmd_quote(ctx: Context):
    with ctx.store.read() as session:
        reference, excerpt = reconstruction_references.find_quote(session, _case(ctx, session), ctx.args.interview, ctx.args.phrase)
    ctx.emit({"reference": reference, "excerpt": excerpt})


def cmd_summary_set(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        case = _case(ctx, session)
        reconstruction_summary.save_case_summary(
            session, case, a.programme or studies.programme_text(case), a.outcome, a.descriptors or "",
            [reconstruction_summary.parse_determinant(d) for d in a.determinant or []],
            [reconstruction_summary.parse_component_outcome(c) for c in a.component_outcome or []],
        )
        print(f"saved the case summary of {case.public_label}")


def cmd_table1(ctx: Context):
    with ctx.store.read() as session:
        rows = reconstruction_summary.table1_rows(session, ctx.study(session))
    if ctx.format == "json":
        ctx.emit(rows)
        return
    ctx.emit([{**r, "determinants": [f"{d['label']} ({d['polarity']})" for d in r["determinants"]]} for r in rows],
             ["case", "programme", "outcome", "determinants"])


# --- member check ---------------------------------------------------------------------
def cmd_send(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        base = app_settings.link_base(session, explicit=a.base_url)
        result = reconstruction_membercheck.send_to_member_check(session, _case(ctx, session), "cli", a.version, base, a.days)
    if ctx.format in ("json", "csv"):
        ctx.emit(result if ctx.format == "json" else result.links)
        return
    print(f"{result.case}: version {result.version} sent, round {result.round}. Links (shown only now):")
    for link in result.links:
        print(f"  {link.respondent} ({link.role}): {link.link}")


def cmd_respond(ctx: Context):
    a = ctx.args
    comments = reconstruction_membercheck.parse_comments(files.read_text(a.comments_file, "comments")) if a.comments_file else {}
    for item in a.paragraph or []:
        comments.update(reconstruction_membercheck.parse_comments(item))
    with ctx.store.write("cli") as session:
        case = _case(ctx, session)
        respondent = studies.get_respondent(session, case, a.respondent)
        reconstruction_membercheck.record_offline_response(session, case, respondent, a.decision, a.comment or "", comments)
        state = reconstruction_membercheck.case_state(session, case)
    print(f"recorded {respondent.name}'s answer ({a.decision}, {len(comments)} paragraph comment(s)); {case.public_label} is now {state.state}")


def cmd_status(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        if ctx.args.case:
            states = [reconstruction_membercheck.case_state(session, studies.get_case(session, study, ctx.args.case))]
        else:
            states = reconstruction_membercheck.status_all(session, study)
    ctx.emit(states, ["case", "state", "version", "round", "answered", "respondents", "agreed_version", "detail"])


def cmd_dashboard(ctx: Context):
    with ctx.store.read() as session:
        board = reconstruction_membercheck.dashboard(session, _case(ctx, session))
    if ctx.format == "json":
        ctx.emit(board)
        return
    print(f"{board['case']}: {board['state']} ({board['detail']})")
    ctx.emit(board["answers"], ["respondent", "role", "channel", "decision", "submitted_at", "comments", "general_comment"])
    comments = board["comments"] if ctx.args.all else board["open_comments"]
    print(f"\n{'All' if ctx.args.all else 'Open'} comments:")
    ctx.emit(comments, ["id", "round", "respondent", "paragraph", "text", "processed", "processed_how"])


def cmd_process(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        comment = reconstruction_membercheck.mark_processed(session, _case(ctx, session), a.comment_id, a.how or "", "cli", processed=not a.undo)
    print(f"comment {comment.id} marked {'processed' if comment.processed else 'open'}")


def cmd_export(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        case = _case(ctx, session, "viewer")  # an export reads; the write only audits it
        data = documents.version_docx(session, case, a.version)
    _write_file(a.out, data)
    print(f"wrote {a.out}")


def cmd_history(ctx: Context):
    a = ctx.args
    as_docx = bool(a.out and a.out.lower().endswith(".docx"))
    with ctx.store.write("cli") as session:
        case = _case(ctx, session)
        data = documents.history_docx(session, case) if as_docx else documents.history_markdown(session, case)
    if a.out:
        _write_file(a.out, data)
        print(f"wrote {a.out}")
    else:
        print(data, end="")


# --- registration ---------------------------------------------------------------------
def _command(subparsers, name, help_text, handler, formats=False, case=True):
    """A subcommand (:func:`add_command`) that names its case with --case unless ``case`` is False."""
    parser = add_command(subparsers, name, help_text, handler, formats)
    if case:
        parser.add_argument("--case", required=True, help="case label, e.g. 'Case A'")
    return parser


def register(subparsers) -> None:
    r = subparsers.add_parser("reconstruction", help="narrative reconstructions and case summaries").add_subparsers(
        dest="reconstruction_command", required=True)
    p = _command(r, "version", "freeze a Markdown file as the case's next version", cmd_version, formats=True)
    p.add_argument("--file", required=True, help="the Markdown text")
    p.add_argument("--note", help="change note")
    p.add_argument("--summary", help="short summary paragraph (default: keep the draft's)")
    p.add_argument("--summary-file")
    p.add_argument("--author", default="cli")
    _command(r, "versions", "list a case's versions", cmd_versions, formats=True)
    p = _command(r, "show", "print a version's Markdown", cmd_show)
    p.add_argument("--version", type=int, help="default: the latest")
    p = _command(r, "diff", "word-level diff between two versions ([-deleted-] {+inserted+})", cmd_diff, formats=True)
    p.add_argument("old", type=int)
    p.add_argument("new", type=int)
    p.add_argument("--html", action="store_true", help="HTML with <del>/<ins> instead of plain marks")
    p = _command(r, "references", "evidence references in a version and whether they resolve", cmd_references, formats=True)
    p.add_argument("--version", type=int)
    p = _command(r, "quote", "the [[quote:...]] reference for a passage of one of the case's interviews", cmd_quote, formats=True)
    p.add_argument("--interview", type=int, required=True, help="interview id")
    p.add_argument("--phrase", required=True, help="words of the passage (case and spacing are ignored)")
    p = _command(r, "summary", "set the case summary for Table 1", cmd_summary_set)
    p.add_argument("--programme", help="default: the programme components of the case")
    p.add_argument("--outcome", default="unknown", help="positive, mixed, negative or unknown")
    p.add_argument("--descriptors", help="what happened, e.g. 'programme stopped, high turnover'")
    p.add_argument("--determinant", action="append", help="LABEL|facilitator|CODE or LABEL|barrier|CODE, repeatable")
    p.add_argument("--component-outcome", action="append", help="COMPONENT=OUTCOME, e.g. PH=mixed, repeatable")
    _command(r, "table1", "Table 1 rows: programme, outcome, determinants per case", cmd_table1, formats=True, case=False)

    m = subparsers.add_parser("membercheck", help="member checks of reconstructions").add_subparsers(
        dest="membercheck_command", required=True)
    p = _command(m, "send", "send the latest version for review (prints the respondent links once)", cmd_send, formats=True)
    p.add_argument("--version", type=int, help="must be the latest version")
    p.add_argument("--base-url", help="start of the links (default: the public URL, see 'settings show')")
    p.add_argument("--days", type=int, default=90, help="days until the links expire (1-365)")
    p = _command(m, "respond", "record an answer returned offline", cmd_respond)
    p.add_argument("--respondent", required=True)
    p.add_argument("--decision", required=True, choices=["agree", "changes_needed"])
    p.add_argument("--comment", help="general comment")
    p.add_argument("--comments-file", help="paragraph comments, lines 'N: text' (numbers as printed)")
    p.add_argument("--paragraph", action="append", help="'N: text', repeatable")
    p = _command(m, "status", "member-check state of every case", cmd_status, formats=True, case=False)
    p.add_argument("--case", help="only this case")
    p = _command(m, "dashboard", "round, answers and comments of a case", cmd_dashboard, formats=True)
    p.add_argument("--all", action="store_true", help="also processed comments")
    p = _command(m, "process", "mark a comment processed, saying how", cmd_process)
    p.add_argument("--comment-id", type=int, required=True)
    p.add_argument("--how", help="how it was processed")
    p.add_argument("--undo", action="store_true", help="mark it open again")
    p = _command(m, "export", "DOCX of a version with numbered paragraphs for offline review", cmd_export)
    p.add_argument("--version", type=int)
    p.add_argument("--out", required=True)
    p = _command(m, "history", "full history (versions, diffs, rounds, comments, consent) as Markdown or DOCX", cmd_history)
    p.add_argument("--out", help="file name; .docx writes DOCX, anything else Markdown (default: Markdown on stdout)")
