"""The panel beside the cases: each ranked determinant, its mapped codebook code, and per case
whether the interviews coded it and whether Table 1 names it; and the study's recommendations.

**Mapping determinants to codes.** A ranked determinant is a canonical label of the confirmed
mapping (:mod:`casestudy.reports.rankings`); :func:`map_code` points it at a codebook code by
setting ``code_id`` on every mapping row with that canonical label (a determinant that was never
remapped gets a row mapping it to itself).

**Counting, per determinant and case** (:func:`integration`):

* ``codings``: the codings of the mapped code *and its descendants* in the case's interviews
  that the asking principal may see (blind coding: a coder sees their own); codings by two
  coders of one passage count twice;
* ``respondents``: the distinct respondents whose interviews hold those codings, by role;
* ``in_table1``: the case's Table 1 summary names the determinant: one of its determinants
  points at the mapped code or a descendant, or its label equals the determinant (case and
  spacing ignored).

A ranked determinant without a mapped code has empty case cells and is listed as unmapped.

**Recommendations**: two ordered lists (``organisation``, ``team`` = team and therapists), each
recommendation linked to ranked determinants by their canonical labels.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import access
from casestudy import study as studies
from casestudy.access import Principal
from casestudy.codebook import tree as codebook
from casestudy.coding import retrieval
from casestudy.errors import UserError
from casestudy.models import (
    RECOMMENDATION_AUDIENCES,
    DeterminantMapping,
    Recommendation,
    Study,
    utcnow,
)
from casestudy.reconstruction import summary as table1_summary
from casestudy.reports import rankings as rankings_module
from casestudy.reports.constants import round_decimal
from casestudy.reports.inputs import normalise_text, report_inputs
from casestudy.reports.render import ReportTable

NO_DETERMINANTS = "no ranked determinants yet: the expert panel has returned no determinant lists (page Expert panel)"
AUDIENCE_LABELS = {"organisation": "Recommendations for the organisation", "team": "Recommendations for the team and therapists"}


# --- determinant -> code ----------------------------------------------------------------
def map_code(session: Session, study: Study, principal: Principal, determinant: str, code_ref: str | int | None) -> int:
    """Point the canonical determinant at a codebook code (id or path), or clear it with None.

    Returns the number of mapping rows changed. Coders and owners of the study only."""
    principal = access.require_study_role(principal, study, "coder")
    label = " ".join((determinant or "").split())
    if not label:
        raise UserError("name the determinant (its canonical label in the ranking)")
    code_id = codebook.get_code(session, study, code_ref).id if code_ref not in (None, "") else None
    key = normalise_text(label)
    rows = [r for r in session.scalars(select(DeterminantMapping).where(DeterminantMapping.study_id == study.id))
            if normalise_text(r.canonical) == key]
    if not rows:
        row = DeterminantMapping(study_id=study.id, determinant_text=key, canonical=label, code_id=None,
                                 confirmed_by=principal.actor, confirmed_at=utcnow())
        session.add(row)
        rows = [row]
    changed = 0
    for row in rows:
        if row.code_id != code_id:
            row.code_id, row.confirmed_by, row.confirmed_at = code_id, principal.actor, utcnow()
            changed += 1
    session.flush()
    return changed


def code_links(session: Session, study: Study) -> dict[str, int]:
    """{normalised canonical label: code id} of the study's mappings that point at a code."""
    links: dict[str, int] = {}
    for row in session.scalars(select(DeterminantMapping).where(DeterminantMapping.study_id == study.id, DeterminantMapping.code_id.is_not(None))
                               .order_by(DeterminantMapping.id)):
        links.setdefault(normalise_text(row.canonical), row.code_id)
    return links


# --- the view ---------------------------------------------------------------------------
@dataclass
class CaseCell:
    case: str
    codings: int = 0
    respondents: int = 0
    roles: list[str] = field(default_factory=list)
    in_table1: bool = False
    table1_labels: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """'3 (2: manager, therapist); Table 1' -- as the exported table prints a cell."""
        coded = f"{self.codings} ({self.respondents}: {', '.join(self.roles)})" if self.codings else "0"
        return coded + ("; Table 1" if self.in_table1 else "")


@dataclass
class IntegrationRow:
    rank: int
    determinant: str
    n_experts: int
    percent: Fraction
    code_id: int | None
    code: str  # the code's path, '' when unmapped
    cells: list[CaseCell]


@dataclass
class Integration:
    experts: int
    cases: list[str]
    rows: list[IntegrationRow]

    @property
    def unmapped(self) -> list[str]:
        return [r.determinant for r in self.rows if r.code_id is None]

    def as_json(self) -> dict:
        return {
            "experts": self.experts, "cases": self.cases, "unmapped": self.unmapped,
            "rows": [{"rank": r.rank, "determinant": r.determinant, "n_experts": r.n_experts, "percent": float(r.percent),
                      "code_id": r.code_id, "code": r.code,
                      "cases": {c.case: {"codings": c.codings, "respondents": c.respondents, "roles": c.roles,
                                         "in_table1": c.in_table1, "table1_labels": c.table1_labels} for c in r.cells}}
                     for r in self.rows],
        }


def _subtree(session: Session, study: Study, code_id: int) -> set[int]:
    code = codebook.get_code(session, study, code_id)
    return {code.id, *(c.id for c in codebook.descendants(session, code))}


def _table1_code_ids(session: Session, study: Study, paths: dict[int, str]) -> dict[str, list[tuple[str, int | None]]]:
    """Per case label: its Table 1 determinants as (label, code id or None)."""
    by_path = {path.casefold(): code_id for code_id, path in paths.items()}
    out: dict[str, list[tuple[str, int | None]]] = {}
    for row in table1_summary.table1_rows(session, study):
        items = []
        for d in row["determinants"]:
            ref = d.get("code_ref")
            code_id = ref if isinstance(ref, int) and ref in paths else by_path.get(str(ref).casefold()) if ref else None
            items.append((d["label"], code_id))
        out[row["case"]] = items
    return out


def integration(session: Session, study: Study, principal: Principal, threshold: int = 2, experts: int | None = None) -> Integration:
    """The integration view of the study (see the module docstring); members of the study only.

    UserError while the panel has no determinants."""
    principal = access.require_study_role(principal, study, "viewer")
    found = report_inputs(session, study, principal)
    if not found.mentions:
        raise UserError(NO_DETERMINANTS)
    ranked = rankings_module.rank_determinants(found.mentions, found.mapping, experts=experts, threshold=threshold)
    links = code_links(session, study)
    paths = codebook.code_paths(codebook.all_codes(session, study))
    cases = [c.public_label for c in studies.list_cases(session, study)]
    table1 = _table1_code_ids(session, study, paths)
    rows = []
    for item in ranked.ranking:
        code_id = links.get(normalise_text(item.determinant))
        cells = {case: CaseCell(case) for case in cases}
        if code_id is not None and code_id in paths:
            subtree = _subtree(session, study, code_id)
            respondents: dict[str, dict[str, str]] = defaultdict(dict)
            for segment in retrieval.segments(session, study, retrieval.SegmentFilter(code_ids=sorted(subtree)),
                                              with_context=False, principal=principal):
                cells[segment["case"]].codings += 1
                respondents[segment["case"]][segment["respondent"]] = segment["role"]
            for case, by_name in respondents.items():
                cells[case].respondents = len(by_name)
                cells[case].roles = sorted(set(by_name.values()))
        else:
            subtree, code_id = set(), None
        key = normalise_text(item.determinant)
        for case, determinants in table1.items():
            named = [label for label, ref in determinants if (ref is not None and ref in subtree) or normalise_text(label) == key]
            if case in cells and named:
                cells[case].in_table1, cells[case].table1_labels = True, named
        rows.append(IntegrationRow(item.rank, item.determinant, item.n_experts, item.percent, code_id,
                                   paths.get(code_id, "") if code_id else "", [cells[c] for c in cases]))
    return Integration(ranked.experts, cases, rows)


def integration_table(view: Integration) -> ReportTable:
    """The view as one exportable table: rank, determinant, experts (n, %), code, one column per case."""
    columns = ["Rank", "Determinant", "Experts (n)", "Experts (%)", "Code", *view.cases]
    rows = [[r.rank, r.determinant, r.n_experts, round_decimal(r.percent, 0), r.code or "(not mapped)", *(c.text for c in r.cells)]
            for r in view.rows]
    notes = [
        f"Note. Experts: of the {view.experts} who returned the questionnaire (percent rounded half up to whole numbers). "
        "A case cell gives the codings of the mapped code and its sub-codes in the case's interviews, with the number and "
        "roles of the respondents in whose interviews they are; 'Table 1' marks a case whose Table 1 names the determinant."
    ]
    if view.unmapped:
        notes.append(f"Not mapped to a code: {'; '.join(view.unmapped)}.")
    return ReportTable("Ranked determinants in the cases", columns, rows, notes, "Integration")


# --- recommendations --------------------------------------------------------------------
def _audience(value: str) -> str:
    value = (value or "").strip().lower()
    aliases = {"organization": "organisation", "org": "organisation", "team/therapist": "team", "therapist": "team", "therapists": "team"}
    value = aliases.get(value, value)
    if value not in RECOMMENDATION_AUDIENCES:
        raise UserError(f"unknown list {value!r}; recommendations are for: {', '.join(RECOMMENDATION_AUDIENCES)} (team = team and therapists)")
    return value


def _check_determinants(session: Session, study: Study, principal: Principal, determinants) -> list[str]:
    """Canonical labels, each refused unless the panel's determinants (any list) or the mapping know it."""
    labels = [" ".join(str(d).split()) for d in determinants or () if str(d).strip()]
    if not labels:
        return []
    found = report_inputs(session, study, principal)
    known: dict[str, str] = {}
    for m in found.mentions or ():
        label = rankings_module.canonical(m.determinant, found.mapping)
        known.setdefault(normalise_text(label), label)
    for label in (found.mapping or {}).values():
        known.setdefault(normalise_text(label), label)
    out = []
    for label in labels:
        if normalise_text(label) not in known:
            shown = "; ".join(sorted(known.values(), key=str.casefold)[:8]) or "none yet"
            raise UserError(f"{label!r} is not one of the panel's determinants; e.g. {shown}")
        if known[normalise_text(label)] not in out:
            out.append(known[normalise_text(label)])
    return out


def list_recommendations(session: Session, study: Study, principal: Principal, audience: str | None = None) -> list[Recommendation]:
    access.require_study_role(principal, study, "viewer")
    query = select(Recommendation).where(Recommendation.study_id == study.id)
    if audience:
        query = query.where(Recommendation.audience == _audience(audience))
    rows = list(session.scalars(query))
    return sorted(rows, key=lambda r: (RECOMMENDATION_AUDIENCES.index(r.audience), r.position, r.id))


def add_recommendation(session: Session, study: Study, principal: Principal, audience: str, text: str,
                       determinants=()) -> Recommendation:
    principal = access.require_study_role(principal, study, "coder")
    audience = _audience(audience)
    text = (text or "").strip()
    if not text:
        raise UserError("a recommendation needs its text")
    labels = _check_determinants(session, study, principal, determinants)
    position = max((r.position for r in list_recommendations(session, study, principal, audience)), default=0) + 1
    row = Recommendation(study_id=study.id, audience=audience, position=position, text=text, determinants=labels, created_by=principal.actor)
    session.add(row)
    session.flush()
    return row


def _get_recommendation(session: Session, study: Study, recommendation_id: int) -> Recommendation:
    row = session.get(Recommendation, int(recommendation_id))
    if row is None or row.study_id != study.id:
        raise UserError(f"the study has no recommendation {recommendation_id}")
    return row


def edit_recommendation(session: Session, study: Study, principal: Principal, recommendation_id: int, text: str | None = None,
                        determinants=None, expected_version: int | None = None) -> Recommendation:
    """Change the text and/or the linked determinants (None keeps them)."""
    from casestudy.db import check_version

    principal = access.require_study_role(principal, study, "coder")
    row = _get_recommendation(session, study, recommendation_id)
    check_version(row, expected_version, ("text", "determinants"))
    if text is not None:
        if not text.strip():
            raise UserError("a recommendation needs its text")
        row.text = text.strip()
    if determinants is not None:
        row.determinants = _check_determinants(session, study, principal, determinants)
    session.flush()
    return row


def remove_recommendation(session: Session, study: Study, principal: Principal, recommendation_id: int) -> None:
    access.require_study_role(principal, study, "coder")
    session.delete(_get_recommendation(session, study, recommendation_id))
    session.flush()


def recommendation_tables(rows: list[Recommendation], view: Integration | None = None) -> list[ReportTable]:
    """One table per list: number, recommendation, the determinants it answers (with their rank
    and expert count when the integration view is given)."""
    ranks = {normalise_text(r.determinant): r for r in (view.rows if view else ())}

    def linked(labels: list[str]) -> str:
        parts = []
        for label in labels:
            row = ranks.get(normalise_text(label))
            parts.append(f"{label} (rank {row.rank}, {row.n_experts} experts)" if row else label)
        return "; ".join(parts)

    tables = []
    for audience in RECOMMENDATION_AUDIENCES:
        chosen = [r for r in rows if r.audience == audience]
        tables.append(ReportTable(AUDIENCE_LABELS[audience], ["No.", "Recommendation", "Determinants"],
                                  [[n, r.text, linked(r.determinants)] for n, r in enumerate(chosen, start=1)], [],
                                  "Organisation" if audience == "organisation" else "Team and therapists"))
    return tables


def recommendation_json(rows: list[Recommendation]) -> list[dict]:
    return [{"id": r.id, "list": r.audience, "number": n, "text": r.text, "determinants": list(r.determinants), "version": r.version}
            for audience in RECOMMENDATION_AUDIENCES
            for n, r in enumerate((x for x in rows if x.audience == audience), start=1)]
