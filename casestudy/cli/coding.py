"""Coding commands: codings import/export/list/stripes/apply/move/recode/remove, coding undo/redo/history,
blind, emergent, relations; retrieve, matrix, agreement, memos, suggest.

Reading commands act as the global ``--user`` (blind coding shows a coder only their own
codings), else as the operator; writing commands act as the coder they name (``--coder``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from casestudy.cli import Context, add_format_option, files, lazy_module
from casestudy.cli.output import plain
from casestudy.coding import constants as coding_constants
from casestudy.errors import UserError

codebook = lazy_module("casestudy.codebook.tree")
studies = lazy_module("casestudy.study")
coding_suggestions = lazy_module("casestudy.coding.suggestions")
agreement = lazy_module("casestudy.coding.agreement")
comparison = lazy_module("casestudy.coding.comparison")
matrices = lazy_module("casestudy.coding.matrices")
retrieval = lazy_module("casestudy.coding.retrieval")
stripes = lazy_module("casestudy.coding.stripes")
spans = lazy_module("casestudy.coding.spans")
history = lazy_module("casestudy.coding.history")
relations = lazy_module("casestudy.coding.relations")
blinding = lazy_module("casestudy.coding.blinding")
store = lazy_module("casestudy.interviews.store")
elicitation = lazy_module("casestudy.coding.elicitation")


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
    if getattr(args, "period", None):
        flt.periods = list(args.period)
    flt.elicitation = getattr(args, "elicitation", None)
    return flt


def cmd_import(ctx: Context):
    path = Path(ctx.args.file)
    data = files.read_bytes(path, "codings")
    # Checked and staged without the write lock; only the final move holds it (the panel keeps saving).
    report = ctx.store.staged_write("cli", lambda session: spans.prepare_codings_import(session, ctx.study(session), data, path.name),
                                    spans.store_codings_import)
    print(report.summary(path.name))


def cmd_export(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        data = retrieval.export_segments(session, study, ctx.args.format or "csv", _filter(session, study, ctx.args), principal=ctx.principal(session))
    _output(ctx, data, "segments.xlsx")


def cmd_list(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        interview = store.get_interview(session, study, ctx.args.interview_id)
        coder = spans.get_coder(session, ctx.args.blind_as) if ctx.args.blind_as else None
        principal = ctx.principal(session)
        paths = codebook.code_paths(codebook.all_codes(session, study))
        periods = spans.coding_periods(session, interview)
        rows = [
            {"id": c.id, "code": paths.get(c.code_id, ""), "coder": c.coder.username, "start": c.start, "end": c.end,
             "start_line": c.start_line, "end_line": c.end_line, "text": interview.text[c.start : c.end], "memo": c.memo,
             **periods.record(c.id), "elicitation": c.elicitation, "elicitation_manual": c.elicitation_manual, "version": c.version}
            for c in spans.codings_of(session, interview, coder, principal=principal)
        ]
    ctx.emit(rows, ["id", "code", "coder", "start", "end", "start_line", "end_line", "text", "memo", "period", "elicitation", "version"])


def cmd_stripes(ctx: Context):
    """The coding stripes of an interview as the workbench draws them: lane, colour, level marker.

    Like the workbench, an interview with more than ``stripes.MAX_MARKS`` codings is shown one
    passage at a time (``--passage``, 1-based; the count goes to stderr), or narrowed with
    ``--code`` / ``--coder``."""
    a = ctx.args
    with ctx.store.read() as session:
        study = ctx.study(session)
        interview = store.get_interview(session, study, a.interview_id)
        codes = {c.id: c for c in codebook.all_codes(session, study)}
        paths = codebook.code_paths(codes.values())
        window = stripes.workbench_window(
            session, interview.id, ctx.principal(session), passage=(a.passage or 1) - 1,
            code_id=codebook.get_code(session, study, a.code).id if a.code else None,
            coder_id=spans.get_coder(session, a.coder).id if a.coder else None)
        rows = [
            {"id": m[0], "code": paths.get(m[1], ""), "coder": m[2], "start": m[3], "end": m[4], "lane": m[6],
             "colour": stripes.code_colour(m[1], codes[m[1]].colour), "marker": stripes.level_marker(codes[m[1]].level, study.levels),
             "level": codes[m[1]].level}
            for m in window.marks
        ]
    if window.paged:
        low, high = window.passages[window.passage]
        print(f"{window.total} codings match: passage {window.passage + 1} of {len(window.passages)} (characters {low}-{high}); "
              "choose another with --passage, or narrow with --code / --coder", file=sys.stderr)
    ctx.emit(rows, ["id", "code", "coder", "start", "end", "lane", "colour", "marker", "level"])


def cmd_apply(ctx: Context):
    a = ctx.args
    with ctx.store.write(a.coder) as session:
        study = ctx.study(session)
        interview = store.get_interview(session, study, a.interview_id)
        codes = [codebook.get_code(session, study, c) for c in a.code]
        created = spans.apply_codes(session, interview, codes, spans.get_coder(session, a.coder), a.start, a.end, a.memo or "")
        print(f"coded {a.start}-{a.end} of {interview.file_name} with {len(created)} code(s): ids {', '.join(str(c.id) for c in created)}")


def cmd_remove(ctx: Context):
    a = ctx.args
    with ctx.store.write(a.coder or "cli") as session:
        by = spans.get_coder(session, a.coder) if a.coder else None
        removed = spans.remove_codings(session, ctx.study(session), a.coding_id, by=by)
    print(f"removed {removed} coding(s): {', '.join(str(i) for i in dict.fromkeys(a.coding_id))}")


def cmd_period(ctx: Context):
    a = ctx.args
    if not a.clear and not (a.period or "").strip():
        raise UserError("name the period (e.g. REORG), or --clear to let the interview's period apply")
    if a.clear and a.period:
        raise UserError("either a period or --clear, not both")
    ids = _coding_ids(a.coding_ids)
    with ctx.store.write(a.coder or "cli") as session:
        study = ctx.study(session)
        by = spans.get_coder(session, a.coder) if a.coder else None
        changed = spans.set_codings_period(session, study, ids, None if a.clear else a.period, by=by)
        rows = []
        for coding_id in ids:
            coding = spans.get_coding(session, coding_id, study)
            rows.append({"id": coding_id, "interview": coding.interview_id,
                         **spans.coding_periods(session, coding.interview, [coding_id]).record(coding_id)})
    if ctx.format == "json":
        ctx.emit({"changed": changed, "codings": rows})
        return
    for row in rows:
        print(f"coding {row['id']}: " + (f"period {row['own_period']}" if row["own_period"] else
                                          "no period of its own (its interview's applies" + (f": {row['period']})" if row["period"] else ")")))


def _coding_ids(text: str) -> list[int]:
    """Coding ids written as ``12`` or ``12,13,14``."""
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(f"coding ids are whole numbers separated by commas, e.g. 12,13; not {text!r}") from None
    if not ids:
        raise UserError("name at least one coding id")
    return ids


def cmd_move(ctx: Context):
    a = ctx.args
    with ctx.store.write(a.coder) as session:
        study = ctx.study(session)
        version = a.version if a.version is not None else spans.get_coding(session, a.coding_id, study).version
        if a.snap:
            text = spans.get_coding(session, a.coding_id, study).interview.text
            a.start, a.end = stripes.snap_to_word(text, a.start, "start"), stripes.snap_to_word(text, a.end, "end")
        coding = spans.move_coding(session, a.coding_id, a.start, a.end, version, by=spans.get_coder(session, a.coder))
        print(f"coding {coding.id} now covers {coding.start}-{coding.end} (lines {coding.start_line}-{coding.end_line}), version {coding.version}")


def cmd_recode(ctx: Context):
    a = ctx.args
    with ctx.store.write(a.coder) as session:
        study = ctx.study(session)
        code = codebook.get_code(session, study, a.code)
        result = spans.recode_codings(session, study, a.coding_id, code, by=spans.get_coder(session, a.coder))
        print(result.summary(code.name))


def _history_step(ctx: Context, step) -> None:
    with ctx.store.write(ctx.args.coder) as session:
        result = step(session, ctx.study(session), spans.get_coder(session, ctx.args.coder).id)
    ctx.report(result, result.message)


def cmd_undo(ctx: Context):
    _history_step(ctx, history.undo)


def cmd_redo(ctx: Context):
    _history_step(ctx, history.redo)


def cmd_history(ctx: Context):
    with ctx.store.read() as session:
        rows = history.history(session, ctx.study(session), spans.get_coder(session, ctx.args.coder).id)
    ctx.emit(rows, ["seq", "what", "codings", "undone", "at", "coding_ids"])


def cmd_retrieve(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        rows = retrieval.segments(session, study, _filter(session, study, ctx.args), with_context=ctx.format == "json",
                                  principal=ctx.principal(session))
    ctx.emit(rows, None if ctx.format == "json" else ["case", "respondent", "role", "code", "coder", "start_line", "elicitation", "text", "link"])


def cmd_matrix(ctx: Context):
    a = ctx.args
    with ctx.store.read() as session:
        study = ctx.study(session)
        flt = _filter(session, study, a)
        principal = ctx.principal(session)
        found = None
        if a.kind == "cooccurrence":
            labels, matrix = matrices.cooccurrence_matrix(session, study, flt, principal=principal)
            rows, columns = labels, labels
        else:
            coders = [spans.get_coder(session, c).id for c in a.coders] if a.coders else None
            found = matrices.code_matrix(session, study, a.measure, flt, principal=principal, coders=coders, combine=a.combine,
                                         by_period=a.by_period)
            rows, columns, matrix = found.rows, found.columns, found.matrix
    fmt = a.format or "table"
    if fmt in ("csv", "xlsx"):
        _output(ctx, matrices.matrix_table(rows, columns, matrix, fmt, "code" if a.kind == "cooccurrence" else "case"), "matrix.xlsx")
        return
    if fmt == "table":
        ctx.emit([{"": label, **dict(zip(columns, values))} for label, values in zip(rows, matrix)])
        return
    data = {"rows": rows, "columns": columns, "matrix": matrix}
    if found is not None:
        data.update(combine=found.combine, coders=found.coders, links=found.links())
    ctx.emit(data)


def cmd_agreement(ctx: Context):
    with ctx.store.read() as session:
        report = comparison.agreement_report(session, ctx.study(session), ctx.args.coders, ctx.args.unit,
                                             [int(i) for i in ctx.args.interviews or []] or None, principal=ctx.principal(session))
    if ctx.format == "json":
        ctx.emit(plain(report))
        return
    print(f"unit: {report.unit}; coders: {', '.join(report.coders)}")
    print(report.formula)
    print("interviews used: " + (", ".join(i["interview"] for i in report.interviews_used) or "none"))
    for left in report.interviews_left_out:
        print(f"left out: {left['interview']} ({left['reason']})")
    if ctx.format == "table":  # printed: rounded half up, one number of decimals per column
        columns, rows = agreement.agreement_table(report)
        ctx.emit([dict(zip(columns, ("" if v is None else str(v) for v in row))) for row in rows], columns)
        return
    ctx.emit([{**plain(a), "undefined": agreement.undefined_text(a)} for a in report.per_code + [report.overall]],
             ["code", "units", "percent_agreement", "kappa", "alpha", "undefined"])


def cmd_blind(ctx: Context):
    a = ctx.args
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        if a.state == "status":
            state = bool(study.blind_coding)
        else:
            changed = blinding.set_blind_coding(session, study, ctx.principal(session), a.state == "on")
            state = a.state == "on"
    if ctx.format == "json":
        ctx.emit({"study": study.title, "blind_coding": state})
    elif a.state == "status":
        print(f"blind coding is {'on' if state else 'off'} in {study.title}")
    else:
        print(f"blind coding is {'now' if changed else 'already'} {a.state} in {study.title}")


def cmd_emergent(ctx: Context):
    a = ctx.args
    with ctx.store.write(a.coder) as session:
        study = ctx.study(session)
        parent = codebook.get_code(session, study, a.parent) if a.parent else None
        code = spans.create_emergent_code(session, study, a.name, a.level, spans.get_coder(session, a.coder), parent,
                                          short_definition=a.definition or "")
        print(f"added emergent code {codebook.code_paths([*codebook.all_codes(session, study)]).get(code.id, code.name)} (level {code.level})")


def cmd_relation_add(ctx: Context):
    a = ctx.args
    with ctx.store.write(a.coder) as session:
        study = ctx.study(session)
        relation = relations.add_relation(
            session, study, studies.get_case(session, study, a.case), codebook.get_code(session, study, a.source),
            codebook.get_code(session, study, a.target), a.kind, by=spans.get_coder(session, a.coder), note=a.note or "",
            evidence_ids=a.evidence or [])
        print(f"added relation {relation.id}: {a.source} {relation.kind} {a.target} in {a.case} ({len(relation.evidence)} evidence coding(s))")


def cmd_relation_list(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        case = studies.get_case(session, study, ctx.args.case) if ctx.args.case else None
        rows = relations.relations(session, study, case, principal=ctx.principal(session))
    if ctx.format != "json":
        rows = [{**r, "evidence": ", ".join(str(e["id"]) for e in r["evidence"])} for r in rows]
    ctx.emit(rows, ["id", "case", "source", "kind", "target", "note", "evidence", "by"])


def cmd_relation_remove(ctx: Context):
    a = ctx.args
    with ctx.store.write(a.coder) as session:
        relations.remove_relation(session, ctx.study(session), a.relation_id, by=spans.get_coder(session, a.coder))
    print(f"removed relation {a.relation_id}")


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


def cmd_elicitation_show(ctx: Context):
    """Per turn with codings: the suggestion with its reason and each coding's mark."""
    with ctx.store.read() as session:
        study = ctx.study(session)
        interview = store.get_interview(session, study, ctx.args.interview_id)
        turns = elicitation.turn_view(session, study, interview, principal=ctx.principal(session))
    if ctx.format in ("json", "yaml"):
        ctx.emit(turns)
        return
    ctx.emit([{"turn": t["turn"], "line": t["line"], "speaker": t["speaker"], "suggested": t["suggested"], "coding": c["id"],
               "code": c["code"], "coder": c["coder"], "elicitation": c["elicitation"], "by hand": "yes" if c["manual"] else "",
               "reason": t["reason"]} for t in turns for c in t["codings"]],
             ["turn", "line", "speaker", "coding", "code", "coder", "elicitation", "by hand", "suggested", "reason"])


def cmd_elicitation_suggest(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        ids = [store.get_interview(session, study, i).id for i in a.interview] if a.interview else None
        counts = elicitation.suggest(session, study, ids, overwrite_manual=a.overwrite_manual)
    if ctx.format == "json":
        ctx.emit(counts)
        return
    print(f"marked {counts['spontaneous']} coding(s) spontaneous, {counts['probe']} after a probe, {counts['unmarked']} unmarked; "
          f"kept {counts['kept']} set by hand")


def cmd_elicitation_set(ctx: Context):
    a = ctx.args
    with ctx.store.write(a.coder or "cli") as session:
        by = spans.get_coder(session, a.coder) if a.coder else None
        changed = elicitation.set_elicitation(session, ctx.study(session), a.coding_id, a.value, by=by)
    print(f"set {changed} coding(s) to {a.value}")


def cmd_elicitation_turn(ctx: Context):
    a = ctx.args
    with ctx.store.write(a.coder or "cli") as session:
        study = ctx.study(session)
        by = spans.get_coder(session, a.coder) if a.coder else None
        interview = store.get_interview(session, study, a.interview_id)
        changed = elicitation.set_turn_elicitation(session, study, interview, a.turn, a.value, by=by)
    print(f"set {changed} coding(s) of turn {a.turn} to {a.value}")


def _filters(parser) -> None:
    parser.add_argument("--code", action="append", help="code path (repeatable)")
    parser.add_argument("--level")
    parser.add_argument("--case", action="append")
    parser.add_argument("--role", help="manager, therapist or other")
    parser.add_argument("--coder", action="append")
    parser.add_argument("--interview", action="append", help="interview id (repeatable)")
    parser.add_argument("--period", action="append",
                        help="period name, e.g. PRE-REORG, in every case that has it; '(no period)' for codings tied to none (repeatable)")
    parser.add_argument("--elicitation", choices=list(coding_constants.ELICITATION_FILTERS),
                        help="only codings raised spontaneously, after a probe, or not marked")


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
    p.add_argument("--blind-as", metavar="CODER", help="show only this coder's codings")
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
    p = group.add_parser("remove", help="remove one or more codings (all or none; undoable with --coder)")
    p.add_argument("coding_id", type=int, nargs="+")
    p.add_argument("--coder", help="the coder who removes them (recorded in their undo history)")
    p.set_defaults(handler=cmd_remove)
    p = group.add_parser("period", help="tie codings to a period of their case (or --clear: their interview's period applies); "
                                        "all or none, undoable with --coder")
    p.add_argument("coding_ids", metavar="CODING_ID[,CODING_ID...]", help="one coding id, or several separated by commas")
    p.add_argument("period", nargs="?", help="period name, e.g. REORG")
    p.add_argument("--clear", action="store_true")
    p.add_argument("--coder", help="the coder who changes them (recorded in their undo history; blind coding: only their own codings)")
    add_format_option(p)
    p.set_defaults(handler=cmd_period)
    p = group.add_parser("move", help="move a coding's boundaries to [start, end) (undoable)")
    p.add_argument("coding_id", type=int)
    p.add_argument("--start", type=int, required=True)
    p.add_argument("--end", type=int, required=True)
    p.add_argument("--coder", required=True, help="the coder who moves it")
    p.add_argument("--version", type=int, help="the version you saw (refused if it was changed since)")
    p.add_argument("--snap", action="store_true", help="move each boundary out to the edge of the word it falls in (as the workbench's handles do)")
    p.set_defaults(handler=cmd_move)
    p = group.add_parser("stripes", help="an interview's coding stripes: lane (overlaps side by side), colour, level marker")
    p.add_argument("interview_id")
    p.add_argument("--passage", type=int, help="which passage of a very densely coded interview (1-based; see stripes.MAX_MARKS)")
    p.add_argument("--code", help="only this code (path)")
    p.add_argument("--coder", help="only this coder's codings")
    add_format_option(p)
    p.set_defaults(handler=cmd_stripes)
    p = group.add_parser("recode", help="give one or more codings another code (all or none; undoable)")
    p.add_argument("coding_id", type=int, nargs="+")
    p.add_argument("--code", required=True, help="code path")
    p.add_argument("--coder", required=True, help="the coder who recodes them")
    p.set_defaults(handler=cmd_recode)

    eli = group.add_parser("elicitation", help="spontaneous or after a probe: show, suggest from the guide, set per coding or per turn")
    eli_group = eli.add_subparsers(dest="elicitation_command", required=True)
    p = eli_group.add_parser("show", help="per turn of an interview: the suggestion, its reason and each coding's mark")
    p.add_argument("interview_id")
    add_format_option(p)
    p.set_defaults(handler=cmd_elicitation_show)
    p = eli_group.add_parser("suggest", help="mark codings as the guide suggests (codings set by hand are kept)")
    p.add_argument("--interview", action="append", help="interview id (repeatable; default: every interview)")
    p.add_argument("--overwrite-manual", action="store_true", help="also codings set by hand")
    add_format_option(p)
    p.set_defaults(handler=cmd_elicitation_suggest)
    settable = ["spontaneous", "probe", "suggested"]
    p = eli_group.add_parser("set", help="set the mark of codings by hand (suggested: back to the suggestion)")
    p.add_argument("coding_id", nargs="+", type=int)
    p.add_argument("--value", required=True, choices=settable)
    p.add_argument("--coder", help="the coder who acts (checked against blind coding)")
    p.set_defaults(handler=cmd_elicitation_set)
    p = eli_group.add_parser("turn", help="set the mark of every coding that starts in one turn")
    p.add_argument("interview_id")
    p.add_argument("turn", type=int, help="turn number (as in 'interviews show')")
    p.add_argument("--value", required=True, choices=settable)
    p.add_argument("--coder", help="the coder who acts (checked against blind coding)")
    p.set_defaults(handler=cmd_elicitation_turn)

    coding = subparsers.add_parser("coding", help="undo/redo of coding actions, blind coding, emergent codes, code relations")
    group = coding.add_subparsers(dest="coding_command", required=True)
    for name, handler, text in (("undo", cmd_undo, "undo the coder's last coding action in this study"),
                                ("redo", cmd_redo, "redo the coder's last undone coding action")):
        p = group.add_parser(name, help=text)
        p.add_argument("--coder", required=True)
        add_format_option(p)
        p.set_defaults(handler=handler)
    p = group.add_parser("history", help="the coder's undoable actions (the last 50), newest first")
    p.add_argument("--coder", required=True)
    add_format_option(p)
    p.set_defaults(handler=cmd_history)
    p = group.add_parser("blind", help="blind coding of the study: on / off (the study owner only) or status")
    p.add_argument("state", choices=["on", "off", "status"])
    add_format_option(p)
    p.set_defaults(handler=cmd_blind)
    p = group.add_parser("emergent", help="add a code made while coding (origin emergent) under a parent, at a level")
    p.add_argument("name")
    p.add_argument("--coder", required=True)
    p.add_argument("--parent", help="parent code path (default: at the top)")
    p.add_argument("--level", help="the code's level (default: the parent's)")
    p.add_argument("--definition", help="short definition")
    p.set_defaults(handler=cmd_emergent)
    rel = group.add_parser("relations", help="code relations per case (reinforces, weakens, causes, co-occurs)")
    rel_group = rel.add_subparsers(dest="relations_command", required=True)
    p = rel_group.add_parser("add", help="link two codes in a case, with a note and evidence codings")
    p.add_argument("source", help="code path")
    p.add_argument("kind", choices=list(coding_constants.RELATION_KINDS))
    p.add_argument("target", help="code path")
    p.add_argument("--case", required=True)
    p.add_argument("--coder", required=True, help="who adds it")
    p.add_argument("--note")
    p.add_argument("--evidence", type=int, nargs="*", metavar="CODING_ID", help="codings in the case that show it")
    p.set_defaults(handler=cmd_relation_add)
    p = rel_group.add_parser("list", help="the relations of the study or of one case")
    p.add_argument("--case")
    add_format_option(p)
    p.set_defaults(handler=cmd_relation_list)
    p = rel_group.add_parser("remove", help="remove a relation")
    p.add_argument("relation_id", type=int)
    p.add_argument("--coder", required=True)
    p.set_defaults(handler=cmd_relation_remove)

    p = subparsers.add_parser("retrieve", help="coded segments by code, level, case, role, coder (each with the link to its place)")
    _filters(p)
    add_format_option(p)
    p.set_defaults(handler=cmd_retrieve)

    p = subparsers.add_parser("matrix", help="case x code or code co-occurrence matrix")
    p.add_argument("kind", choices=["case-code", "cooccurrence"], nargs="?", default="case-code")
    p.add_argument("--measure", choices=list(coding_constants.MATRIX_MEASURES), default="counts")
    p.add_argument("--coders", nargs="+", metavar="CODER", help="whose codings (default: every coder you may see)")
    p.add_argument("--combine", choices=list(coding_constants.MATRIX_COMBINE), default="union",
                   help="union: coded by any chosen coder; intersection: by all of them; each: one row per case and coder")
    p.add_argument("--by-period", action="store_true", help="case-code: one row per case and period, the periods side by side")
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
