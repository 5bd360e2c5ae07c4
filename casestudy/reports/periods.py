"""The periods of a case side by side: what each period's sources hold and how it was judged.

For every period of a case (time order), then "(no period)" when anything is tied to none:

- the interviews and the documents tied to it;
- the codings that speak about it (a coding's own period, else its interview's: the rule of
  :func:`casestudy.coding.retrieval.effective_period_id`), in total and per code level, as the
  principal may see them (blind coding shows a coder only their own);
- the audits of the case held for it: label, instrument, the mean of the item means overall
  and per level (:func:`casestudy.panel.audits.audit_summary`);
- per focus group on the case, the consensus scores' mean and range over items and the mean per
  level, by the group's stated split rule (Table 4's numbers, :mod:`casestudy.reports.table4`).

Numbers are unrounded; :func:`period_grid` lays the result out as one row per measure and one
column per period, for the page and the CLI (``casestudy report periods``).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import access
from casestudy import periods as case_periods
from casestudy.access import Principal
from casestudy.coding import blinding, retrieval
from casestudy.errors import UserError
from casestudy.models import Case, Code, Coding, Interview, Study
from casestudy.panel import audits, focus
from casestudy.reports import table4 as table4_module

NO_PERIOD = retrieval.NO_PERIOD


def compare_periods(session: Session, study: Study, case: Case, principal: Principal) -> dict:
    """The case's periods side by side (see the module docstring) as plain data::

        {"case", "exclusion_note", "levels": [...],
         "periods": [{"period", "from", "to", "interviews", "documents", "codings",
                      "codings_by_level": {LEVEL: n}, "audits": [{"label", "instrument", "held_on",
                      "mean", "n_items", "level_means"}], "focus_groups": [{"group", "split_rule",
                      "mean", "min", "max", "n_items", "level_means"}]}...],
         "notes": [...]}

    A case without periods is a UserError (nothing to compare)."""
    access.require_study_role(principal, study, "viewer")
    known = case_periods.list_periods(session, case)
    if not known:
        raise UserError(f"{case.public_label} has no periods to compare; add them first (casestudy cases periods add ...)")
    names = {p.id: p.name for p in known}
    columns = {p.name: _column(p.name, p.starts, p.ends) for p in known}
    columns[NO_PERIOD] = _column(NO_PERIOD, "", "")

    def column(period_id: int | None) -> dict:
        return columns[names.get(period_id, NO_PERIOD)]

    for kind, period_id, count in session.execute(
            select(Interview.kind, Interview.period_id, func.count(Interview.id)).where(Interview.case_id == case.id)
            .group_by(Interview.kind, Interview.period_id)):
        column(period_id)["interviews" if kind == "interview" else "documents"] += count
    query = (select(retrieval.effective_period_id(), Code.level, func.count(Coding.id))
             .select_from(Coding).join(Interview, Interview.id == Coding.interview_id).join(Code, Code.id == Coding.code_id)
             .where(Interview.case_id == case.id).group_by(retrieval.effective_period_id(), Code.level))
    coder_ids = blinding.coder_filter(session, study, principal, None)
    if coder_ids is not None:
        query = query.where(Coding.coder_id.in_(coder_ids))
    for period_id, level, count in session.execute(query):
        target = column(period_id)
        target["codings"] += count
        target["codings_by_level"][level] = target["codings_by_level"].get(level, 0) + count
    for audit in audits.list_audits(session, study, case):
        summary = audits.audit_summary(session, audit)
        column(audit.period_id)["audits"].append({
            "label": audit.label, "instrument": f"{summary['instrument']['name']} {summary['instrument']['version']}",
            "held_on": audit.held_on, "mean": summary["overall"]["mean"], "n_items": summary["overall"]["n_items"],
            "level_means": {level: value["mean"] for level, value in summary["levels"].items()}})
    notes, untied_column = [], columns[NO_PERIOD]
    for group in focus.list_groups(session, study):
        if group.case_id != case.id:
            continue
        try:
            rows, instrument = table4_module.study_rows(session, group)
        except UserError:
            notes.append(f"{group.title}: no consensus scores yet")
            continue
        for period in table4_module.table4(rows, instrument, split_rule=group.split_rule).summaries():
            columns.get(period.period, untied_column)["focus_groups"].append({"group": group.title, "split_rule": group.split_rule, **period.as_json()})
    shown = [columns[p.name] for p in known]
    untied = columns[NO_PERIOD]
    if untied["interviews"] or untied["documents"] or untied["codings"] or untied["audits"]:
        shown.append(untied)
    levels = [lv for lv in study.levels if any(lv in c["codings_by_level"] for c in shown)]
    levels += sorted({lv for c in shown for lv in c["codings_by_level"]} - set(levels))
    return {"case": case.public_label, "exclusion_note": case_periods.exclusion_note(session, case), "levels": levels,
            "periods": shown, "notes": notes}


def _column(name: str, starts: str, ends: str) -> dict:
    return {"period": name, "from": starts, "to": ends, "interviews": 0, "documents": 0, "codings": 0,
            "codings_by_level": {}, "audits": [], "focus_groups": []}


def period_grid(result: dict) -> tuple[list[str], list[dict]]:
    """(columns, rows) of :func:`compare_periods`: one row per measure ("interviews", "codings:
    team", "audit spring: overall mean", "consensus: mean", "consensus: team" ..., the group's
    title added when the case has several focus groups), one column per period ("" where a
    period has none of it); numbers unrounded."""
    periods = [p["period"] for p in result["periods"]]
    rows: list[dict] = []

    def add(measure: str, values: dict) -> None:
        rows.append({"measure": measure, **{name: values.get(name, "") for name in periods}})

    add("time", {p["period"]: f"{p['from']} to {p['to']}" if p["from"] else "" for p in result["periods"]})
    for key in ("interviews", "documents", "codings"):
        add(key, {p["period"]: p[key] for p in result["periods"]})
    for level in result["levels"]:
        add(f"codings: {level}", {p["period"]: p["codings_by_level"].get(level, 0) for p in result["periods"]})
    audit_labels = list(dict.fromkeys(a["label"] for p in result["periods"] for a in p["audits"]))
    for label in audit_labels:
        found = {p["period"]: a for p in result["periods"] for a in p["audits"] if a["label"] == label}
        add(f"audit {label}: overall mean", {name: a["mean"] for name, a in found.items()})
        for level in dict.fromkeys(lv for a in found.values() for lv in a["level_means"]):
            add(f"audit {label}: {level}", {name: a["level_means"].get(level) for name, a in found.items()})
    groups = list(dict.fromkeys(g["group"] for p in result["periods"] for g in p["focus_groups"]))
    for title in groups:
        found = {p["period"]: g for p in result["periods"] for g in p["focus_groups"] if g["group"] == title}
        prefix = "consensus" if len(groups) == 1 else f"consensus ({title})"  # one group: its title is on the page
        add(f"{prefix}: mean", {name: g["mean"] for name, g in found.items()})
        add(f"{prefix}: range", {name: f"{g['min']}-{g['max']}" for name, g in found.items()})
        for level in dict.fromkeys(lv for g in found.values() for lv in g["level_means"]):
            add(f"{prefix}: {level}", {name: g["level_means"].get(level) for name, g in found.items()})
    return ["measure", *periods], rows
