"""Matrices over the retrieved segments: case x code (counts, presence or characters; by coder:
union, intersection or each), code co-occurrence (overlapping codings), and a manager vs
therapist comparison per case. Only the codings the asking principal may see count (blind coding).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import study as studies
from casestudy import tabular
from casestudy.access import Principal
from casestudy.codebook import tree as codebook
from casestudy.coding import blinding
from casestudy.coding.constants import MATRIX_COMBINE, MATRIX_MEASURES
from casestudy.coding.places import Place
from casestudy.coding.retrieval import NO_PERIOD, SegmentFilter, elicitation_condition, span_query, visible_filter
from casestudy.errors import UserError
from casestudy.models import (
    Case,
    Coding,
    Interview,
    Respondent,
    Study,
    User,
)


# --- matrices -----------------------------------------------------------------------------
@dataclass
class CodeMatrix:
    """A case x code matrix over the chosen coders' codings (see :func:`code_matrix`).

    ``rows`` are case labels (with ``combine="each"``: "case · coder", per coder), ``columns``
    code paths, ``matrix`` the cells; ``passages[(row, column)]`` the coded passages behind a
    cell, each a :class:`~casestudy.coding.places.Place` (its ``link`` opens the coding page there).
    """

    rows: list[str]
    columns: list[str]
    matrix: list[list[int]]
    measure: str
    combine: str
    coders: list[str]
    passages: Mapping[tuple[int, int], list[Place]] = field(default_factory=dict)

    def links(self) -> list[list[str]]:
        """Per cell, the link to its first passage ("" for an empty cell)."""
        return [[self.passages[(r, c)][0].link if self.passages.get((r, c)) else "" for c in range(len(self.columns))]
                for r in range(len(self.rows))]


class _Passages(Mapping):
    """``CodeMatrix.passages``: the cells' passages kept as (interview id, start, end) tuples and
    made :class:`Place` objects when a cell is read (a matrix over 200,000 codings has ~190,000
    passages; building them all cost a third of the matrix, and a page shows one cell's)."""

    def __init__(self, runs: dict[tuple[int, int], list[tuple[int, int, int]]]):
        self._runs = runs

    def __getitem__(self, key: tuple[int, int]) -> list[Place]:
        return [Place(*run) for run in self._runs[key]]

    def __iter__(self):
        return iter(self._runs)

    def __len__(self) -> int:
        return len(self._runs)

    def __contains__(self, key) -> bool:
        return key in self._runs


def _merged(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans joined into passages, in order."""
    if len(spans) == 1:
        return list(spans)
    passages: list[list[int]] = []
    for start, end in sorted(spans):
        if passages and start < passages[-1][1]:
            passages[-1][1] = max(passages[-1][1], end)
        else:
            passages.append([start, end])
    return [(a, b) for a, b in passages]


def _intersected(first: list[tuple[int, int]], second: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The characters both lists of passages (each merged, in order) cover, as passages."""
    result, i, j = [], 0, 0
    while i < len(first) and j < len(second):
        start, end = max(first[i][0], second[j][0]), min(first[i][1], second[j][1])
        if start < end:
            result.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return result


def code_matrix(
    session: Session,
    study: Study,
    measure: str = "counts",
    flt: SegmentFilter | None = None,
    *,
    principal: Principal,
    coders: Sequence[int] | None = None,
    combine: str = "union",
    by_period: bool = False,
) -> CodeMatrix:
    """Rows: cases; columns: code paths; a cell measures the coded passages of that code in that case.

    Only the codings ``principal`` may see count (blind coding), narrowed by ``flt`` (code,
    level, case, role, respondent, interview, coder, elicitation) and ``coders`` (user ids; default: every
    coder with a visible coding). ``combine``: ``union`` (coded by any chosen coder),
    ``intersection`` (coded by every chosen coder: the characters all of them coded) or ``each``
    (one row per case and coder). A passage is a run of characters coded with the code in one
    interview (overlapping codings are one passage). ``measure``: ``counts`` (passages),
    ``presence`` (1 when there is one) or ``characters`` (characters covered). ``by_period``:
    one row per case and period (the coding's period, else its interview's; codings tied to none
    in a row "(no period)"), so the periods of a case stand side by side.
    """
    if measure not in MATRIX_MEASURES:
        raise UserError(f"unknown measure {measure!r}; choose one of: {', '.join(MATRIX_MEASURES)}")
    if combine not in MATRIX_COMBINE:
        raise UserError(f"unknown way to combine coders {combine!r}; choose one of: {', '.join(MATRIX_COMBINE)}")
    narrowed = dataclasses.replace(flt or SegmentFilter())
    if coders is not None:
        narrowed.coder_ids = list(coders) if narrowed.coder_ids is None else [c for c in narrowed.coder_ids if c in set(coders)]
    narrowed = visible_filter(session, study, narrowed, principal)
    # (case id, or (case id, period id) by period; code id, coder id) -> interview id -> spans
    spans: dict[tuple, dict[int, list[tuple[int, int]]]] = {}
    periods_seen: dict[int, set[int | None]] = defaultdict(set)
    for interview_id, case_id, code_id, coder_id, start, end, *period in session.connection().execute(
            span_query(study, narrowed, with_period=by_period)).all():
        row_key = case_id
        if by_period:
            row_key = (case_id, period[0])
            periods_seen[case_id].add(period[0])
        by_interview = spans.get((row_key, code_id, coder_id))
        if by_interview is None:
            by_interview = spans[(row_key, code_id, coder_id)] = {}
        found = by_interview.get(interview_id)
        if found is None:
            by_interview[interview_id] = [(start, end)]
        else:
            found.append((start, end))
    wanted = narrowed.coder_ids if coders is not None else {coder_id for _, _, coder_id in spans}
    chosen_users = session.execute(select(User.id, User.username).where(User.id.in_(list(wanted or []))).order_by(User.username)).all()
    chosen = [name for _, name in chosen_users]
    cases = [(c.id, c.public_label) for c in studies.list_cases(session, study)]
    if by_period:
        cases = _case_periods(session, study, periods_seen)
    groups = [(f"{label} · {name}", case_id, [user_id]) for case_id, label in cases for user_id, name in chosen_users] \
        if combine == "each" else [(label, case_id, [user_id for user_id, _ in chosen_users]) for case_id, label in cases]
    code_ids = {code_id for _, code_id, _ in spans}
    cells: dict[tuple[int, int], list[tuple[int, int, int]]] = {}  # (row, code id) -> (interview id, start, end)
    for row_index, (_, case_id, group) in enumerate(groups):
        for code_id in code_ids:
            per_coder = [spans.get((case_id, code_id, coder), {}) for coder in group]
            interviews = sorted({i for by_interview in per_coder for i in by_interview})
            places = []
            for interview_id in interviews:
                if combine == "intersection":
                    runs = _merged(per_coder[0].get(interview_id, [])) if per_coder else []
                    for other in per_coder[1:]:
                        runs = _intersected(runs, _merged(other.get(interview_id, [])))
                elif len(per_coder) == 1:
                    runs = _merged(per_coder[0][interview_id])
                else:
                    runs = _merged([s for by_interview in per_coder for s in by_interview.get(interview_id, ())])
                places += [(interview_id, a, b) for a, b in runs]
            if places:
                cells[(row_index, code_id)] = places
    paths = codebook.code_paths(codebook.all_codes(session, study))
    columns = sorted({code_id for _, code_id in cells}, key=lambda i: paths.get(i, ""))
    value = {"counts": len, "presence": lambda p: 1 if p else 0, "characters": lambda p: sum(end - start for _, start, end in p)}[measure]
    matrix = [[value(cells.get((r, code_id), [])) for code_id in columns] for r in range(len(groups))]
    passages = {(r, c): cells[(r, code_id)] for r in range(len(groups)) for c, code_id in enumerate(columns) if (r, code_id) in cells}
    return CodeMatrix([label for label, _, _ in groups], [paths.get(i, str(i)) for i in columns], matrix, measure, combine, chosen,
                      _Passages(passages))


def _case_periods(session: Session, study: Study, seen: dict[int, set[int | None]]) -> list[tuple[tuple[int, int | None], str]]:
    """((case id, period id), 'Case B · PRE-REORG') per row: every period of every case in time
    order, then the case's codings tied to no period (only where there are some)."""
    from casestudy import periods as case_periods

    rows = []
    for case in studies.list_cases(session, study):
        rows += [((case.id, p.id), f"{case.public_label} · {p.name}") for p in case_periods.list_periods(session, case)]
        if None in seen.get(case.id, set()):
            rows.append(((case.id, None), f"{case.public_label} · {NO_PERIOD}"))
    return rows


def case_code_matrix(session: Session, study: Study, measure: str = "counts", flt: SegmentFilter | None = None, *,
                     principal: Principal, coders: Sequence[int] | None = None, combine: str = "union") -> tuple[list[str], list[str], list[list[int]]]:
    """(rows, columns, cells) of :func:`code_matrix`."""
    found = code_matrix(session, study, measure, flt, principal=principal, coders=coders, combine=combine)
    return found.rows, found.columns, found.matrix


def cooccurrence_matrix(session: Session, study: Study, flt: SegmentFilter | None = None, *,
                        principal: Principal) -> tuple[list[str], list[list[int]]]:
    """How often two codes' codings overlap (share a character) in the same interview, over the
    codings ``principal`` may see.

    The diagonal holds each code's number of codings. Counted per pair of codings.
    """
    query = span_query(study, visible_filter(session, study, flt, principal))
    by_interview: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for interview_id, _, code_id, _, start, end in session.connection().execute(query.order_by(Coding.interview_id, Coding.start)).all():
        by_interview[interview_id].append((start, end, code_id))
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for spans in by_interview.values():
        active: list[tuple[int, int, int]] = []
        for start, end, code_id in spans:  # sorted by start: a sweep over open spans
            active = [a for a in active if a[1] > start]
            counts[(code_id, code_id)] += 1
            for _, _, other in active:
                if other != code_id:
                    counts[(min(code_id, other), max(code_id, other))] += 1
            active.append((start, end, code_id))
    paths = codebook.code_paths(codebook.all_codes(session, study))
    code_ids = sorted({a for a, _ in counts}, key=lambda i: paths.get(i, ""))
    matrix = [[counts.get((min(a, b), max(a, b)), 0) for b in code_ids] for a in code_ids]
    return [paths.get(i, str(i)) for i in code_ids], matrix


def role_comparison(session: Session, study: Study, case: Case, *, principal: Principal, elicitation: str | None = None) -> list[dict]:
    """Per code in a case: how often each respondent role raised it, and who alone did (over the
    codings ``principal`` may see; with ``elicitation`` only those marked so, see
    :data:`~casestudy.coding.retrieval.ELICITATION_FILTERS`). Documents have no role and do not count."""
    coder_ids = blinding.coder_filter(session, study, principal, None)
    query = (
        select(Coding.code_id, Respondent.role, func.count(Coding.id))
        .join(Interview, Coding.interview_id == Interview.id)
        .join(Respondent, Interview.respondent_id == Respondent.id)
        .where(Interview.case_id == case.id)
        .group_by(Coding.code_id, Respondent.role)
    )
    if coder_ids is not None:
        query = query.where(Coding.coder_id.in_(coder_ids))
    if (condition := elicitation_condition(elicitation)) is not None:
        query = query.where(condition)
    per_code: dict[int, dict[str, int]] = defaultdict(dict)
    for code_id, role, count in session.execute(query):
        per_code[code_id][role] = count
    roles = sorted({r.role for r in case.respondents})
    paths = codebook.code_paths(codebook.all_codes(session, study))
    rows = []
    for code_id, by_role in sorted(per_code.items(), key=lambda item: paths.get(item[0], "")):
        raised_by = [role for role in roles if by_role.get(role)]
        rows.append({"code": paths.get(code_id, ""), **{role: by_role.get(role, 0) for role in roles},
                     "only": raised_by[0] if len(raised_by) == 1 else ""})
    return rows


def matrix_table(rows: list[str], columns: list[str], matrix: list[list[int]], fmt: str, corner: str = "") -> str | bytes:
    header = [corner, *columns]
    body = [[label, *values] for label, values in zip(rows, matrix)]
    if fmt == "csv":
        return tabular.csv_text(header, body)
    if fmt == "xlsx":
        return tabular.xlsx_bytes({"Matrix": (header, body)})
    raise UserError(f"unknown export format {fmt!r}; choose csv or xlsx")
