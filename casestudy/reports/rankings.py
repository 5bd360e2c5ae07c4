"""Determinant rankings from the experts' free-text lists.

1. **Mapping.** Free text is matched ignoring case and surrounding or repeated whitespace; a
   mapping ``{normalised text: canonical label}`` (confirmed by the researcher) merges spellings.
   :func:`suggest_mapping` proposes canonical labels by string similarity (rapidfuzz
   token-set ratio) for the researcher to confirm.
2. **Counting.** A determinant's count is the number of DISTINCT experts naming it in the
   ``recurring`` task (an expert counts once even when two of their phrases map to the same label).
   ``percent`` = count / experts x 100, where experts = the number who returned the questionnaire
   (``experts=`` or else the distinct experts in the input).
3. **Ranking.** Determinants named by at least ``threshold`` experts (default 2) are ranked by
   count; equal counts share a rank (standard competition ranking 1, 2, 2, 4) and are listed by
   Borda score (descending), then name. Those below the threshold form the ``singletons`` list;
   the ``additional`` task gets its own list with counts.
4. **Importance (per expert list).** An expert's list of m_e determinants is turned into
   positions 1..m_e: ordered entries by their rank (equal ranks share the mean position), entries
   without a rank share the mean of the remaining positions. Modified Borda count (Emerson 2013):
   an entry at position p earns m_e + 1 - p points, an unnamed determinant 0; ``borda`` is the sum
   over experts. ``mean_rank`` is the mean position over the experts who named it.
5. **Kendall's W** over the experts with a recurring list (m raters) and all N recurring canonical
   determinants: each expert's list is a partial ranking, completed by giving every determinant
   the expert did not name the mean of the remaining ranks, (m_e + 1 + N) / 2 (a tie block).
   W = 12 S / (m^2 (N^3 - N) - m sum_j T_j), S = sum_i (R_i - mean R)^2, T_j = sum (t^3 - t) over
   rater j's tie blocks. On complete rankings this equals Friedman's tie-corrected chi^2 / (m (N - 1)).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from casestudy.errors import UserError
from casestudy.panel.results import DeterminantMention
from casestudy.reports.inputs import normalise_text
from casestudy.reports.table2 import round_decimal


@dataclass
class RankedDeterminant:
    """One ranked determinant; ``percent``, ``borda`` and ``mean_rank`` are exact fractions, so a
    table rounds them by the stated rule (mean rank 21/8 = 2.625 prints 2.63 half up)."""

    rank: int
    determinant: str
    n_experts: int
    percent: Fraction
    borda: Fraction
    mean_rank: Fraction | None


@dataclass
class Rankings:
    experts: int
    ranking: list[RankedDeterminant]
    singletons: list[str]
    additional: list[dict]
    kendall_w: float | None
    threshold: int
    unmapped: list[str]
    positions: dict[str, dict[str, float]]  # expert -> {determinant: position}
    counts: dict[str, int] | None = None  # determinant -> distinct experts (recurring task)
    kendall_objects: int = 0  # N: determinants ranked in Kendall's W
    kendall_raters: int = 0  # m: experts with a recurring list

    def as_json(self) -> dict:
        return {
            "experts": self.experts,
            "ranking": [
                {"rank": r.rank, "determinant": r.determinant, "n_experts": r.n_experts, "percent": float(r.percent),
                 "borda": float(r.borda), "mean_rank": None if r.mean_rank is None else float(r.mean_rank)}
                for r in self.ranking
            ],
            "singletons": list(self.singletons),
            "additional": list(self.additional),
            "kendall_w": self.kendall_w,
            "kendall_n": self.kendall_objects,
            "kendall_m": self.kendall_raters,
        }


def canonical(text: str, mapping: dict[str, str] | None) -> str:
    key = normalise_text(text)
    if mapping and key in mapping:
        return mapping[key]
    return " ".join(text.split())


def _labels(mentions: Iterable[DeterminantMention], mapping) -> dict[str, str]:
    """normalised canonical key -> display label (first spelling seen)."""
    labels: dict[str, str] = {}
    for m in mentions:
        label = canonical(m.determinant, mapping)
        labels.setdefault(normalise_text(label), label)
    return labels


def expert_positions(mentions: Sequence[DeterminantMention], mapping=None) -> dict[str, dict[str, Fraction]]:
    """expert -> {canonical key: exact position 1..m_e} for the recurring task (see module doc, step 4)."""
    by_expert: dict[str, dict[str, int | None]] = defaultdict(dict)
    for m in mentions:
        if m.task != "recurring":
            continue
        key = normalise_text(canonical(m.determinant, mapping))
        entries = by_expert[m.expert]
        if key in entries:  # same determinant twice: keep the more important rank
            old = entries[key]
            entries[key] = old if m.rank is None else (m.rank if old is None else min(old, m.rank))
        else:
            entries[key] = m.rank
    positions: dict[str, dict[str, Fraction]] = {}
    for expert, entries in by_expert.items():
        ranked = sorted((r, k) for k, r in entries.items() if r is not None)
        unranked = sorted(k for k, r in entries.items() if r is None)
        result: dict[str, Fraction] = {}
        position = 1
        i = 0
        while i < len(ranked):
            j = i
            while j < len(ranked) and ranked[j][0] == ranked[i][0]:
                j += 1
            shared = position + Fraction(j - i - 1, 2)
            for _, k in ranked[i:j]:
                result[k] = shared
            position += j - i
            i = j
        if unranked:
            shared = Fraction(position + len(entries), 2)
            for k in unranked:
                result[k] = shared
        positions[expert] = result
    return positions


def kendall_w(rank_matrix) -> float | None:
    """Tie-corrected Kendall's W of an m x N matrix of ranks (rows = raters, ranks 1..N, ties averaged)."""
    R = np.asarray(rank_matrix, dtype=float)
    if R.ndim != 2 or R.shape[0] < 2 or R.shape[1] < 2:
        return None
    m, n = R.shape
    totals = R.sum(axis=0)
    s = float(((totals - totals.mean()) ** 2).sum())
    ties = 0.0
    for row in R:
        _, counts = np.unique(row, return_counts=True)
        ties += float((counts ** 3 - counts).sum())
    denominator = m * m * (n ** 3 - n) - m * ties
    if denominator <= 0:
        return None
    return 12 * s / denominator


def complete_partial(positions: dict[str, dict[str, float]], universe: Sequence[str]) -> np.ndarray:
    """Each expert's partial ranking over ``universe``; unnamed items share the mean of the remaining ranks."""
    n = len(universe)
    rows = []
    for expert in sorted(positions):
        named = positions[expert]
        rest = (len(named) + 1 + n) / 2
        rows.append([named.get(k, rest) for k in universe])
    return np.array(rows, dtype=float)


def rank_determinants(
    mentions: Sequence[DeterminantMention],
    mapping: dict[str, str] | None = None,
    experts: int | None = None,
    threshold: int = 2,
) -> Rankings:
    if not mentions:
        raise UserError("no determinants to rank")
    if threshold < 1:
        raise UserError("the threshold must be at least 1 expert")
    distinct = len({m.expert for m in mentions})
    if experts is None:
        experts = distinct
    if experts < distinct:
        raise UserError(f"--experts {experts} is smaller than the {distinct} distinct experts in the file")
    if experts < 1:
        raise UserError("the number of experts must be at least 1")
    labels = _labels(mentions, mapping)
    positions = expert_positions(mentions, mapping)
    named_by: dict[str, set[str]] = defaultdict(set)
    for expert, entries in positions.items():
        for key in entries:
            named_by[key].add(expert)
    borda: dict[str, Fraction] = defaultdict(Fraction)
    position_lists: dict[str, list[Fraction]] = defaultdict(list)
    for expert, entries in positions.items():
        m_e = len(entries)
        for key, p in entries.items():
            borda[key] += m_e + 1 - p
            position_lists[key].append(p)
    order = sorted(named_by, key=lambda k: (-len(named_by[k]), -borda[k], labels[k].casefold()))
    ranking = []
    previous, rank = None, 0
    for index, key in enumerate(order, start=1):
        count = len(named_by[key])
        if count < threshold:
            continue
        if count != previous:
            rank, previous = index, count
        ranking.append(RankedDeterminant(
            rank, labels[key], count, Fraction(100 * count, experts), borda[key],
            sum(position_lists[key]) / len(position_lists[key]),
        ))
    singletons = sorted((labels[k] for k in order if len(named_by[k]) < threshold), key=str.casefold)
    additional_by: dict[str, set[str]] = defaultdict(set)
    for m in mentions:
        if m.task == "additional":
            additional_by[normalise_text(canonical(m.determinant, mapping))].add(m.expert)
    additional = [
        {"determinant": labels[k], "n_experts": len(v)}
        for k, v in sorted(additional_by.items(), key=lambda kv: (-len(kv[1]), labels[kv[0]].casefold()))
    ]
    universe = sorted(named_by)
    w = kendall_w(complete_partial(positions, universe)) if len(positions) >= 2 else None
    unmapped_by: dict[str, str] = {}
    for m in mentions:
        if mapping is not None and normalise_text(m.determinant) not in mapping:
            unmapped_by.setdefault(normalise_text(m.determinant), " ".join(m.determinant.split()))
    unmapped = [unmapped_by[k] for k in sorted(unmapped_by)]
    return Rankings(experts, ranking, singletons, additional, w, threshold, unmapped,
                    {e: {labels[k]: p for k, p in entries.items()} for e, entries in positions.items()},
                    {labels[k]: len(v) for k, v in named_by.items()}, len(universe), len(positions))


def suggest_mapping(texts: Iterable[str], candidates: Sequence[str], limit: int = 3, cutoff: float = 60.0) -> list[dict]:
    """For each distinct free text, the most similar canonical candidates (rapidfuzz token-set ratio, 0-100)."""
    from rapidfuzz import fuzz, process

    choices = {normalise_text(c): c for c in candidates}
    result = []
    seen = set()
    for text in texts:
        key = normalise_text(text)
        if not key or key in seen:
            continue
        seen.add(key)
        matches = process.extract(key, list(choices), scorer=fuzz.token_set_ratio, limit=limit, score_cutoff=cutoff)
        result.append({
            "determinant": " ".join(text.split()),
            "suggestions": [{"canonical": choices[m[0]], "score": round(float(m[1]), 1)} for m in matches],
        })
    return result


def mapping_rows(mapping: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    """The mapping as an exportable determinant,canonical table (loadable with --mapping)."""
    return ["determinant", "canonical"], [[k, v] for k, v in sorted(mapping.items())]


#: Decimals per column of the printed ranking: percent, Borda (halves), mean rank.
RANKING_DECIMALS = {"percent": 1, "borda": 1, "mean_rank": 2}


def ranking_table(r: Rankings, rounding: str = "half-up") -> tuple[list[str], list[list]]:
    """The printed ranking; numbers as Decimals rounded by the stated rule, one number of decimals
    per column (:data:`RANKING_DECIMALS`)."""
    columns = ["Rank", "Determinant", "Experts (n)", "Experts (%)", "Borda", "Mean rank"]
    rows = [[x.rank, x.determinant, x.n_experts, round_decimal(x.percent, RANKING_DECIMALS["percent"], rounding),
             round_decimal(x.borda, RANKING_DECIMALS["borda"], rounding), round_decimal(x.mean_rank, RANKING_DECIMALS["mean_rank"], rounding)]
            for x in r.ranking]
    return columns, rows


# --- confirmed mappings in the store (researchers) ------------------------------------------------
def study_mapping(session, study, principal) -> dict[str, str]:
    """The study's confirmed mappings {normalised text: canonical}."""
    from sqlalchemy import select

    from casestudy.access import require_researcher
    from casestudy.models import DeterminantMapping

    require_researcher(principal)
    rows = session.scalars(select(DeterminantMapping).where(DeterminantMapping.study_id == study.id).order_by(DeterminantMapping.determinant_text))
    return {r.determinant_text: r.canonical for r in rows}


def confirm_mappings(session, study, principal, mapping: dict[str, str], code_ids: dict[str, int] | None = None) -> int:
    """Store (insert or update) researcher-confirmed mappings; every change is audited. Returns the count changed."""
    from sqlalchemy import select

    from casestudy.access import require_researcher
    from casestudy.models import DeterminantMapping, utcnow

    require_researcher(principal, edit=True)
    existing = {r.determinant_text: r for r in session.scalars(select(DeterminantMapping).where(DeterminantMapping.study_id == study.id))}
    changed = 0
    for text, label in mapping.items():
        key = normalise_text(text)
        label = " ".join((label or "").split())
        if not key or not label:
            raise UserError(f"mapping of {text!r}: the determinant and its canonical label must both be filled")
        row = existing.get(key)
        # Without a code for this text, a code linked earlier (integration.map_code) is kept, and a
        # new text mapped to a determinant that has a code takes that code.
        inherited = next((r.code_id for r in existing.values() if r.code_id is not None and normalise_text(r.canonical) == normalise_text(label)), None)
        code_id = (code_ids or {}).get(key, row.code_id if row is not None else inherited)
        if row is None:
            row = DeterminantMapping(study_id=study.id, determinant_text=key, canonical=label, code_id=code_id,
                                     confirmed_by=principal.actor, confirmed_at=utcnow())
            session.add(row)
            existing[key] = row
            changed += 1
        elif row.canonical != label or row.code_id != code_id:
            row.canonical, row.code_id, row.confirmed_by, row.confirmed_at = label, code_id, principal.actor, utcnow()
            changed += 1
    session.flush()
    return changed


def remove_mapping(session, study, principal, text: str) -> None:
    from sqlalchemy import select

    from casestudy.access import require_researcher
    from casestudy.models import DeterminantMapping

    require_researcher(principal, edit=True)
    row = session.scalar(select(DeterminantMapping).where(DeterminantMapping.study_id == study.id,
                                                          DeterminantMapping.determinant_text == normalise_text(text)))
    if row is None:
        raise UserError(f"no confirmed mapping for {text!r}")
    session.delete(row)
