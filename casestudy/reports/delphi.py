"""The Delphi report: items per round (median and IQR), consensus reached, the stopping rule
per item, and the movement between rounds, as tables for every export format.

The numbers come from :func:`casestudy.panel.delphi.delphi_results` (researchers of the study
only); this module only lays them out. Medians and quartiles are exact (multiples of a quarter
point for the linear method) and printed without rounding.
"""

from __future__ import annotations

from casestudy.panel.delphi import DelphiResults
from casestudy.reports.render import ReportTable


def _number(value) -> str:
    return "" if value is None else f"{float(value):g}"


def _share(item_round) -> str:
    share = item_round.changed_share
    return "" if share is None else f"{item_round.changed} of {item_round.compared} ({float(share) * 100:.0f} %)"


def _rounds_table(results: DelphiResults) -> ReportTable:
    rows = [[r["round"], r["status"], r["experts"], r["items"], r["consensus"], "" if r["stable"] is None else r["stable"], r["met"]]
            for r in results.rounds]
    return ReportTable("Delphi rounds: experts, items, consensus and the stopping rule",
                       ["Round", "Status", "Experts", "Items", "Consensus reached", "Stable since the previous round", "Stopping rule met"],
                       rows, [f"Stopping rule, chosen before round 1 closed: {results.rule.text()}."], "Rounds")


def _items_table(results: DelphiResults) -> ReportTable:
    numbers = [r["round"] for r in results.rounds]
    columns = ["Statement", "Case"]
    for number in numbers:
        columns += [f"Round {number}: Mdn (IQR)"] + ([f"Round {number}: changed"] if number > 1 else [])
    columns.append("Rule met in round")
    rows = []
    for item in results.items:
        row = [item["label"], item["case"]]
        for r in item["rounds"]:
            cell = f"{_number(r.stats.median)} ({_number(r.stats.iqr)})" + (" *" if r.consensus else "") if r.stats else ""
            row.append(cell)
            if r.round > 1:
                row.append(_share(r))
        row.append(item["first_met"] or "not yet")
        rows.append(row)
    return ReportTable("Delphi items per round: median (interquartile range)", columns, rows,
                       [f"* consensus (IQR at most {_number(results.rule.iqr_max)}). Changed: experts whose answer differs from "
                        f"their answer in the previous round, of those who answered both. Quartiles by "
                        f"{results.rule.text().rsplit('quartiles by ', 1)[1]}."], "Items")


def _movement_table(results: DelphiResults) -> ReportTable:
    rows = []
    for item in results.items:
        for before, after in zip(item["rounds"], item["rounds"][1:]):
            if before.stats is None or after.stats is None:
                continue
            rows.append([item["label"], item["case"], f"{before.round} to {after.round}", _number(before.stats.median),
                         _number(after.stats.median), _number(after.stats.median - before.stats.median), _number(before.stats.iqr),
                         _number(after.stats.iqr), _number(after.stats.iqr - before.stats.iqr), _share(after)])
    return ReportTable("Delphi movement between rounds", ["Statement", "Case", "Rounds", "Median before", "Median after", "Median change",
                                                         "IQR before", "IQR after", "IQR change", "Changed"], rows,
                       ["Negative IQR change: the panel moved closer together."], "Movement")


def _revisions_table(results: DelphiResults) -> ReportTable:
    rows = [[r["round"], r["expert"], r["label"], r["case"], r["from"], r["to"], r["reason"]] for r in results.revisions]
    return ReportTable("Delphi revisions with the experts' reasons", ["Round", "Expert", "Statement", "Case", "From", "To", "Reason"],
                       rows, ["Experts by pseudonym; each saw only the group's median and IQR and their own previous answer."], "Revisions")


def delphi_tables(results: DelphiResults) -> list[ReportTable]:
    """Rounds, items per round, movement and revisions (empty ones are left out on export)."""
    return [_rounds_table(results), _items_table(results), _movement_table(results), _revisions_table(results)]


def delphi_long_table(results: DelphiResults) -> ReportTable:
    """One row per item and round with the unrounded figures (the CSV export)."""
    rows = []
    for item in results.items:
        for r in item["rounds"]:
            s = r.stats
            rows.append([item["item"], item["label"], item["case"], r.round, s.n if s else 0,
                         *(None if s is None else float(v) for v in ((s.median, s.q1, s.q3, s.iqr) if s else (None,) * 4)),
                         r.consensus, r.changed, r.compared, None if r.changed_share is None else float(r.changed_share),
                         r.stable, r.met])
    return ReportTable("Delphi items per round", ["item", "label", "case", "round", "n", "median", "q1", "q3", "iqr", "consensus",
                                                  "changed", "compared", "changed_share", "stable", "rule_met"], rows,
                       [results.rule.text()], "Items (long)")
