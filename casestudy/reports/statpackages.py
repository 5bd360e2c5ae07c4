"""Data sets for statistical packages: SPSS ``.sav`` and Stata ``.dta`` files with variable and
value labels, written with ``pyreadstat``.

Four data sets (:data:`~casestudy.reports.constants.STAT_DATASETS`):

* ``ratings-long``: one row per expert x case x statement: ``expert`` (text), ``case`` (coded
  1..k, value labels = the case labels), ``item`` (coded 1..m, value labels = the statements),
  ``score`` (value labels = the scale's point labels; a missing rating is system-missing).
* ``ratings-wide``: one row per expert x case; one variable per statement (``item01`` ...,
  variable label = the statement, value labels = the scale's point labels).
* ``case-code-matrix``: one row per case; one variable per code (named after the code, a
  repeated name numbered; variable label = the full path), cells by the matrix measure (counts, presence, characters).
* ``segments``: one row per coded segment, the columns of ``coding.retrieval.SEGMENT_COLUMNS``;
  ``case`` and ``level`` are coded with value labels (case labels, the study's level names).

Every value label sits on a whole number (Stata's value labels are integers only). What a
format cannot hold is shortened and said in :attr:`StatFile.warnings`, never dropped silently:
variable names (Stata 32 characters, SPSS 64 bytes; letters, digits and ``_``, starting with a
letter), variable labels (Stata 80 characters, SPSS 256 bytes), value labels (Stata 32,000
characters, SPSS 120 bytes). Strings of any length are kept (Stata 13+ ``strL``; SPSS very long
strings). More variables than Stata/BE's 2,048 is a warning, not a refusal.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from casestudy import access
from casestudy import study as studies
from casestudy.coding import matrices, retrieval
from casestudy.errors import UserError
from casestudy.models import Study
from casestudy.panel.results import Rating
from casestudy.panel.scale import Scale
from casestudy.reports.constants import STAT_DATASETS, STAT_FORMATS


@dataclass(frozen=True)
class FormatLimits:
    """What one file format can hold; lengths in characters or in UTF-8 bytes (``bytes_``)."""

    title: str
    name: int
    variable_label: int
    value_label: int
    bytes_: bool
    variables_warning: int | None = None
    label_set_suffix: bool = False  # value label sets are named variable name + number

    def length(self, text: str) -> int:
        return len(text.encode("utf-8")) if self.bytes_ else len(text)

    def shorten(self, text: str, limit: int) -> str:
        """``text`` cut to ``limit`` (characters or bytes) with an ellipsis, whole characters only."""
        if self.length(text) <= limit:
            return text
        cut = text
        while cut and self.length(cut + "…") > limit:
            cut = cut[:-1]
        return cut.rstrip() + "…"


LIMITS = {
    "sav": FormatLimits("SPSS .sav", name=64, variable_label=256, value_label=120, bytes_=True),
    "dta": FormatLimits("Stata .dta", name=32, variable_label=80, value_label=32000, bytes_=False, variables_warning=2048,
                        label_set_suffix=True),
}
MEDIA_TYPES = {"sav": "application/x-spss-sav", "dta": "application/x-stata-dta"}
MEASURES = ("nominal", "ordinal", "scale")  # SPSS measurement levels


@dataclass
class Variable:
    """One column: its name, label, values (None = missing) and integer value labels."""

    name: str
    label: str
    values: list
    kind: str = "number"  # "number" or "text"
    value_labels: dict[int, str] = field(default_factory=dict)
    measure: str = "scale"

    def __post_init__(self):
        if self.kind not in ("number", "text"):
            raise ValueError(f"unknown variable kind {self.kind!r}")
        if self.measure not in MEASURES:
            raise ValueError(f"unknown measurement level {self.measure!r}")
        for key in self.value_labels:
            if not isinstance(key, int) or isinstance(key, bool):
                raise UserError(f"variable {self.name}: value label key {key!r} is not a whole number (Stata labels integers only)")
        if self.value_labels:
            for value in self.values:
                if value is not None and value != int(value):
                    raise UserError(f"variable {self.name}: value {value!r} is not a whole number, so it cannot carry a value label")


@dataclass
class StatDataset:
    """A rectangular data set: its title (the file label) and its variables, all of one length."""

    title: str
    variables: list[Variable]

    def __post_init__(self):
        lengths = {len(v.values) for v in self.variables}
        if len(lengths) > 1:
            raise ValueError(f"variables of unequal length: {sorted(lengths)}")

    @property
    def rows(self) -> int:
        return len(self.variables[0].values) if self.variables else 0

    def column(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)


@dataclass
class StatFile:
    """A written file: its bytes, its media type and what had to be shortened to fit the format."""

    data: bytes
    media_type: str
    warnings: list[str] = field(default_factory=list)


# --- names ---------------------------------------------------------------------------------------
def variable_name(text: str, fallback: str = "v") -> str:
    """A variable name from free text: ASCII letters, digits and ``_``, starting with a letter,
    lower case ('Barriers > Staff turnover' -> 'barriers_staff_turnover')."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^0-9a-zA-Z]+", "_", ascii_text).strip("_").lower()
    if not name or not name[0].isalpha():
        name = f"{fallback}_{name}" if name else fallback
    return name


def _unique_names(variables: Sequence[Variable], limits: FormatLimits, warnings: list[str]) -> list[str]:
    """Each variable's name fitted to the format and unique (case-insensitively, as both packages
    compare names); every shortened or renumbered name is a warning naming the original.

    In Stata a value label set is named after its variable plus the set's number (pyreadstat's
    writer), and that name has the same 32-character limit: a labelled variable leaves room."""
    taken: set[str] = set()
    names = []
    labelled = sum(1 for v in variables if v.value_labels)
    room = len(str(max(labelled - 1, 0))) if limits.label_set_suffix else 0
    for variable in variables:
        limit = limits.name - (room if variable.value_labels else 0)
        name = variable.name[:limit]
        number = 1
        while name.lower() in taken:
            number += 1
            suffix = f"_{number}"
            name = variable.name[: limit - len(suffix)] + suffix
        if name != variable.name:
            reason = f"longer than {limit} characters" if len(variable.name) > limit else "already used"
            if len(variable.name) > limit and limit < limits.name:
                reason += f": {limits.name} less room for its value label's name"
            warnings.append(f"variable {variable.name!r} is named {name!r} in the {limits.title} file ({reason}); its label keeps the full text")
        taken.add(name.lower())
        names.append(name)
    return names


# --- writing -------------------------------------------------------------------------------------
def write_dataset(dataset: StatDataset, fmt: str) -> StatFile:
    """The data set as a ``.sav`` or ``.dta`` file (bytes), labels shortened to the format's limits
    with a warning each; UserError for an unknown format or an empty data set."""
    import pandas as pd
    import pyreadstat

    if fmt not in STAT_FORMATS:
        raise UserError(f"unknown statistics format {fmt!r}; choose {' or '.join(STAT_FORMATS)}")
    if not dataset.variables:
        raise UserError(f"{dataset.title}: nothing to export (no variables)")
    limits = LIMITS[fmt]
    warnings: list[str] = []
    if limits.variables_warning and len(dataset.variables) > limits.variables_warning:
        warnings.append(f"{len(dataset.variables):,} variables: Stata/BE reads at most {limits.variables_warning:,} (Stata/SE and MP read more)")
    names = _unique_names(dataset.variables, limits, warnings)
    columns, labels, value_labels, measures = {}, {}, {}, {}
    for name, variable in zip(names, dataset.variables):
        if variable.kind == "text":
            columns[name] = pd.Series(["" if v is None else str(v) for v in variable.values], dtype=object)
        else:
            columns[name] = pd.Series([float("nan") if v is None else float(v) for v in variable.values], dtype="float64")
        label = limits.shorten(variable.label, limits.variable_label)
        if label != variable.label:
            warnings.append(f"the label of {name} is shortened to {limits.variable_label} {'bytes' if limits.bytes_ else 'characters'} ({limits.title}'s limit): {label!r}")
        labels[name] = label
        if variable.value_labels:
            fitted = {}
            for value, text in variable.value_labels.items():
                fitted[value] = limits.shorten(text, limits.value_label)
                if fitted[value] != text:
                    warnings.append(f"the value label {value} of {name} is shortened to {limits.value_label} {'bytes' if limits.bytes_ else 'characters'} ({limits.title}'s limit): {fitted[value]!r}")
            value_labels[name] = fitted
        measures[name] = variable.measure
    frame = pd.DataFrame(columns)
    title = limits.shorten(dataset.title, 80)
    handle, path = tempfile.mkstemp(suffix=f".{fmt}")
    os.close(handle)
    try:
        if fmt == "sav":
            pyreadstat.write_sav(frame, path, file_label=title, column_labels=labels, variable_value_labels=value_labels, variable_measure=measures)
        else:
            pyreadstat.write_dta(frame, path, file_label=title, column_labels=labels, variable_value_labels=value_labels)
        with open(path, "rb") as handle_:
            data = handle_.read()
    except pyreadstat.ReadstatError as exc:  # a limit not caught above: say which format refused what
        raise UserError(f"the {limits.title} file could not be written: {exc}")
    finally:
        os.unlink(path)
    return StatFile(data, MEDIA_TYPES[fmt], warnings)


# --- data sets -----------------------------------------------------------------------------------
def _coded(values: Sequence[str], order: Sequence[str] | None = None) -> tuple[list[int], dict[int, str]]:
    """Text values as codes 1..k (in ``order``, else in order of first appearance) with their labels."""
    known = list(dict.fromkeys(order if order is not None else values))
    for value in values:
        if value not in known:
            known.append(value)
    code = {text: number for number, text in enumerate(known, start=1)}
    return [code[v] for v in values], {number: text for text, number in code.items()}


def _scale_labels(scale: Scale) -> dict[int, str]:
    return {point: scale.labels[point] for point in sorted(scale.labels)}


def _score_label(scale: Scale) -> str:
    return f"Rating (scale {scale.text()})"


def ratings_long(ratings: Sequence[Rating], scale: Scale) -> StatDataset:
    """One row per rating (see the module docstring); UserError without ratings."""
    if not ratings:
        raise UserError("no ratings to export")
    cases, case_labels = _coded([r.case for r in ratings])
    items, item_labels = _coded([r.item for r in ratings])
    return StatDataset("Expert ratings (long)", [
        Variable("expert", "Expert", [r.expert for r in ratings], kind="text", measure="nominal"),
        Variable("case", "Case", cases, value_labels=case_labels, measure="nominal"),
        Variable("item", "Statement", items, value_labels=item_labels, measure="nominal"),
        Variable("score", _score_label(scale), [r.score for r in ratings], value_labels=_scale_labels(scale), measure="ordinal"),
    ])


def ratings_wide(ratings: Sequence[Rating], scale: Scale) -> StatDataset:
    """One row per expert x case, one variable per statement (``item01``...; label = statement)."""
    if not ratings:
        raise UserError("no ratings to export")
    items = list(dict.fromkeys(r.item for r in ratings))
    width = max(2, len(str(len(items))))
    pairs = list(dict.fromkeys((r.expert, r.case) for r in ratings))
    score = {(r.expert, r.case, r.item): r.score for r in ratings}
    cases, case_labels = _coded([case for _, case in pairs], [r.case for r in ratings])
    variables = [
        Variable("expert", "Expert", [expert for expert, _ in pairs], kind="text", measure="nominal"),
        Variable("case", "Case", cases, value_labels=case_labels, measure="nominal"),
    ]
    for number, item in enumerate(items, start=1):
        variables.append(Variable(f"item{number:0{width}d}", item, [score.get((expert, case, item)) for expert, case in pairs],
                                  value_labels=_scale_labels(scale), measure="ordinal"))
    return StatDataset(f"Expert ratings (wide, scale {scale.text()})", variables)


def case_code_dataset(session: Session, study: Study, principal, measure: str = "counts",
                      flt: retrieval.SegmentFilter | None = None) -> StatDataset:
    """The case x code matrix (``coding.matrices.case_code_matrix``) with one variable per code."""
    access.require_researcher(principal)
    rows, columns, matrix = matrices.case_code_matrix(session, study, measure, flt, principal=principal)
    if not rows:
        raise UserError("the study has no cases yet")
    cases, case_labels = _coded(rows)
    variables = [Variable("case", "Case", cases, value_labels=case_labels, measure="nominal")]
    for index, path in enumerate(columns):
        variables.append(Variable(variable_name(path.rsplit("/", 1)[-1], "code"), path, [line[index] for line in matrix],
                                  value_labels={0: "absent", 1: "present"} if measure == "presence" else {},
                                  measure="nominal" if measure == "presence" else "scale"))
    return StatDataset(f"{study.title}: case x code matrix ({measure})", variables)


def segments_dataset(session: Session, study: Study, principal, flt: retrieval.SegmentFilter | None = None) -> StatDataset:
    """The coded segments (``coding.retrieval.segments``), case and level coded with labels."""
    access.require_researcher(principal)
    found = retrieval.segments(session, study, flt, with_context=False, principal=principal)
    cases, case_labels = _coded([s["case"] for s in found], [c.public_label for c in studies.list_cases(session, study)])
    levels, level_labels = _coded([s["level"] for s in found], list(study.levels or []))
    text = lambda key, label: Variable(key, label, [s[key] for s in found], kind="text", measure="nominal")
    number = lambda key, label: Variable(key, label, [s[key] for s in found])
    return StatDataset(f"{study.title}: coded segments", [
        Variable("case", "Case", cases, value_labels=case_labels, measure="nominal"),
        text("respondent", "Respondent"), text("role", "Respondent's role"), text("interview", "Interview file"),
        Variable("level", "Level of the code", levels, value_labels=level_labels, measure="ordinal"),
        text("code", "Code (path in the codebook)"), text("coder", "Coder"),
        number("start", "First character (code points from 0)"), number("end", "End character (exclusive)"),
        number("start_line", "First line"), number("end_line", "Last line"),
        text("text", "Coded text"), text("memo", "Memo"),
        text("elicitation", "How it came up: spontaneous or probe (after a probe)"),
    ])


def study_dataset(session: Session | None, study: Study | None, principal, dataset: str, *, ratings=None, scale: Scale | None = None,
                  measure: str = "counts") -> StatDataset:
    """The named data set: ratings ones from ``ratings``/``scale`` (a file or the panel), the
    coding ones from the study (UserError without one)."""
    if dataset not in STAT_DATASETS:
        raise UserError(f"unknown data set {dataset!r}; choose one of {', '.join(STAT_DATASETS)}")
    if dataset.startswith("ratings"):
        if not ratings:
            raise UserError("no ratings yet: pass --ratings FILE.csv or collect the expert panel's answers")
        return (ratings_long if dataset == "ratings-long" else ratings_wide)(ratings, scale)
    if study is None:
        raise UserError(f"the {dataset} data set comes from a study's codings: pass --db")
    if dataset == "case-code-matrix":
        return case_code_dataset(session, study, principal, measure)
    return segments_dataset(session, study, principal)
