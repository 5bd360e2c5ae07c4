"""Coding commands: codings import/export/list/apply/remove, retrieve, matrix, agreement, memos, suggest."""

from __future__ import annotations

from pathlib import Path

from casestudy.cli import Context, add_format_option, files, lazy_module
from casestudy.cli.output import plain
from casestudy.coding import constants as coding_constants

codebook = lazy_module("casestudy.codebook.tree")
studies = lazy_module("casestudy.study")
coding_suggestions = lazy_module("casestudy.coding.suggestions")
agreement = lazy_module("casestudy.coding.agreement")
comparison = lazy_module("casestudy.coding.comparison")
matrices = lazy_module("casestudy.coding.matrices")
retrieval = lazy_module("casestudy.coding.retrieval")
spans = lazy_module("casestudy.coding.spans")
store = lazy_module("casestudy.interviews.store")


def _output(ctx: Context, data: str | bytes, default_name: str) -> None:
    ctx.write(data, f"this format (e.g. --output {default_name})")


def _filter(session, study, args) -> retrieval.SegmentFilter:
    flt = retrieval.SegmentFilter()
    if getattr(args, "code", None):
        flt.code_ids = [codebook.get_code(session, study, c).id for c in args.code]
    if getattr(args, "level", None):
        flt.level = args.level
    if getattr(args, "case", None):
        flt.case_ids = [studies.get_case(session, study, c).id for c in args.case]
    if getattr(args, "role", None):
        flt.role = studies.normalise_role(args.role)
    if getattr(args, "coder", None):
        flt.coder_ids = [spans.get_coder(session, c).id for c in args.coder]
    if getattr(args, "interview", None):
        flt.interview_ids = [store.get_interview(session, study, i).id for i in args.interview]
    return flt


def cmd_import(ctx: Context):
    path = Path(ctx.args.file)
    data = files.read_bytes(path, "codings")
    with ctx.store.write("cli") as session:
        report = spans.import_codings_csv(session, ctx.study(session), data, path.name)
    print(report.summary(path.name))


def cmd_export(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        data = retrieval.export_segments(session, study, ctx.args.format or "csv", _filter(session, study, ctx.args))
    _output(ctx, data, "segments.xlsx")


def cmd_list(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        interview = store.get_interview(session, study, ctx.args.interview_id)
        coder = spans.get_coder(session, ctx.args.blind_as) if ctx.args.blind_as else None
        paths = codebook.code_paths(codebook.all_codes(session, study))
        rows = [
            {"id": c.id, "code": paths.get(c.code_id, ""), "coder": c.coder.username, "start": c.start, "end": c.end,
             "start_line": c.start_line, "end_line": c.end_line, "text": interview.text[c.start : c.end], "memo": c.memo, "version": c.version}
            for c in spans.codings_of(session, interview, coder)
        ]
    ctx.emit(rows, ["id", "code", "coder", "start", "end", "start_line", "end_line", "text", "memo", "version"])


def cmd_apply(ctx: Context):
    a = ctx.args
    with ctx.store.write(a.coder) as session:
        study = ctx.study(session)
        interview = store.get_interview(session, study, a.interview_id)
        codes = [codebook.get_code(session, study, c) for c in a.code]
        created = spans.apply_codes(session, interview, codes, spans.get_coder(session, a.coder), a.start, a.end, a.memo or "")
        print(f"coded {a.start}-{a.end} of {interview.file_name} with {len(created)} code(s): ids {', '.join(str(c.id) for c in created)}")


def cmd_remove(ctx: Context):
    with ctx.store.write("cli") as session:
        spans.remove_coding(session, ctx.args.coding_id, ctx.study(session))
    print(f"removed coding {ctx.args.coding_id}")


def cmd_retrieve(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        rows = retrieval.segments(session, study, _filter(session, study, ctx.args), with_context=ctx.format == "json")
    ctx.emit(rows, None if ctx.format == "json" else ["case", "respondent", "role", "code", "coder", "start_line", "text"])


def cmd_matrix(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        flt = _filter(session, study, ctx.args)
        if ctx.args.kind == "cooccurrence":
            labels, matrix = matrices.cooccurrence_matrix(session, study, flt)
            rows, columns = labels, labels
        else:
            rows, columns, matrix = matrices.case_code_matrix(session, study, ctx.args.measure, flt)
    fmt = ctx.args.format or "table"
    if fmt in ("csv", "xlsx"):
        _output(ctx, matrices.matrix_table(rows, columns, matrix, fmt, "code" if ctx.args.kind == "cooccurrence" else "case"), "matrix.xlsx")
        return
    ctx.emit([{"": label, **dict(zip(columns, values))} for label, values in zip(rows, matrix)] if fmt == "table"
             else {"rows": rows, "columns": columns, "matrix": matrix})


def cmd_agreement(ctx: Context):
    with ctx.store.read() as session:
        report = comparison.agreement_report(session, ctx.study(session), ctx.args.coders, ctx.args.unit, [int(i) for i in ctx.args.interviews or []] or None)
    if ctx.format == "json":
        ctx.emit(plain(report))
        return
    print(f"unit: {report.unit}; coders: {', '.join(report.coders)}")
    print(report.formula)
    if ctx.format == "table":  # printed: rounded half up, one number of decimals per column
        columns, rows = agreement.agreement_table(report)
        ctx.emit([dict(zip(columns, ("" if v is None else str(v) for v in row))) for row in rows], columns)
        return
    ctx.emit([plain(a) for a in report.per_code + [report.overall]], ["code", "units", "percent_agreement", "kappa", "alpha"])


def cmd_memo_add(ctx: Context):
    a = ctx.args
    with ctx.store.write(a.author) as session:
        study = ctx.study(session)
        memo = spans.add_memo(session, study, a.target_type, a.target_id, spans.get_coder(session, a.author), a.text, a.title or "")
        print(f"added memo {memo.id}")


def cmd_memo_list(ctx: Context):
    with ctx.store.read() as session:
        ctx.emit(spans.memos(session, ctx.study(session), ctx.args.kind, ctx.args.author, ctx.args.text), ["kind", "target", "author", "title", "text", "updated"])


def cmd_suggest(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        model = coding_suggestions.train_suggestions(session, study, ctx.args.min_examples)
        interview = store.get_interview(session, study, ctx.args.interview_id)
        found = coding_suggestions.suggest_for(session, study, model, interview, ctx.args.threshold)
        paths = codebook.code_paths(codebook.all_codes(session, study))
        quality = [{**q, "code": paths.get(q["code_id"], "")} for q in coding_suggestions.suggestion_quality(model)]
    if ctx.format == "json":
        ctx.emit({"quality": quality, "suggestions": found})
        return
    ctx.emit(quality, ["code", "coded_sentences", "cv_precision", "cv_recall", "folds"])
    ctx.emit(found, ["sentence_id", "code", "confidence", "text"])


def cmd_decide(ctx: Context):
    a = ctx.args
    with ctx.store.write(a.coder) as session:
        study = ctx.study(session)
        created = coding_suggestions.decide_suggestion(session, study, a.sentence_id, codebook.get_code(session, study, a.code), spans.get_coder(session, a.coder), a.decision == "accept")
    print("accepted: coding " + str(created.id) if created else "rejected")


def _filters(parser) -> None:
    parser.add_argument("--code", action="append", help="code path (repeatable)")
    parser.add_argument("--level")
    parser.add_argument("--case", action="append")
    parser.add_argument("--role", help="manager, therapist or other")
    parser.add_argument("--coder", action="append")
    parser.add_argument("--interview", action="append", help="interview id (repeatable)")


def register(subparsers) -> None:
    group = subparsers.add_parser("codings", help="span codings").add_subparsers(dest="codings_command", required=True)
    p = group.add_parser("import", help="import codings from CSV: interview,coder,code,start,end[,memo] (all or nothing)")
    p.add_argument("file")
    p.set_defaults(handler=cmd_import)
    p = group.add_parser("export", help="one row per coded segment")
    p.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    p.add_argument("--output")
    _filters(p)
    p.set_defaults(handler=cmd_export)
    p = group.add_parser("list", help="the codings of one interview")
    p.add_argument("interview_id")
    p.add_argument("--blind-as", help="show only this coder's codings")
    add_format_option(p)
    p.set_defaults(handler=cmd_list)
    p = group.add_parser("apply", help="apply code(s) to a span [start, end) in code points")
    p.add_argument("interview_id")
    p.add_argument("--code", action="append", required=True)
    p.add_argument("--coder", required=True)
    p.add_argument("--start", type=int, required=True)
    p.add_argument("--end", type=int, required=True)
    p.add_argument("--memo")
    p.set_defaults(handler=cmd_apply)
    p = group.add_parser("remove", help="remove a coding")
    p.add_argument("coding_id", type=int)
    p.set_defaults(handler=cmd_remove)

    p = subparsers.add_parser("retrieve", help="coded segments by code, level, case, role, coder")
    _filters(p)
    add_format_option(p)
    p.set_defaults(handler=cmd_retrieve)

    p = subparsers.add_parser("matrix", help="case x code or code co-occurrence matrix")
    p.add_argument("kind", choices=["case-code", "cooccurrence"], nargs="?", default="case-code")
    p.add_argument("--measure", choices=list(coding_constants.MATRIX_MEASURES), default="counts")
    p.add_argument("--format", choices=["table", "json", "csv", "xlsx"])
    p.add_argument("--output")
    _filters(p)
    p.set_defaults(handler=cmd_matrix)

    p = subparsers.add_parser("agreement", help="inter-coder agreement (percent, Cohen's kappa, Krippendorff's alpha)")
    p.add_argument("--coders", nargs="+", required=True)
    p.add_argument("--interviews", nargs="*")
    p.add_argument("--unit", choices=["character", "sentence"], default="character")
    add_format_option(p)
    p.set_defaults(handler=cmd_agreement)

    memo = subparsers.add_parser("memos", help="memos").add_subparsers(dest="memos_command", required=True)
    p = memo.add_parser("add", help="add a memo to a coding, code, interview or case")
    p.add_argument("target_type", choices=["coding", "code", "interview", "case"])
    p.add_argument("target_id", type=int)
    p.add_argument("--author", required=True)
    p.add_argument("--text", required=True)
    p.add_argument("--title")
    p.set_defaults(handler=cmd_memo_add)
    p = memo.add_parser("list", help="every memo, filtered")
    p.add_argument("--kind")
    p.add_argument("--author")
    p.add_argument("--text")
    add_format_option(p)
    p.set_defaults(handler=cmd_memo_list)

    p = subparsers.add_parser("suggest", help="suggest codes for an interview's uncoded sentences")
    p.add_argument("interview_id")
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--min-examples", type=int, default=8)
    add_format_option(p)
    p.set_defaults(handler=cmd_suggest)
    p = subparsers.add_parser("suggestion", help="accept or reject a suggestion")
    p.add_argument("decision", choices=["accept", "reject"])
    p.add_argument("sentence_id", type=int)
    p.add_argument("--code", required=True)
    p.add_argument("--coder", required=True)
    p.set_defaults(handler=cmd_decide)
