"""Inputs of the reports stage: ratings, determinant mentions, the scale; CSV loaders; providers.

The reports work on plain values so they run standalone from CSV files today and from the
database once the expert-panel stage lands. The panel stage plugs in with::

    from casestudy import reportinputs
    reportinputs.register_ratings_provider(fn)        # fn(session, study) -> list[Rating] | None
    reportinputs.register_determinants_provider(fn)   # fn(session, study) -> list[DeterminantMention] | None
    reportinputs.register_panel_figures_provider(fn)  # fn(session, study) -> PanelFigures | None
    reportinputs.register_case_summary_provider(fn)   # fn(session, study) -> {case label: [short determinant labels]}

A provider returning ``None`` means "nothing yet"; the next registered provider is asked.
Then the library functions are called with these values, e.g.
``aggregation.table2(ratings, scale, case_order, item_order, outcome_by_case, rounding, average=...)``
and ``rankings.rank_determinants(mentions, mapping, experts=N)``.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError


@dataclass(frozen=True)
class Rating:
    expert: str
    case: str
    item: str
    score: int | None  # None = missing


@dataclass(frozen=True)
class DeterminantMention:
    expert: str
    task: str  # "recurring" or "additional"
    rank: int | None  # importance order, 1 = most important; None = not ordered
    determinant: str


@dataclass(frozen=True)
class Scale:
    """An integer rating scale from ``min`` to ``max``; ``labels`` maps points to their wording."""

    min: int = 0
    max: int = 5
    labels: dict[int, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.max <= self.min:
            raise UserError(f"invalid scale {self.min}-{self.max}: the maximum must exceed the minimum")
        for point in self.labels:
            if not self.min <= point <= self.max:
                raise UserError(f"scale label for {point} lies outside the scale {self.min}-{self.max}")

    @property
    def points(self) -> int:
        return self.max - self.min + 1

    def text(self) -> str:
        return f"{self.min}-{self.max}"


#: The reference study's expert-panel scale (0 = clearly contradicted, 5 = completely confirmed).
PANEL_SCALE = Scale(0, 5, {0: "clearly contradicted in this case", 5: "completely confirmed in this case"})


@dataclass(frozen=True)
class PanelFigures:
    invited: int | None = None
    returned: int | None = None
    median_minutes: float | None = None

    @property
    def response_rate(self) -> float | None:
        if not self.invited or self.returned is None:
            return None
        return self.returned / self.invited


def parse_scale(text: str | None, labels: dict[int, str] | None = None) -> Scale:
    """'MIN-MAX' (e.g. '0-5' or '1-5') -> Scale; None -> the panel scale 0-5."""
    if not text:
        return PANEL_SCALE
    match = re.fullmatch(r"\s*(-?\d+)\s*-\s*(-?\d+)\s*", text)
    if not match:
        raise UserError(f"invalid scale {text!r}; use MIN-MAX, e.g. 0-5")
    low, high = int(match.group(1)), int(match.group(2))
    if labels is None and (low, high) == (PANEL_SCALE.min, PANEL_SCALE.max):
        labels = PANEL_SCALE.labels
    return Scale(low, high, dict(labels or {}))


# --- CSV loading -------------------------------------------------------------------------------
def _rows(source, required: tuple[str, ...], what: str) -> list[tuple[int, dict[str, str]]]:
    if isinstance(source, (str, Path)) and not (isinstance(source, str) and "\n" in source):
        path = Path(source)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read {what} file {path}: {exc.strerror or exc}")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UserError(f"{what} file {path} is not UTF-8 text")
    elif isinstance(source, bytes):
        try:
            text = source.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UserError(f"the {what} file is not UTF-8 text")
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
            if not scale.min <= score <= scale.max:
                raise UserError(f"ratings CSV, row {number}: score {score} lies outside the scale {scale.text()}")
        ratings.append(Rating(*key, score))
    if not ratings:
        raise UserError("ratings CSV: no ratings found")
    return ratings


TASKS = ("recurring", "additional")


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


# --- providers (filled by later stages) -----------------------------------------------------------
RatingsProvider = Callable[..., "list[Rating] | None"]
_RATINGS: list[Callable] = []
_DETERMINANTS: list[Callable] = []
_PANEL_FIGURES: list[Callable] = []
_CASE_SUMMARIES: list[Callable] = []
_SCALES: list[Callable] = []
# Stages that register providers when imported; asked for lazily so plain library use works too.
PROVIDER_MODULES = ("casestudy.panel",)


def _register(registry: list, fn: Callable) -> Callable:
    if fn not in registry:
        registry.append(fn)
    return fn


def register_ratings_provider(fn: Callable) -> Callable:
    return _register(_RATINGS, fn)


def register_determinants_provider(fn: Callable) -> Callable:
    return _register(_DETERMINANTS, fn)


def register_panel_figures_provider(fn: Callable) -> Callable:
    return _register(_PANEL_FIGURES, fn)


def register_case_summary_provider(fn: Callable) -> Callable:
    return _register(_CASE_SUMMARIES, fn)


def register_scale_provider(fn: Callable) -> Callable:
    """``fn(session, study) -> Scale | None``: the scale the study's panel used."""
    return _register(_SCALES, fn)


def _load_provider_modules() -> None:
    import importlib

    for name in PROVIDER_MODULES:
        importlib.import_module(name)


def _ask(registry: list, session, study):
    _load_provider_modules()
    for provider in registry:
        result = provider(session, study)
        if result is not None:
            return result
    return None


NO_PANEL = "no expert-panel answers are in the database yet; pass --{option} FILE.csv (or upload a CSV on the Reports page)"


def study_scale(session, study) -> Scale | None:
    """The scale of the study's own questionnaire, so table legends match the form exactly."""
    return _ask(_SCALES, session, study)


def study_ratings(session, study) -> list[Rating]:
    """The study's panel ratings from the registered providers; UserError while there are none."""
    result = _ask(_RATINGS, session, study)
    if not result:
        raise UserError(NO_PANEL.format(option="ratings"))
    return list(result)


def study_determinants(session, study) -> list[DeterminantMention]:
    result = _ask(_DETERMINANTS, session, study)
    if not result:
        raise UserError(NO_PANEL.format(option="determinants"))
    return list(result)


def study_panel_figures(session, study) -> PanelFigures | None:
    return _ask(_PANEL_FIGURES, session, study)


def study_case_determinants(session, study) -> dict[str, list[str]]:
    return _ask(_CASE_SUMMARIES, session, study) or {}


def has_panel(session, study) -> bool:
    return bool(_ask(_RATINGS, session, study))
