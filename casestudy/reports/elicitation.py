"""Determinants raised spontaneously vs after a probe, per case and level: the check against
confirmation bias of a two-stage interview (open questions first, then probes).

A **determinant** is a code with a level (its primary level in the codebook). In a case, a
determinant was raised **spontaneously** when at least one of its codings there is marked
spontaneous; **only after a probe** when it has codings marked "probe" and none spontaneous;
**unmarked** when none of its codings carries a mark (e.g. only in documents, or not suggested
yet). Each determinant of a case falls in exactly one of the three, so per case and level
``spontaneous + only_after_probe + unmarked = determinants``. Counted over the codings the asking
principal may see (blind coding), every coder's codings together.

The study row per level ("All cases") counts distinct determinants: raised spontaneously in at
least one case, otherwise only after a probe, otherwise unmarked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from casestudy import study as studies
from casestudy.access import Principal, require_researcher
from casestudy.coding.retrieval import SegmentFilter, segments
from casestudy.models import Study
from casestudy.reports.render import ReportTable

ALL_CASES = "All cases"
SUMMARY_COLUMNS = ("case", "level", "determinants", "spontaneous", "only_after_probe", "unmarked", "percent_spontaneous")
DETAIL_COLUMNS = ("case", "level", "code", "spontaneous_codings", "probe_codings", "unmarked_codings", "raised")


@dataclass
class ElicitationReport:
    """``summary``: one dict per case and level (:data:`SUMMARY_COLUMNS`), then per level the
    ``All cases`` row; ``detail``: one dict per case and determinant (:data:`DETAIL_COLUMNS`),
    ``raised`` being "spontaneously", "only after a probe" or "unmarked"."""

    summary: list[dict] = field(default_factory=list)
    detail: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"summary": self.summary, "detail": self.detail}

    def tables(self) -> list[ReportTable]:
        note = ("A determinant is a code with a level; raised spontaneously when at least one coding of it in the case "
                "is marked spontaneous, only after a probe when its codings are marked after a probe and none spontaneous.")
        return [
            ReportTable("Determinants raised spontaneously vs after a probe, per case and level", list(SUMMARY_COLUMNS),
                        [[row[c] for c in SUMMARY_COLUMNS] for row in self.summary], notes=[note], sheet="Per case and level"),
            ReportTable("Determinants per case: how they came up", list(DETAIL_COLUMNS),
                        [[row[c] for c in DETAIL_COLUMNS] for row in self.detail], sheet="Per determinant"),
        ]


def _raised(counts: dict[str, int]) -> str:
    if counts.get("spontaneous"):
        return "spontaneously"
    if counts.get("probe"):
        return "only after a probe"
    return "unmarked"


_BUCKET = {"spontaneously": "spontaneous", "only after a probe": "only_after_probe", "unmarked": "unmarked"}


def _summary_row(case: str, level: str, raised: Sequence[str]) -> dict:
    counts = {bucket: sum(_BUCKET[r] == bucket for r in raised) for bucket in ("spontaneous", "only_after_probe", "unmarked")}
    total = len(raised)
    return {"case": case, "level": level, "determinants": total, **counts,
            "percent_spontaneous": round(100 * counts["spontaneous"] / total, 1) if total else None}


def elicitation_report(session: Session, study: Study, *, principal: Principal, case_ids: Sequence[int] | None = None) -> ElicitationReport:
    """The report for the study's cases (or ``case_ids``); researchers only (see the module docstring)."""
    require_researcher(principal)
    found = segments(session, study, SegmentFilter(case_ids=case_ids), with_context=False, principal=principal)
    # (case, level, code) -> mark -> codings
    per_code: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for segment in found:
        if not segment["level"]:
            continue
        per_code[(segment["case"], segment["level"], segment["code"])][segment["elicitation"] or "unmarked"] += 1
    level_order = {level: n for n, level in enumerate(study.levels or [])}
    cases = [c.public_label for c in studies.list_cases(session, study) if case_ids is None or c.id in set(case_ids)]
    levels = sorted({level for _, level, _ in per_code}, key=lambda lv: (level_order.get(lv, len(level_order)), lv))
    report = ElicitationReport()
    for (case, level, code), counts in sorted(per_code.items(), key=lambda item: (cases.index(item[0][0]) if item[0][0] in cases else 0,
                                                                                  level_order.get(item[0][1], 99), item[0][2])):
        report.detail.append({"case": case, "level": level, "code": code, "spontaneous_codings": counts.get("spontaneous", 0),
                              "probe_codings": counts.get("probe", 0), "unmarked_codings": counts.get("unmarked", 0),
                              "raised": _raised(counts)})
    for case in cases:
        for level in levels:
            raised = [d["raised"] for d in report.detail if d["case"] == case and d["level"] == level]
            if raised:
                report.summary.append(_summary_row(case, level, raised))
    for level in levels:
        best: dict[str, str] = {}
        for d in report.detail:
            if d["level"] != level:
                continue
            order = ("spontaneously", "only after a probe", "unmarked")
            current = best.get(d["code"])
            if current is None or order.index(d["raised"]) < order.index(current):
                best[d["code"]] = d["raised"]
        report.summary.append(_summary_row(ALL_CASES, level, list(best.values())))
    return report
