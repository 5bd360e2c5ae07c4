"""REFI-QDA project exchange: ``export qdpx`` and ``import qdpx``."""

from __future__ import annotations

from pathlib import Path

from casestudy.cli import Context, add_format_option, lazy_module
from casestudy.exchange import constants as exchange_constants

exchange_export = lazy_module("casestudy.exchange.export")
exchange_offsets = lazy_module("casestudy.exchange.offsets")
importer = lazy_module("casestudy.exchange.importer")


def _emit_report(ctx: Context, report: dict) -> None:
    if ctx.format in ("table", "text", None):
        print("\n".join(importer.report_lines(report)))
    else:
        ctx.emit(report)


def cmd_export(ctx: Context):
    with ctx.store.write("cli") as session:
        study = ctx.study(session, "viewer")  # exporting reads the study (the write only audits it)
        output = ctx.args.output or f"{''.join(ch if ch.isalnum() or ch in '-_' else '-' for ch in study.title).strip('-')[:80] or 'study'}.qdpx"
        options = exchange_export.ExportOptions(qualify_names=ctx.args.qualify_names, offsets=ctx.args.offsets, line_endings=ctx.args.line_endings)
        report = exchange_export.export_qdpx(session, study, Path(output), ctx.principal(session), options=options)
    _emit_report(ctx, report)


def cmd_import(ctx: Context):
    with ctx.store.read() as session:
        principal = ctx.principal(session)
    report = importer.import_qdpx_staged(ctx.store, ctx.actor, Path(ctx.args.file), title=ctx.args.title, offset_mode=ctx.args.offsets,
                                         principal=principal, language=ctx.args.language, cases_from_sets=ctx.args.cases_from_sets)
    _emit_report(ctx, report)


def register(subparsers) -> None:
    export = subparsers.add_parser("export", help="export the study to another tool (REFI-QDA .qdpx)")
    export_sub = export.add_subparsers(dest="export_command", required=True)
    p = export_sub.add_parser("qdpx", help="the study as a REFI-QDA project (.qdpx): sources, codebook, codings, cases, variables, notes, code relations",
                              description="Write the study as a REFI-QDA project and print what could not be carried.")
    p.set_defaults(handler=cmd_export)
    p.add_argument("--output", "-o", help="the .qdpx file to write (default: <study title>.qdpx)")
    p.add_argument("--qualify-names", action="store_true", help="name codes whose name another code shares with their parent path (for QualCoder)")
    p.add_argument("--offsets", choices=list(exchange_constants.EXPORT_OFFSETS), default="codepoints",
                   help="; ".join(f"{k} = {v}" for k, v in exchange_constants.EXPORT_OFFSETS.items()))
    p.add_argument("--line-endings", choices=list(exchange_constants.LINE_ENDINGS), default="lf",
                   help="; ".join(f"{k} = {v}" for k, v in exchange_constants.LINE_ENDINGS.items()))
    add_format_option(p)

    imp = subparsers.add_parser("import", help="import a project from another tool (REFI-QDA .qdpx) into a new study")
    imp_sub = imp.add_subparsers(dest="import_command", required=True)
    p = imp_sub.add_parser("qdpx", help="a REFI-QDA project (.qdpx) into a NEW study, all or nothing",
                           description="Import a REFI-QDA project into a new study (all or nothing) and print the report. "
                                       "Offsets: " + "; ".join(f"{k} = {v}" for k, v in exchange_constants.OFFSET_HELP.items())
                                       + "; auto = verify against the selection texts.")
    p.set_defaults(handler=cmd_import)
    p.add_argument("file", help="the .qdpx file")
    p.add_argument("--title", help="title of the new study (default: the project's name)")
    p.add_argument("--offsets", choices=list(exchange_constants.OFFSET_MODES), default="auto", help="how the file counts text positions")
    p.add_argument("--language", default="en", help="language of the sources without a language variable (default en)")
    p.add_argument("--cases-from-sets", action="store_true", help="import sets of sources (MAXQDA's document groups) as cases")
    add_format_option(p)
