"""report: Table 2, determinant rankings, reliability, Table 1, outcomes, integration, consistency check, plots, methods."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from casestudy.cli import Context, add_format_option, files, lazy_module
from casestudy.coding import constants as coding_constants
from casestudy.errors import UserError
from casestudy.reports import constants as report_constants

if TYPE_CHECKING:
    from casestudy.access import Principal
    from casestudy.reports.inputs import ReportInputs

aggregation = lazy_module("casestudy.reports.table2")
consistency = lazy_module("casestudy.reports.consistency")
plots = lazy_module("casestudy.reports.plots")
progress = lazy_module("casestudy.reports.progress")
reliability = lazy_module("casestudy.reports.reliability")
reports = lazy_module("casestudy.reports.render")
tabular = lazy_module("casestudy.tabular")
inputs = lazy_module("casestudy.reports.inputs")
instruments = lazy_module("casestudy.panel.instruments")
table4_module = lazy_module("casestudy.reports.table4")
focus = lazy_module("casestudy.panel.focus")
panel_results = lazy_module("casestudy.panel.results")
panel_delphi = lazy_module("casestudy.panel.delphi")
panel_scale = lazy_module("casestudy.panel.scale")
statpackages = lazy_module("casestudy.reports.statpackages")
outcome_reports = lazy_module("casestudy.reports.outcomes")
integration = lazy_module("casestudy.reports.integration")
ethics = lazy_module("casestudy.ethics")
checklists = lazy_module("casestudy.reports.checklists")
report_output = lazy_module("casestudy.cli.output")
study_records = lazy_module("casestudy.study")
elicitation_report = lazy_module("casestudy.reports.elicitation")
period_reports = lazy_module("casestudy.reports.periods")


DEFAULT_INSTRUMENT = "mbt-focus-group-checklist"


def cli_principal() -> Principal:
    """Who the command line acts as for reports: an admin researcher named ``cli``."""
    from casestudy.access import Principal

    return Principal(kind="researcher", subject_id=0, name="cli", role="admin")


def _format(ctx: Context, allowed=report_constants.EXPORT_FORMATS) -> str:
    fmt = ctx.args.format or ctx.args.global_format or "md"
    if fmt == "table":
        fmt = "md"
    if fmt not in allowed:
        raise UserError(f"--format {fmt} is not available here; use one of {', '.join(allowed)}")
    return fmt


def _write(ctx: Context, data: str | bytes, fmt: str) -> None:
    ctx.write(data, f"{fmt} output")


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def report_inputs(ctx: Context, *need: str) -> ReportInputs:
    """The report inputs from the files given, else from the study (``need``: which must exist).

    With only files and no ``--db``, the database is not opened at all."""
    a = ctx.args
    sources = {
        "ratings_source": files.read_bytes(a.ratings, "ratings") if getattr(a, "ratings", None) else None,
        "determinants_source": files.read_bytes(a.determinants, "determinants") if getattr(a, "determinants", None) else None,
        "mapping_source": files.read_bytes(a.mapping, "mapping") if getattr(a, "mapping", None) else None,
        "scale_text": getattr(a, "scale", None),
    }
    from_files = all(sources[f"{name}_source"] is not None for name in need)
    if from_files and not a.db:
        return inputs.report_inputs(None, None, require=need, **sources)
    with ctx.store.read() as session:
        try:
            study = ctx.study(session)
        except UserError:
            if not from_files:
                raise
            study = None
        return inputs.report_inputs(session, study, cli_principal(), require=need, **sources)


def build_table2(ctx: Context) -> aggregation.Table2:
    a = ctx.args
    found = report_inputs(ctx, "ratings")
    return aggregation.table2(found.ratings, found.scale, outcome_by_case=found.outcomes, rounding=a.rounding, average=a.average,
                              quartile_method=a.quartiles, decimals=a.decimals)


def _emit_table(ctx: Context, table, tables_of) -> None:
    """Warnings to stderr, then the table as JSON or rendered as ``tables_of(table, fmt)``."""
    fmt = _format(ctx)
    for warning in table.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    if fmt == "json":
        return _write(ctx, _json(table.as_json()), fmt)
    _write(ctx, reports.render(tables_of(table, fmt), fmt), fmt)


def cmd_table2(ctx: Context):
    _emit_table(ctx, build_table2(ctx), lambda t, fmt: reports.table2_tables(t, for_format=fmt))


def build_table4(ctx: Context) -> table4_module.Table4:
    """Table 4 from ``--scores`` on ``--instrument``, or without ``--scores`` from the study's
    focus group (``--group``; its own instrument version)."""
    a = ctx.args
    if not a.scores:
        with ctx.store.read() as session:
            study = ctx.study(session)
            if not a.group and not focus.list_groups(session, study):
                raise UserError("the study has no focus group with consensus scores: pass --scores FILE.csv, "
                                "or enter them first (casestudy focus new / focus consensus)")
            group = focus.get_group(session, study, a.group)
            rows, instrument = table4_module.study_rows(session, group)
            split = a.split or group.split_rule
        return table4_module.table4(rows, instrument, split_rule=split, rounding=a.rounding, decimals=a.decimals)
    instrument = _instrument(a.instrument)
    rows = table4_module.read_scores_csv(files.read_text(a.scores, "scores"), instrument.scale)
    return table4_module.table4(rows, instrument, split_rule=a.split or "midpoint", rounding=a.rounding, decimals=a.decimals)


def _instrument(name_or_file: str):
    """A shipped instrument by name, or an instrument YAML file (``.yaml``/``.yml``, ``-`` = stdin)."""
    if name_or_file == files.STDIN or name_or_file.lower().endswith((".yaml", ".yml")):
        return instruments.read_instrument_yaml(files.read_bytes(name_or_file, "instrument"))
    return instruments.load_shipped(name_or_file)


def cmd_table4(ctx: Context):
    _emit_table(ctx, build_table4(ctx), lambda t, fmt: reports.table4_tables(t))


def cmd_delphi(ctx: Context):
    from casestudy.reports import delphi as delphi_report

    fmt = _format(ctx, ("json", "csv", "md", "xlsx", "docx"))
    with ctx.store.read() as session:
        study = ctx.study(session)
        results = panel_delphi.delphi_results(session, study, ctx.principal(session))
    if fmt == "json":
        return _write(ctx, _json(results.as_json()), fmt)
    _write(ctx, reports.render(delphi_report.delphi_tables(results), fmt, csv_table=delphi_report.delphi_long_table(results)), fmt)


def build_rankings(ctx: Context):
    from casestudy.reports.rankings import rank_determinants

    found = report_inputs(ctx, "determinants")
    return rank_determinants(found.mentions, found.mapping, experts=ctx.args.experts, threshold=ctx.args.threshold)


def cmd_rankings(ctx: Context):
    fmt = _format(ctx)
    r = build_rankings(ctx)
    if r.unmapped and ctx.args.mapping:
        sys.stderr.write(f"warning: {len(r.unmapped)} determinant text(s) not in the mapping, counted as written: {'; '.join(r.unmapped[:5])}\n")
    if fmt == "json":
        return _write(ctx, _json(r.as_json()), fmt)
    _write(ctx, reports.render(reports.rankings_tables(r), fmt, csv_table=reports.rankings_long_table(r)), fmt)


def cmd_suggest(ctx: Context):
    from casestudy.reports.rankings import suggest_mapping

    mentions = inputs.load_determinants(files.read_bytes(ctx.args.determinants, "determinants"))
    candidates = [line.strip() for line in files.read_text(ctx.args.candidates, "candidates").splitlines() if line.strip()] if ctx.args.candidates else sorted({m.determinant for m in mentions})
    suggestions = suggest_mapping([m.determinant for m in mentions], candidates, limit=ctx.args.limit)
    ctx.emit([{"determinant": s["determinant"], "suggestions": [f"{x['canonical']} ({x['score']:g})" for x in s["suggestions"]]} for s in suggestions]
             if ctx.format != "json" else suggestions)


def cmd_mapping_confirm(ctx: Context):
    from casestudy.reports import rankings

    mapping = inputs.load_mapping(files.read_bytes(ctx.args.mapping, "mapping"))
    with ctx.store.write("cli") as session:
        changed = rankings.confirm_mappings(session, ctx.study(session), cli_principal(), mapping)
    print(f"confirmed {len(mapping)} mapping(s); {changed} new or changed")


def cmd_mapping_export(ctx: Context):
    from casestudy.reports import rankings

    with ctx.store.read() as session:
        mapping = rankings.study_mapping(session, ctx.study(session), cli_principal())
    columns, rows = rankings.mapping_rows(mapping)
    if ctx.args.format == "json":
        return _write(ctx, _json([dict(zip(columns, r)) for r in rows]), "json")
    _write(ctx, tabular.csv_text(columns, rows), "csv")


def cmd_reliability(ctx: Context):
    fmt = _format(ctx)
    a = ctx.args
    found = report_inputs(ctx, "ratings")
    rep = reliability.reliability(found.ratings, found.scale, metrics=a.metric or ("ordinal", "interval"), replicates=a.bootstrap, seed=a.seed,
                                  top=a.top, iqr_threshold=a.iqr, quartile_method=a.quartiles)
    if fmt == "json":
        return _write(ctx, _json(rep.as_json()), fmt)
    _write(ctx, reports.render(reports.reliability_tables(rep), fmt), fmt)


def cmd_table1(ctx: Context):
    fmt = _format(ctx)
    with ctx.store.read() as session:
        study = ctx.study(session)
        rows = reports.study_table1(session, study, cli_principal())
        note, unknown = outcome_reports.table1_note(outcome_reports.component_types(session, study))
    if unknown:
        sys.stderr.write(f"warning: the Table 1 note cannot expand {', '.join(unknown)}; write it out in the programme column\n")
    if fmt == "json":
        return _write(ctx, _json(rows), fmt)
    _write(ctx, reports.render([reports.table1_table(rows, note)], fmt), fmt)


def cmd_outcomes(ctx: Context):
    """The outcome distribution: classes, descriptors and sustainment with n and percent."""
    fmt = _format(ctx)
    a = ctx.args
    with ctx.store.read() as session:
        study = ctx.study(session)
        tables = outcome_reports.distribution_tables(session, study, ctx.principal(session), a.decimals, a.rounding)
    if fmt == "json":
        return _write(ctx, _json(outcome_reports.distribution_json(tables)), fmt)
    _write(ctx, reports.render(tables, fmt), fmt)


def build_integration(ctx: Context, session, study):
    return integration.integration(session, study, ctx.principal(session), threshold=ctx.args.threshold, experts=ctx.args.experts)


def cmd_integration(ctx: Context):
    """Ranked determinants x cases: codings of the mapped code (respondents) and Table 1."""
    fmt = _format(ctx)
    with ctx.store.read() as session:
        study = ctx.study(session)
        view = build_integration(ctx, session, study)
    if view.unmapped:
        sys.stderr.write(f"warning: {len(view.unmapped)} ranked determinant(s) not mapped to a code (report map-code): {'; '.join(view.unmapped)}\n")
    if fmt == "json":
        return _write(ctx, _json(view.as_json()), fmt)
    _write(ctx, reports.render([integration.integration_table(view)], fmt), fmt)


def cmd_map_code(ctx: Context):
    a = ctx.args
    if not a.clear and not a.code:
        raise UserError("name the code (id or path), or pass --clear to unlink the determinant")
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        changed = integration.map_code(session, study, ctx.principal(session), a.determinant, None if a.clear else a.code)
    print(f"{a.determinant!r} {'unlinked from its code' if a.clear else f'-> {a.code}'} ({changed} mapping row(s) changed)")


def cmd_elicitation(ctx: Context):
    """Per case and level: determinants raised spontaneously vs only after a probe."""
    fmt = _format(ctx)
    with ctx.store.read() as session:
        study = ctx.study(session)
        case_ids = [study_records.get_case(session, study, c).id for c in ctx.args.case] if ctx.args.case else None
        report = elicitation_report.elicitation_report(session, study, principal=ctx.principal(session), case_ids=case_ids)
    if fmt == "json":
        return _write(ctx, _json(report.as_json()), fmt)
    tables = report.tables()
    _write(ctx, reports.render(tables if ctx.args.detail or fmt not in ("md",) else tables[:1], fmt), fmt)


def _has_panel(ctx: Context) -> bool:
    with ctx.store.read() as session:
        return inputs.has_panel(session, ctx.study(session))


def cmd_check(ctx: Context):
    fmt = _format(ctx)
    a = ctx.args
    scale = panel_scale.parse_scale(a.scale)
    table1 = consistency.parse_table1(files.read_text(a.table1, "Table 1")) if a.table1 else None
    n = a.n
    if a.table2:
        table2 = consistency.parse_table2(files.read_text(a.table2, "Table 2"))
    elif a.ratings or (a.db and _has_panel(ctx)):
        t = build_table2(ctx)
        table2 = consistency.table2_as_published(t)
        n = n or t.experts
        if table1 is None and a.db:
            with ctx.store.read() as session:
                table1 = [consistency.PublishedTable1Row(r["case"], r["programme"], r["outcome"], "; ".join(r["determinants"]))
                          for r in reports.study_table1(session, ctx.study(session), cli_principal())]
    else:
        table2 = None
    texts = {Path(p).name: files.read_text(p, "text") for p in a.text or []}
    table4 = consistency.parse_table4(files.read_text(a.table4, "Table 4")) if a.table4 else None
    if table2 is None and table1 is None and table4 is None and not texts:
        raise UserError("nothing to check: pass --table2 FILE.csv, --table1 FILE.csv, --table4 FILE.csv, --text FILE or --ratings FILE.csv")
    table4_scale = _instrument(a.instrument).scale if table4 is not None else None
    findings = consistency.check_tables(table2, table1, scale, n, texts, a.rounding, table4, table4_scale)
    if fmt == "json":
        _write(ctx, _json([f.__dict__ for f in findings]), fmt)
    else:
        _write(ctx, reports.render([reports.findings_table(findings)], fmt), fmt)
    if a.strict and any(f.severity == "error" for f in findings):
        return 1


def cmd_plot(ctx: Context):
    a = ctx.args
    fmt = a.format or "html"
    if fmt in ("png", "svg") and not a.output:
        raise UserError(f"{fmt} output is binary: pass --output FILE")
    if a.kind == "ranking":
        fig = plots.ranking_chart(build_rankings(ctx))
    elif a.kind == "integration":
        with ctx.store.read() as session:
            fig = plots.integration_heatmap(build_integration(ctx, session, ctx.study(session)))
    else:
        t = build_table2(ctx)
        fig = plots.heatmap(t) if a.kind == "heatmap" else plots.diverging_bars(t, a.item)
    data = plots.figure_bytes(fig, fmt)
    _write(ctx, data if fmt != "html" or a.output else data.decode("utf-8"), fmt)


def cmd_export_stats(ctx: Context):
    """One data set as an SPSS or Stata file; what the format had to shorten goes to stderr."""
    a = ctx.args
    if not a.output:
        raise UserError(f"{a.format} output is binary: pass --output FILE.{a.format}")
    if a.dataset.startswith("ratings"):
        found = report_inputs(ctx, "ratings")
        dataset = statpackages.study_dataset(None, None, cli_principal(), a.dataset, ratings=found.ratings, scale=found.scale)
    else:
        with ctx.store.read() as session:
            dataset = statpackages.study_dataset(session, ctx.study(session), cli_principal(), a.dataset, measure=a.measure)
    written = statpackages.write_dataset(dataset, a.format)
    for warning in written.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    _write(ctx, written.data, a.format)


def cmd_methods(ctx: Context):
    a = ctx.args
    figures = panel_results.PanelFigures(a.invited, a.returned, a.median_minutes) if a.invited else None
    if figures is None and a.db:
        with ctx.store.read() as session:
            figures = inputs.study_panel_figures(session, ctx.study(session))
    t = build_table2(ctx) if a.ratings else None
    r = build_rankings(ctx) if a.determinants else None
    ethics_sentence = ""
    if a.db:  # the study's ethics status closes the paragraph
        with ctx.store.read() as session:
            if study_records.has_studies(session):
                ethics_sentence = ethics.ethics_sentence(ethics.get_ethics(session, ctx.study(session)))
    text = reports.methods_paragraph(figures, t, r, ethics_sentence)
    if not text:
        raise UserError("nothing to describe: pass --invited/--returned, --ratings or --determinants")
    fmt = _format(ctx, ("md", "json"))
    _write(ctx, _json({"paragraph": text}) if fmt == "json" else text, fmt)


def cmd_checklist(ctx: Context):
    fmt = _format(ctx, report_constants.CHECKLIST_FORMATS)
    with ctx.store.read() as session:
        study = ctx.study(session)
        checklist = checklists.study_checklist(session, study, ctx.principal(session), ctx.args.report_command)
        methods = checklists.methods_paragraph(session, study)
    if fmt == "json":
        _write(ctx, _json(report_output.plain(checklist.as_json())), fmt)
    else:
        _write(ctx, checklists.export(checklist, fmt, methods), fmt)


def cmd_checklist_answer(ctx: Context):
    a = ctx.args
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        row = checklists.save_answer(session, study, ctx.principal(session), a.checklist, a.item, a.text, a.expect_version)
        record = {"checklist": row.checklist, "item": row.item, "text": row.text, "version": row.version}
    if ctx.format == "json":
        print(_json(record))
    else:
        print(f"{record['checklist'].upper()} item {record['item']}: " + ("saved" if record["text"] else "cleared (the study's value shows again)"))


# --- registration -----------------------------------------------------------------------------------
def _formats(p, choices=report_constants.EXPORT_FORMATS):
    p.add_argument("--format", choices=list(choices), default=None, help="output format (default md)")
    p.add_argument("--output", help="write to this file (required for xlsx and docx)")


def _ratings_options(p):
    p.add_argument("--ratings", help="ratings CSV (expert,case,item,score); default: the study's expert panel")
    p.add_argument("--scale", help="MIN-MAX of the rating scale (default: the study questionnaire's scale, else 0-5)")
    p.add_argument("--rounding", choices=list(report_constants.ROUNDINGS), default="half-up")
    p.add_argument("--average", choices=list(report_constants.AVERAGES), default="mean_of_case_means")
    p.add_argument("--quartiles", choices=list(report_constants.QUARTILE_METHODS), default="linear", help="quartile method (default linear = Hyndman-Fan 7)")
    p.add_argument("--decimals", type=int, default=1)


def _instrument_option(p):
    p.add_argument("--instrument", default=DEFAULT_INSTRUMENT, metavar="NAME|FILE.yaml",
                   help=f"the instrument whose scale the scores use: a shipped one (default {DEFAULT_INSTRUMENT}; see 'panel instruments') or a YAML file")


def _determinant_options(p):
    p.add_argument("--determinants", help="determinants CSV (expert,task,rank,determinant); default: the study's panel")
    p.add_argument("--mapping", help="mapping CSV (determinant,canonical)")
    p.add_argument("--experts", type=int, help="experts who returned the questionnaire (default: distinct experts in the file)")
    p.add_argument("--threshold", type=int, default=2, help="minimum number of experts for the ranking (default 2)")


def cmd_progress(ctx: Context):
    """Per case the open stage, the next action and who is waiting (the overview page's table)."""
    with ctx.store.read() as session:
        rows = progress.overview(session, ctx.study(session))
    if ctx.format == "json":
        ctx.emit([r.as_json() for r in rows])
        return
    ctx.emit(
        [{"case": r.public_label, "open_stage": r.open_stage, "next_action": r.next_action, "waiting_for": r.waiting_for,
          **r.stages} for r in rows],
        ["case", "open_stage", "next_action", "waiting_for"] + (list(progress.STAGES) if ctx.format == "csv" else []),
    )


def cmd_periods(ctx: Context):
    """A case's periods side by side: sources tied to each, codings per level, audits, consensus."""
    with ctx.store.read() as session:
        study = ctx.study(session)
        result = period_reports.compare_periods(session, study, study_records.get_case(session, study, ctx.args.case),
                                                ctx.principal(session))
    if ctx.format == "json":
        ctx.emit(result)
        return
    columns, rows = period_reports.period_grid(result)
    ctx.emit(rows, columns)
    if result["exclusion_note"]:
        sys.stderr.write(f"left out: {result['exclusion_note']}\n")
    for note in result["notes"]:
        sys.stderr.write(f"note: {note}\n")


def register(subparsers) -> None:
    report = subparsers.add_parser("report", help="tables, rankings, reliability, checks and plots for publication")
    sub = report.add_subparsers(dest="report_command", required=True)
    for name in report_constants.CHECKLISTS:
        p = sub.add_parser(name, help=f"the {name.upper()} reporting checklist filled from the study (json, md or docx)")
        _formats(p, report_constants.CHECKLIST_FORMATS)
        p.set_defaults(handler=cmd_checklist)
    p = sub.add_parser("checklist-answer", help="the researchers' own answer to one checklist item (an empty --text clears it)")
    p.add_argument("checklist", choices=list(report_constants.CHECKLISTS))
    p.add_argument("item", help="the item number, e.g. 2 (COREQ) or S6 (SRQR)")
    p.add_argument("--text", required=True)
    p.add_argument("--expect-version", type=int, help="refuse if the answer changed since this version")
    p.add_argument("--format", choices=["table", "json"], default=None)
    p.set_defaults(handler=cmd_checklist_answer)

    p = sub.add_parser("progress", help="per case the open stage, the next action and who is waiting")
    add_format_option(p)
    p.set_defaults(handler=cmd_progress)

    p = sub.add_parser("periods", help="a case's periods side by side: interviews, documents and codings tied to each, "
                                       "audits and focus-group consensus per period")
    p.add_argument("--case", required=True, help="the case (public label or id)")
    add_format_option(p)
    p.set_defaults(handler=cmd_periods)

    p = sub.add_parser("table2", help="Table 2: ratings per case and statement, mean (range)")
    _ratings_options(p)
    _formats(p)
    p.set_defaults(handler=cmd_table2)

    p = sub.add_parser("table4", help="Table 4: focus-group consensus scores per item and period, mean (range) per period")
    p.add_argument("--scores", help="consensus scores CSV (item,level,period,score; score 6 or a split such as 2/3); "
                   "without it, the consensus scores of the study's focus group")
    p.add_argument("--group", help="the focus group (id or title) when the study has several; without --scores")
    _instrument_option(p)
    p.add_argument("--split", choices=list(report_constants.SPLIT_RULES), help="how a split a/b counts in means and ranges "
                   "(default midpoint; from the study: the focus group's stated rule)")
    p.add_argument("--rounding", choices=list(report_constants.ROUNDINGS), default="half-up")
    p.add_argument("--decimals", type=int, default=1)
    _formats(p)
    p.set_defaults(handler=cmd_table4)

    p = sub.add_parser("delphi", help="Delphi rounds: items per round (median, IQR), consensus, the stopping rule, movement, revisions")
    p.add_argument("--format", choices=["json", "csv", "md", "xlsx", "docx"], default=None)
    p.add_argument("--output", help="write to this file (needed for xlsx and docx)")
    p.set_defaults(handler=cmd_delphi)

    p = sub.add_parser("rankings", help="determinants ranked by the number of experts naming them")
    _determinant_options(p)
    _formats(p)
    p.set_defaults(handler=cmd_rankings)

    p = sub.add_parser("suggest-mapping", help="similarity suggestions for mapping free-text determinants to canonical labels")
    p.add_argument("--determinants", required=True)
    p.add_argument("--candidates", help="text file, one canonical label per line (default: the determinants themselves)")
    p.add_argument("--limit", type=int, default=3)
    p.add_argument("--format", choices=["table", "json", "csv"], default=None)
    p.set_defaults(handler=cmd_suggest)

    p = sub.add_parser("mapping-confirm", help="store researcher-confirmed determinant mappings (CSV determinant,canonical)")
    p.add_argument("--mapping", required=True)
    p.set_defaults(handler=cmd_mapping_confirm)
    p = sub.add_parser("mapping-export", help="the study's confirmed determinant mappings (loadable with --mapping)")
    p.add_argument("--format", choices=["csv", "json"], default=None)
    p.add_argument("--output")
    p.set_defaults(handler=cmd_mapping_export)

    p = sub.add_parser("reliability", help="Krippendorff's alpha, ICC, top agreement, r_wg and consensus")
    _ratings_options(p)
    p.add_argument("--metric", action="append", choices=list(report_constants.METRICS), help="alpha metric, repeatable (default ordinal and interval)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates for alpha's CI (0 = none)")
    p.add_argument("--seed", type=int, default=20260101)
    p.add_argument("--top", type=int, default=2, help="top categories for percent agreement (default 2)")
    p.add_argument("--iqr", type=float, default=1, help="consensus when IQR <= this (default 1)")
    _formats(p)
    p.set_defaults(handler=cmd_reliability)

    p = sub.add_parser("elicitation", help="per case and level: determinants raised spontaneously vs only after a probe")
    p.add_argument("--case", action="append", help="only this case (repeatable)")
    p.add_argument("--detail", action="store_true", help="also the table per determinant (always in json, xlsx and docx)")
    _formats(p)
    p.set_defaults(handler=cmd_elicitation)

    p = sub.add_parser("table1", help="Table 1: case, programme, outcome, determinants")
    _formats(p)
    p.set_defaults(handler=cmd_table1)

    p = sub.add_parser("outcomes", help="outcome distribution: classes, descriptors, sustainment (n and percent)")
    p.add_argument("--decimals", type=int, default=0, help="decimals of the percentages (default 0: whole percents)")
    p.add_argument("--rounding", choices=list(report_constants.ROUNDINGS), default="half-up")
    _formats(p)
    p.set_defaults(handler=cmd_outcomes)

    p = sub.add_parser("integration", help="ranked determinants x cases: codings of the mapped code and Table 1")
    p.add_argument("--experts", type=int, help="experts who returned the questionnaire (default: those with answers)")
    p.add_argument("--threshold", type=int, default=2, help="minimum number of experts for the ranking (default 2)")
    _formats(p)
    p.set_defaults(handler=cmd_integration)

    p = sub.add_parser("map-code", help="point a ranked determinant at a codebook code (for the integration view)")
    p.add_argument("determinant", help="the determinant's canonical label")
    p.add_argument("code", nargs="?", help="code id or path")
    p.add_argument("--clear", action="store_true", help="unlink the determinant from its code")
    p.set_defaults(handler=cmd_map_code)

    p = sub.add_parser("check", help="consistency check of the tables as printed")
    p.add_argument("--table2", help="Table 2 as printed (CSV grid: statement,<cases>,average; rows outcome/legend/scale optional)")
    p.add_argument("--table1", help="Table 1 as printed (CSV: case,programme,outcome,determinants)")
    p.add_argument("--table4", help="Table 4 as printed (CSV grid: item,level,<periods>; rows mean/legend/scale optional)")
    _instrument_option(p)
    p.add_argument("--text", action="append", help="text file to check percentages in, repeatable")
    p.add_argument("--n", type=int, help="ratings per cell (for the impossible-mean and range checks)")
    p.add_argument("--strict", action="store_true", help="exit 1 when a finding is an error")
    _ratings_options(p)
    _formats(p)
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("plot", help="figures: heatmap, diverging bars, ranking chart, integration heatmap")
    p.add_argument("kind", choices=["heatmap", "bars", "ranking", "integration"])
    p.add_argument("--item", help="bars: one statement only")
    _ratings_options(p)
    _determinant_options(p)
    p.add_argument("--format", choices=list(report_constants.FIGURE_FORMATS), default=None, help="html (default), png or svg")
    p.add_argument("--output")
    p.set_defaults(handler=cmd_plot)

    p = sub.add_parser("export-stats", help="ratings, the case x code matrix or coded segments as an SPSS .sav or Stata .dta file with labels")
    p.add_argument("dataset", choices=list(report_constants.STAT_DATASETS))
    p.add_argument("--format", choices=list(report_constants.STAT_FORMATS), required=True, help="sav (SPSS) or dta (Stata)")
    p.add_argument("--output", help="the file to write (required)")
    p.add_argument("--measure", choices=list(coding_constants.MATRIX_MEASURES), default="counts", help="case-code-matrix: what a cell holds (default counts)")
    _ratings_options(p)
    p.set_defaults(handler=cmd_export_stats)

    p = sub.add_parser("methods", help="methods paragraph with the panel figures")
    p.add_argument("--invited", type=int)
    p.add_argument("--returned", type=int)
    p.add_argument("--median-minutes", type=float)
    _ratings_options(p)
    _determinant_options(p)
    p.add_argument("--format", choices=["md", "json"], default=None)
    p.set_defaults(handler=cmd_methods)
