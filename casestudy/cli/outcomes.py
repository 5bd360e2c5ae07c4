"""outcomes, summary, recommendation: what happened to the cases, their short summaries and the
study's recommendations.

``outcomes`` keeps the study's outcome descriptors, the cases' tags and each programme
component's sustainment (``report outcomes`` prints the distribution). ``summary`` checks the
case summaries, masks one (``summary mask CASE``; review and release it with ``masking review``
/ ``masking release`` like any masked text), lists the released ones and hands out a full
reconstruction on request (logged). ``recommendation`` keeps the two lists of recommendations,
linked to the panel's determinants.
"""

from __future__ import annotations

from casestudy.cli import Context, add_command, lazy_module, optional_date
from casestudy.errors import UserError

case_outcomes = lazy_module("casestudy.reconstruction.outcomes")
case_summary = lazy_module("casestudy.reconstruction.case_summary")
masked_summaries = lazy_module("casestudy.masking.summaries")
integration = lazy_module("casestudy.reports.integration")
studies = lazy_module("casestudy.study")
render = lazy_module("casestudy.reports.render")

AUDIENCES = ("organisation", "team")
SUSTAINMENT = ("sustained", "discontinued", "never_started", "unknown")


# --- outcomes -------------------------------------------------------------------------
def cmd_descriptors(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        rows = [{"name": d.name, "description": d.description} for d in case_outcomes.list_descriptors(session, study)]
    ctx.emit(rows, ["name", "description"])


def cmd_descriptor_add(ctx: Context):
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        if ctx.args.defaults:
            added = case_outcomes.add_default_descriptors(session, study, ctx.principal(session))
            print(f"added {len(added)} descriptor(s): {', '.join(d.name for d in added) or 'the study has them all'}")
            return
        if not ctx.args.name:
            raise UserError("name the descriptor, or pass --defaults for the reference study's set")
        row = case_outcomes.add_descriptor(session, study, ctx.principal(session), ctx.args.name, ctx.args.description or "")
        print(f"added outcome descriptor {row.name!r}")


def cmd_descriptor_remove(ctx: Context):
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        tags = case_outcomes.remove_descriptor(session, study, ctx.principal(session), ctx.args.name)
    print(f"removed outcome descriptor {ctx.args.name!r} ({tags} case tag(s) with it)")


def cmd_tag(ctx: Context):
    a = ctx.args
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        case = studies.get_case(session, study, a.case)
        if a.remove:
            case_outcomes.untag_case(session, study, ctx.principal(session), case, a.descriptor)
            print(f"{case.public_label}: removed {a.descriptor!r}")
        else:
            case_outcomes.tag_case(session, study, ctx.principal(session), case, a.descriptor, a.note or "")
            print(f"{case.public_label}: tagged {a.descriptor!r}")


def cmd_sustainment(ctx: Context):
    a = ctx.args
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        case = studies.get_case(session, study, a.case)
        row = case_outcomes.set_sustainment(session, study, ctx.principal(session), case, a.component, a.status, optional_date(a.on), a.note or "")
        print(f"{case.public_label} {row.type}: {case_outcomes.sustainment_text(row)}")


def cmd_outcomes_list(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        rows = case_outcomes.case_outcomes(session, study, ctx.principal(session))
    if ctx.format == "json":
        return ctx.emit(rows)
    ctx.emit([{"case": r["case"], "outcome": r["outcome_class"],
               "descriptors": "; ".join(d["descriptor"] + (f" ({d['note']})" if d["note"] else "") for d in r["descriptors"]),
               "components": "; ".join(f"{c['type']}: {c['text']}" for c in r["components"])} for r in rows],
             ["case", "outcome", "descriptors", "components"])


# --- case summaries ---------------------------------------------------------------------
def cmd_summary_list(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        rows = masked_summaries.summary_overview(session, study, ctx.principal(session))
    if ctx.format == "json":
        return ctx.emit(rows)
    ctx.emit([{**r, "warnings": "; ".join(r["warnings"])} for r in rows],
             ["case", "version", "words", "masked_status", "masked_id", "released", "warnings"])


def cmd_summary_mask(ctx: Context):
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        case = studies.get_case(session, study, ctx.args.case)
        row = masked_summaries.generate_summary(session, study, ctx.principal(session), case)
        open_candidates = sum(1 for c in row.candidates if c.get("status") == "open")
    print(f"masked summary {row.id} of {case.public_label}: {len(row.replacements)} replacement(s), {open_candidates} candidate(s) "
          f"to decide; review it with 'masking show {row.id}' and release it with 'masking release {row.id}'")


def cmd_summary_released(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        rows = masked_summaries.released_summaries_for(session, ctx.principal(session), study)
    ctx.emit(rows, ["case", "text", "hash", "released_at"])


def cmd_summary_appendix(ctx: Context):
    fmt = ctx.args.format or "md"
    with ctx.store.read() as session:
        study = ctx.study(session)
        data = masked_summaries.appendix_document(session, study, ctx.principal(session), fmt)
    ctx.write(data, "the DOCX appendix")


def cmd_summary_release(ctx: Context):
    a = ctx.args
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        case = studies.get_case(session, study, a.case)
        release = case_summary.release_on_request(session, study, ctx.principal(session), case, a.to, a.reason, a.version)
    if ctx.args.format == "json":
        return ctx.emit(release)
    ctx.write(case_summary.release_markdown(release))


def cmd_summary_releases(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        rows = case_summary.releases(session, study, ctx.principal(session))
    ctx.emit(rows, ["at", "actor", "case", "number", "requested_by", "reason"])


# --- recommendations ---------------------------------------------------------------------
def _determinants(values) -> list[str]:
    return [v for value in values or () for v in value.split(";") if v.strip()]


def cmd_recommendation_add(ctx: Context):
    a = ctx.args
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        row = integration.add_recommendation(session, study, ctx.principal(session), a.list, a.text, _determinants(a.determinant))
    print(f"added recommendation {row.id} ({row.audience}, number {row.position})")


def cmd_recommendation_edit(ctx: Context):
    a = ctx.args
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        determinants = [] if a.no_determinants else (_determinants(a.determinant) if a.determinant else None)
        row = integration.edit_recommendation(session, study, ctx.principal(session), a.id, a.text, determinants, a.expected_version)
    print(f"recommendation {row.id} saved (version {row.version})")


def cmd_recommendation_remove(ctx: Context):
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        integration.remove_recommendation(session, study, ctx.principal(session), ctx.args.id)
    print(f"removed recommendation {ctx.args.id}")


def cmd_recommendation_list(ctx: Context):
    """The two lists; with --format md/docx/xlsx/csv the exportable tables (with the ranks)."""
    fmt = ctx.args.format or ctx.args.global_format or "table"
    with ctx.store.read() as session:
        study = ctx.study(session)
        principal = ctx.principal(session)
        rows = integration.list_recommendations(session, study, principal)
        if fmt in ("table", "json"):
            return ctx.emit(integration.recommendation_json(rows), ["id", "list", "number", "text", "determinants"]) if fmt == "table" \
                else ctx.emit(integration.recommendation_json(rows))
        try:
            view = integration.integration(session, study, principal)
        except UserError:  # no panel yet: the tables without ranks
            view = None
        tables = integration.recommendation_tables(rows, view)
    if fmt == "csv":
        from casestudy import tabular

        return ctx.write(tabular.csv_text(["list", "number", "text", "determinants"],
                                          [[r["list"], r["number"], r["text"], "; ".join(r["determinants"])] for r in integration.recommendation_json(rows)]))
    ctx.write(render.render(tables, fmt), f"{fmt} output")


def register(subparsers) -> None:
    o = subparsers.add_parser("outcomes", help="outcome descriptors per case and each component's sustainment")
    osub = o.add_subparsers(dest="outcomes_command", required=True)
    add_command(osub, "list", "per case its outcome, descriptors and components' sustainment", cmd_outcomes_list, formats=True)
    add_command(osub, "descriptors", "the study's outcome descriptors", cmd_descriptors, formats=True)
    p = add_command(osub, "descriptor-add", "add an outcome descriptor (or --defaults: programme stopped, staff turnover, ...)", cmd_descriptor_add)
    p.add_argument("name", nargs="?")
    p.add_argument("--description")
    p.add_argument("--defaults", action="store_true", help="add the reference study's descriptors the study lacks")
    p = add_command(osub, "descriptor-remove", "remove an outcome descriptor and its tags", cmd_descriptor_remove)
    p.add_argument("name")
    p = add_command(osub, "tag", "give a case an outcome descriptor (with --remove: take it away)", cmd_tag)
    p.add_argument("case")
    p.add_argument("descriptor")
    p.add_argument("--note", help="e.g. 'four of the eleven team members left'")
    p.add_argument("--remove", action="store_true")
    p = add_command(osub, "sustainment", "a programme component's external-validity indicator", cmd_sustainment)
    p.add_argument("case")
    p.add_argument("component", help="the component's type (PH) or its number in the case")
    p.add_argument("status", choices=list(SUSTAINMENT))
    p.add_argument("--on", help="discontinued: the date it stopped (YYYY-MM-DD)")
    p.add_argument("--note")

    s = subparsers.add_parser("summary", help="case summaries: check, mask, appendix, full reconstruction on request")
    ssub = s.add_subparsers(dest="summary_command", required=True)
    add_command(ssub, "list", "per case the summary's length and its masked state", cmd_summary_list, formats=True)
    p = add_command(ssub, "mask", "draft the masked summary of a case's agreed version", cmd_summary_mask)
    p.add_argument("case")
    add_command(ssub, "released", "the released masked summaries", cmd_summary_released, formats=True)
    p = add_command(ssub, "appendix", "the study's appendix of released masked summaries (md or docx)", cmd_summary_appendix)
    p.add_argument("--format", choices=["md", "docx"], default=None)
    p.add_argument("--output")
    p = add_command(ssub, "release", "hand out a full reconstruction on request (logged in the audit log)", cmd_summary_release)
    p.add_argument("case")
    p.add_argument("--to", required=True, help="who asked for it")
    p.add_argument("--reason", required=True)
    p.add_argument("--version", type=int, help="version number (default: the latest)")
    p.add_argument("--format", choices=["md", "json"], default=None)
    p.add_argument("--output")
    add_command(ssub, "releases", "every release of a full reconstruction on request", cmd_summary_releases, formats=True)

    r = subparsers.add_parser("recommendation", help="the study's recommendations (organisation; team and therapists)")
    rsub = r.add_subparsers(dest="recommendation_command", required=True)
    p = add_command(rsub, "list", "both lists; --format md/docx/xlsx/csv exports them with the determinants' ranks", cmd_recommendation_list)
    p.add_argument("--format", choices=["table", "json", "csv", "md", "xlsx", "docx"], default=None)
    p.add_argument("--output")
    p = add_command(rsub, "add", "add a recommendation to a list", cmd_recommendation_add)
    p.add_argument("list", choices=list(AUDIENCES), help="organisation, or team (= team and therapists)")
    p.add_argument("text")
    p.add_argument("--determinant", action="append", help="a ranked determinant it answers (repeatable, or ';'-separated)")
    p = add_command(rsub, "edit", "change a recommendation's text or determinants", cmd_recommendation_edit)
    p.add_argument("id", type=int)
    p.add_argument("--text")
    p.add_argument("--determinant", action="append")
    p.add_argument("--no-determinants", action="store_true", help="unlink every determinant")
    p.add_argument("--expected-version", type=int)
    p = add_command(rsub, "remove", "remove a recommendation", cmd_recommendation_remove)
    p.add_argument("id", type=int)
