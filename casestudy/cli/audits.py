"""Instruments in the study, audits of cases on them, and focus groups (thin commands).

``instruments import|list|show|export``; ``audit new|score|show|compare|overview`` (added to
the ``audit`` command group beside ``audit list``, the audit log); ``focus ...`` for focus groups.
"""

from __future__ import annotations

from pathlib import Path

from casestudy.cli import Context, add_command, files, lazy_module, optional_date
from casestudy.errors import UserError

audits = lazy_module("casestudy.panel.audits")
instrument_store = lazy_module("casestudy.panel.instrument_store")
instruments = lazy_module("casestudy.panel.instruments")
rater_agreement = lazy_module("casestudy.reports.rater_agreement")
studies = lazy_module("casestudy.study")

INSTRUMENT_FORMATS = ("yaml", "csv", "xlsx")


# --- instruments ----------------------------------------------------------------------------
def cmd_instruments_import(ctx: Context):
    a = ctx.args
    if bool(a.file) == bool(a.shipped):
        raise UserError("give a file (.yaml, .csv or .xlsx) or --shipped NAME")
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        if a.shipped:
            stored, what = instrument_store.import_shipped(session, study, a.shipped)
        else:
            fmt = (a.input_format or Path(a.file).suffix.lstrip(".") or "yaml").lower()
            data = files.read_bytes(a.file, "instrument")
            stored, what = instrument_store.import_data(session, study, data, "yaml" if fmt == "yml" else fmt, Path(a.file).name)
        ctx.emit({"result": what, **instrument_store.stored_record(stored)})


def cmd_instruments_list(ctx: Context):
    with ctx.store.read() as session:
        records = [instrument_store.stored_record(s) for s in instrument_store.list_stored(session, ctx.study(session))]
        ctx.emit(records, ["id", "name", "version", "title", "items", "frozen_by", "source"])


def cmd_instruments_show(ctx: Context):
    with ctx.store.read() as session:
        stored = instrument_store.get_stored(session, ctx.study(session), ctx.args.name, ctx.args.version)
        instrument = instrument_store.instrument_of(stored)
        if ctx.format == "json":
            ctx.emit({**instrument_store.stored_record(stored), "document": instrument.as_document()})
            return
        print(f"{instrument.title} ({instrument.name}, version {instrument.version})")
        print(instrument.scale.legend())
        ctx.emit([{"item": i.key, "level": i.level, "text": i.text, "sub_criteria": len(i.sub_criteria)} for i in instrument.items])


def cmd_instruments_export(ctx: Context):
    with ctx.store.read() as session:
        stored = instrument_store.get_stored(session, ctx.study(session), ctx.args.name, ctx.args.version)
        data = instruments.export(instrument_store.instrument_of(stored), ctx.args.format)
    ctx.write(data, "XLSX")


# --- audits ---------------------------------------------------------------------------------
def cmd_audit_new(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        case = studies.get_case(session, study, a.case)
        audit = audits.new_audit(session, study, case, a.instrument, a.version, a.period, a.label or "", optional_date(a.date), a.note or "")
        ctx.emit({"id": audit.id, "label": audit.label, "case": case.public_label, "period": a.period,
                  "instrument": a.instrument})


def _split(values) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _score(text: str | None) -> int | None:
    if text is None or text.strip().lower() in ("", "none", "-"):
        return None
    try:
        return int(text)
    except ValueError:
        raise UserError(f"score {text!r} is not a whole number")


def cmd_audit_score(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        audit = audits.get_audit(session, ctx.study(session), a.audit)
        row = audits.score_item(session, audit, a.item, a.rater, _score(a.score), _split(a.coding), a.document or [], a.note or "")
        ctx.emit({"audit": audit.label, "item": row.item_key, "rater": row.rater, "score": row.score,
                  "codings": row.coding_ids, "documents": row.documents, "note": row.note})


def cmd_audit_show(ctx: Context):
    with ctx.store.read() as session:
        summary = audits.audit_summary(session, audits.get_audit(session, ctx.study(session), ctx.args.audit))
    summary["agreement"] = rater_agreement.audit_agreement(summary)
    if ctx.format == "json":
        ctx.emit(summary)
        return
    print(f"{summary['label']}: {summary['case']}" + (f", period {summary['period']}" if summary["period"] else "")
          + f"; {summary['instrument']['title']} version {summary['instrument']['version']}")
    print(summary["instrument"]["legend"])
    ctx.emit([{"item": i["key"], "level": i["level"], **{r: i["scores"].get(r) for r in summary["raters"]}, "mean": i["mean"]}
              for i in summary["items"]])
    for level, value in summary["levels"].items():
        print(f"{level}: mean {value['mean']} over {value['n_items']} of {value['of']} items")
    print(f"overall: mean {summary['overall']['mean']} over {summary['overall']['n_items']} of {summary['overall']['of']} items")


def cmd_audit_compare(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        result = audits.compare_audits(session, [audits.get_audit(session, study, ref) for ref in ctx.args.audits])
    if ctx.format == "json":
        ctx.emit(result)
        return
    ctx.emit([{"item": i["key"], "level": i["level"], **i["means"]} for i in result["items"]])
    print("overall: " + "; ".join(f"{k} {v}" for k, v in result["overall"].items()))
    for warning in result["warnings"]:
        print(f"warning: {warning}")


def cmd_audit_overview(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        case = studies.get_case(session, study, ctx.args.case) if ctx.args.case else None
        rows = []
        for audit in audits.list_audits(session, study, case):
            summary = audits.audit_summary(session, audit)
            rows.append({"id": audit.id, "label": audit.label, "case": summary["case"], "period": summary["period"],
                         "held_on": audit.held_on, "instrument": f"{summary['instrument']['name']} {summary['instrument']['version']}",
                         "raters": len(summary["raters"]), "overall_mean": summary["overall"]["mean"]})
    ctx.emit(rows, ["id", "label", "case", "period", "held_on", "instrument", "raters", "overall_mean"])


def add_audit_commands(group) -> None:
    """The audit commands, added to the ``audit`` group of :mod:`casestudy.cli.core`."""
    p = add_command(group, "new", "start an audit of a case (and period) on an instrument; freezes that instrument version", cmd_audit_new, formats=True)
    p.add_argument("--case", required=True)
    p.add_argument("--instrument", required=True, help="a stored instrument's name (a shipped one is stored on first use)")
    p.add_argument("--version", help="instrument version (default: the newest stored)")
    p.add_argument("--period", help="the case's period this audit is about")
    p.add_argument("--label", help="a name for the audit, e.g. '2026 spring' (default: case and date)")
    p.add_argument("--date", help="YYYY-MM-DD the audit was held")
    p.add_argument("--note")
    p = add_command(group, "score", "one rater's score of one item, with evidence", cmd_audit_score, formats=True)
    p.add_argument("audit", help="audit id or label")
    p.add_argument("--item", required=True, help="item key or text")
    p.add_argument("--rater", required=True)
    p.add_argument("--score", required=True, help="a point of the instrument's scale ('none' clears it)")
    p.add_argument("--coding", action="append", help="evidence: coding ids (repeatable, or comma-separated)")
    p.add_argument("--document", action="append", help="evidence: a document or other reference (repeatable); document:ID names a stored document of the case (checked)")
    p.add_argument("--note")
    p = add_command(group, "show", "an audit: scores per item and rater, per level and overall, rater agreement", cmd_audit_show, formats=True)
    p.add_argument("audit", help="audit id or label")
    p = add_command(group, "compare", "audits of one instrument side by side (periods, repeated audits)", cmd_audit_compare, formats=True)
    p.add_argument("audits", nargs="+", help="audit ids or labels, in the order wanted")
    p = add_command(group, "overview", "the study's audits", cmd_audit_overview, formats=True)
    p.add_argument("--case")


def register(subparsers) -> None:
    register_focus(subparsers)
    i = subparsers.add_parser("instruments", help="rating instruments stored in the study (import, list, show, export)")
    i = i.add_subparsers(dest="instruments_command", required=True)
    p = add_command(i, "import", "store an instrument (YAML, CSV or XLSX, or a shipped one); a used version cannot change", cmd_instruments_import, formats=True)
    p.add_argument("file", nargs="?", help="instrument file (.yaml, .csv, .xlsx; '-' = standard input)")
    p.add_argument("--shipped", help="a shipped instrument's name (see 'panel instruments')")
    p.add_argument("--input-format", choices=list(INSTRUMENT_FORMATS) + ["yml"], help="the file's format (default: from its extension)")
    add_command(i, "list", "the study's instrument versions", cmd_instruments_list, formats=True)
    p = add_command(i, "show", "one instrument version: legend and items", cmd_instruments_show, formats=True)
    p.add_argument("name")
    p.add_argument("--version")
    p = add_command(i, "export", "an instrument version as YAML, CSV or XLSX (each imports back)", cmd_instruments_export)
    p.add_argument("name")
    p.add_argument("--version")
    p.add_argument("--format", choices=list(INSTRUMENT_FORMATS), default="yaml")
    p.add_argument("--output", help="file to write (needed for XLSX)")


# --- focus groups ---------------------------------------------------------------------------
focus = lazy_module("casestudy.panel.focus")
DEFAULT_BASE_URL = "http://127.0.0.1:8501"


def _group(ctx: Context, session):
    return focus.get_group(session, ctx.study(session), ctx.args.group)


def cmd_focus_new(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        group = focus.create_group(session, study, studies.get_case(session, study, a.case), a.instrument, a.version,
                                   a.title or "", a.split)
        ctx.emit(focus.group_record(session, group))


def cmd_focus_show(ctx: Context):
    with ctx.store.read() as session:
        record = focus.group_record(session, _group(ctx, session))
    if ctx.format == "json":
        ctx.emit(record)
        return
    print(f"{record['title']} ({record['case']}; {record['instrument']['title']} version {record['instrument']['version']})")
    print(record["instrument"]["legend"])
    print("periods: " + "; ".join(f"{p['name']} {p['from']} to {p['to']}" for p in record["periods"]))
    if record["exclusion_note"]:
        print(f"excluded: {record['exclusion_note']}")
    ctx.emit(record["participants"], ["pseudonym", "name", "role", "levels", "blind", "rated", "to_rate", "submitted_at", "link_expires_at"])
    print(f"consensus: {record['consensus']} of {record['cells']} cells")


def cmd_focus_add(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        participant = focus.add_participant(session, _group(ctx, session), a.name, a.role, _split(a.levels) or None,
                                            not a.not_blind, a.pseudonym)
        ctx.emit({"pseudonym": participant.pseudonym, "name": participant.name, "role": participant.role,
                  "levels": participant.levels, "blind": participant.blind})


def cmd_focus_link(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        group = _group(ctx, session)
        people = focus.participants_of(session, group) if a.all else [focus.get_participant(session, group, p) for p in a.participant]
        if not people:
            raise UserError("name a participant (pseudonym or name) or pass --all")
        ctx.emit([focus.issue_link(session, p, a.base_url, a.days) for p in people], ["pseudonym", "name", "expires_at", "link"])


def cmd_focus_summary(ctx: Context):
    with ctx.store.read() as session:
        summary = focus.round_summary(session, _group(ctx, session), ctx.args.submitted_only)
    cells = summary.pop("cells")
    if ctx.args.format == "html":
        ctx.write(focus.summary_html(summary))
        return
    summary["agreement"] = rater_agreement.agreement(cells)
    if ctx.format == "json":
        ctx.emit(summary)
        return
    rows = []
    for item in summary["items"]:
        for period, cell in item["periods"].items():
            rows.append({"item": item["key"], "period": period, "n": cell["n"], "mean": cell["mean"], "median": cell["median"],
                         "range": "" if cell["min"] is None else f"{cell['min']}-{cell['max']}",
                         "distribution": " ".join(f"{k}:{v}" for k, v in cell["distribution"].items() if v)})
    ctx.emit(rows, ["item", "period", "n", "mean", "median", "range", "distribution"])


def cmd_focus_note(ctx: Context):
    with ctx.store.write("cli") as session:
        note = focus.set_note(session, _group(ctx, session), ctx.args.item, ctx.args.text)
        print(f"note on item {note.item_key} saved")


def cmd_focus_consensus(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        group = _group(ctx, session)
        row = focus.set_consensus(session, group, a.item, a.period, a.score, _split(a.agreed), a.note or "")
        ctx.emit({"item": row.item_key, "period": a.period, "score": a.score.strip(), "agreed_by": row.agreed_by, "note": row.note})


def cmd_focus_consensus_list(ctx: Context):
    with ctx.store.read() as session:
        ctx.emit(focus.consensus_of(session, _group(ctx, session)), ["item", "level", "period", "score", "agreed_by", "note"])


def _group_option(p) -> None:
    p.add_argument("--group", help="focus group id or title (default: the study's only one)")


def register_focus(subparsers) -> None:
    f = subparsers.add_parser("focus", help="focus groups: participants, round-1 links, summary, notes, consensus")
    f = f.add_subparsers(dest="focus_command", required=True)
    p = add_command(f, "new", "a focus group on a case's periods and an instrument (freezes that instrument version)", cmd_focus_new, formats=True)
    p.add_argument("--case", required=True)
    p.add_argument("--instrument", default="mbt-focus-group-checklist", help="stored instrument (a shipped one is stored on first use)")
    p.add_argument("--version")
    p.add_argument("--title")
    p.add_argument("--split", choices=["midpoint", "lower", "upper"], default="midpoint", help="how Table 4 counts a split score")
    p = add_command(f, "show", "the group: periods, participants, progress", cmd_focus_show, formats=True)
    _group_option(p)
    p = add_command(f, "add", "add a participant", cmd_focus_add, formats=True)
    _group_option(p)
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, help="manager, therapist, researcher or other")
    p.add_argument("--levels", action="append", help="levels they can judge (comma-separated; default all)")
    p.add_argument("--not-blind", action="store_true", help="the participant may see outcome data (default: blind to outcomes)")
    p.add_argument("--pseudonym")
    p = add_command(f, "link", "a round-1 link per participant (earlier links revoked; the secret is shown once)", cmd_focus_link, formats=True)
    _group_option(p)
    p.add_argument("participant", nargs="*", help="pseudonyms or names")
    p.add_argument("--all", action="store_true")
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--base-url", default=DEFAULT_BASE_URL)
    p = add_command(f, "summary", "round 2: per item and period n, mean, median, range, distribution; rater agreement", cmd_focus_summary)
    _group_option(p)
    p.add_argument("--format", choices=["table", "json", "csv", "html"], default=None)
    p.add_argument("--output")
    p.add_argument("--submitted-only", action="store_true", help="only participants who submitted")
    p = add_command(f, "note", "the discussion notes on one item", cmd_focus_note)
    _group_option(p)
    p.add_argument("item")
    p.add_argument("text")
    p = add_command(f, "consensus", "round 3: the consensus score of one item and period (6, or a split such as 2/3)", cmd_focus_consensus, formats=True)
    _group_option(p)
    p.add_argument("item", help="item key or text")
    p.add_argument("--period", required=True)
    p.add_argument("--score", required=True)
    p.add_argument("--agreed", action="append", help="pseudonyms of those who agreed (comma-separated; default all)")
    p.add_argument("--note")
    p = add_command(f, "consensus-list", "the consensus scores entered so far", cmd_focus_consensus_list, formats=True)
    _group_option(p)
