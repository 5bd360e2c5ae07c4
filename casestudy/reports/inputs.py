"""Inputs of the reports stage: ratings, determinant mentions, mapping, outcomes and the scale.

The reports work on plain values (:class:`~casestudy.panel.results.Rating`,
:class:`~casestudy.panel.results.DeterminantMention`, :class:`~casestudy.panel.scale.Scale`), so
they run from CSV files of a panel held elsewhere as well as from the study's own panel.
:func:`report_inputs` assembles them once for the CLI and the Reports page alike; then
``table2.table2(ratings, scale, ...)`` and ``rankings.rank_determinants(mentions, mapping, ...)``
compute the tables.

CSV formats (UTF-8, a BOM is tolerated):

* ratings: header ``expert,case,item,score``; an empty score is missing; cases and items keep the
  order of first appearance; scores must be whole numbers within the scale; one row per
  expert x case x item.
* determinants: header ``expert,task,rank,determinant``; task is ``recurring`` or ``additional``;
  rank is the expert's importance order (1 = most important) or empty.
* mapping: header ``determinant,canonical``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from casestudy.errors import UserError
from casestudy.models import Study
from casestudy.panel import questionnaire, results
from casestudy.panel.results import TASKS, DeterminantMention, PanelFigures, Rating
from casestudy.panel.scale import PANEL_SCALE, Scale, parse_scale
from casestudy.reconstruction import summary
from casestudy.text import decode_utf8


# --- CSV loading -------------------------------------------------------------------------------
def _rows(source, required: tuple[str, ...], what: str) -> list[tuple[int, dict[str, str]]]:
    if isinstance(source, (str, Path)) and not (isinstance(source, str) and "\n" in source):
        path = Path(source)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read {what} file {path}: {exc.strerror or exc}")
        text = decode_utf8(f"{what} file {path}", raw, retry="try again")
    elif isinstance(source, bytes):
        text = decode_utf8(f"the {what} file", source, retry="try again")
    else:
        text = str(source).lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise UserError(f"{what} CSV, row 1 (header): missing column(s) {', '.join(missing)}; expected {','.join(required)}")
    reader.fieldnames = header
    rows = []
    for number, row in enumerate(reader, start=2):
        if None in row:
            raise UserError(f"{what} CSV, row {number}: more cells than header columns")
        if all(not (v or "").strip() for v in row.values()):
            continue
        values = {k: (row.get(k) or "").strip() for k in required}
        rows.append((number, values))
    return rows


def load_ratings(source, scale: Scale = PANEL_SCALE) -> list[Rating]:
    """Ratings from a CSV path, text or bytes; every bad row is a UserError naming the row."""
    ratings: list[Rating] = []
    seen: dict[tuple[str, str, str], int] = {}
    for number, row in _rows(source, ("expert", "case", "item", "score"), "ratings"):
        for column in ("expert", "case", "item"):
            if not row[column]:
                raise UserError(f"ratings CSV, row {number}: empty {column}")
        key = (row["expert"], row["case"], row["item"])
        if key in seen:
            raise UserError(f"ratings CSV, row {number}: duplicate rating of expert {key[0]} for case {key[1]}, item {key[2]!r} (first in row {seen[key]})")
        seen[key] = number
        text = row["score"]
        score = None
        if text:
            if not re.fullmatch(r"[+-]?\d+", text):
                raise UserError(f"ratings CSV, row {number}: score {text!r} is not a whole number")
            score = int(text)
            if not scale.contains(score):
                raise UserError(f"ratings CSV, row {number}: score {score} lies outside the scale {scale.text()}")
        ratings.append(Rating(*key, score))
    if not ratings:
        raise UserError("ratings CSV: no ratings found")
    return ratings


def load_determinants(source) -> list[DeterminantMention]:
    mentions: list[DeterminantMention] = []
    for number, row in _rows(source, ("expert", "task", "rank", "determinant"), "determinants"):
        if not row["expert"]:
            raise UserError(f"determinants CSV, row {number}: empty expert")
        task = row["task"].lower()
        if task not in TASKS:
            raise UserError(f"determinants CSV, row {number}: task {row['task']!r} must be recurring or additional")
        if not " ".join(row["determinant"].split()):
            raise UserError(f"determinants CSV, row {number}: empty determinant")
        rank = None
        if row["rank"]:
            if not re.fullmatch(r"\d+", row["rank"]) or int(row["rank"]) < 1:
                raise UserError(f"determinants CSV, row {number}: rank {row['rank']!r} must be a whole number from 1 (most important) or empty")
            rank = int(row["rank"])
        mentions.append(DeterminantMention(row["expert"], task, rank, row["determinant"]))
    if not mentions:
        raise UserError("determinants CSV: no determinants found")
    return mentions


def normalise_text(text: str) -> str:
    """Matching key of free text: case and surrounding or repeated whitespace ignored."""
    return " ".join(text.split()).casefold()


def load_mapping(source) -> dict[str, str]:
    """determinant,canonical -> {normalised free text: canonical label}."""
    mapping: dict[str, str] = {}
    for number, row in _rows(source, ("determinant", "canonical"), "mapping"):
        key = normalise_text(row["determinant"])
        canonical = " ".join(row["canonical"].split())
        if not key or not canonical:
            raise UserError(f"mapping CSV, row {number}: determinant and canonical must both be filled")
        if key in mapping and mapping[key] != canonical:
            raise UserError(f"mapping CSV, row {number}: {row['determinant']!r} is already mapped to {mapping[key]!r}")
        mapping[key] = canonical
    return mapping


# --- from the study ------------------------------------------------------------------------------
NO_PANEL = "no expert-panel answers are in the database yet; pass --{option} FILE.csv (or upload a CSV on the Reports page)"


def study_scale(session: Session, study: Study) -> Scale | None:
    """The scale of the study's own questionnaire (None without one), so legends match the form."""
    return questionnaire.study_scale(session, study)


def study_ratings(session: Session, study: Study) -> list[Rating]:
    """The study's submitted panel ratings; UserError while there are none."""
    found = results.panel_ratings(session, study)
    if not found:
        raise UserError(NO_PANEL.format(option="ratings"))
    return found


def study_determinants(session: Session, study: Study) -> list[DeterminantMention]:
    """The study's submitted determinant lists; UserError while there are none."""
    found = results.panel_determinants(session, study)
    if not found:
        raise UserError(NO_PANEL.format(option="determinants"))
    return found


def study_panel_figures(session: Session, study: Study) -> PanelFigures | None:
    return results.panel_figures(session, study)


def study_case_determinants(session: Session, study: Study) -> dict[str, list[str]]:
    return summary.case_determinants(session, study) or {}


def has_panel(session: Session, study: Study) -> bool:
    return bool(results.panel_ratings(session, study))


@dataclass
class ReportInputs:
    """Everything the panel reports are computed from, assembled once for the CLI and the page."""

    scale: Scale
    ratings: list[Rating] | None = None  # None: no ratings anywhere yet
    mentions: list[DeterminantMention] | None = None
    mapping: dict[str, str] | None = None
    outcomes: dict[str, str] = field(default_factory=dict)
    figures: PanelFigures | None = None
    ratings_from_file: bool = False


def report_inputs(
    session: Session | None,
    study: Study | None,
    principal=None,
    *,
    ratings_source=None,
    determinants_source=None,
    mapping_source=None,
    scale_text: str | None = None,
    require: tuple[str, ...] = (),
) -> ReportInputs:
    """The inputs of Table 2 and the rankings: from the given CSV sources where given, else from
    the study's panel.

    The scale is ``scale_text`` ("MIN-MAX") when given, else the study's questionnaire scale
    (with every point's label), else the reference study's 0-5. ``session``/``study`` may be None
    (CSV-only use, no database). ``require`` names inputs ("ratings", "determinants") whose
    absence is a UserError (the CLI); otherwise a missing input is None (the page says so).
    Outcomes, Table 1 mapping and panel figures come from the study when there is one.
    """
    from casestudy.reports import rankings, render

    stored_scale = study_scale(session, study) if study is not None else None
    scale = parse_scale(scale_text, None) if scale_text else (stored_scale or PANEL_SCALE)
    inputs = ReportInputs(scale=scale)
    if ratings_source is not None:
        inputs.ratings, inputs.ratings_from_file = load_ratings(ratings_source, scale), True
    elif study is not None:
        inputs.ratings = results.panel_ratings(session, study) or None
    if determinants_source is not None:
        inputs.mentions = load_determinants(determinants_source)
    elif study is not None:
        inputs.mentions = results.panel_determinants(session, study) or None
    if mapping_source is not None:
        inputs.mapping = load_mapping(mapping_source)
    elif study is not None:
        inputs.mapping = rankings.study_mapping(session, study, principal) or None
    if study is not None:
        inputs.outcomes = render.study_outcomes(session, study, principal)
        inputs.figures = results.panel_figures(session, study)
    for name, value in (("ratings", inputs.ratings), ("determinants", inputs.mentions)):
        if name in require and not value:
            raise UserError(NO_PANEL.format(option=name) if study is not None else f"pass --{name} FILE.csv")
    return inputs
