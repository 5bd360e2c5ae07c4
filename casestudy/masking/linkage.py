"""The linkage scan: what in one case's masked text points at another case of the study.

A masked text may be free of every name and still reveal which cases belong together: another
case's public or internal label, a register term that belongs to another case, or a name, place
or organisation that occurs in the texts of more than one case (a shared institution). The
workflow (:func:`casestudy.masking.workflow.linkage_scan`) feeds this scan the study's other cases
and blocks release until each finding is masked or accepted with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from casestudy.masking.constants import ACCEPTABLE_LINKAGE_KINDS
from casestudy.masking.engine import (
    Entry,
    Register,
    compile_register,
    fold,
    line_col,
    make_entry,
)


@dataclass(frozen=True)
class CaseMarks:
    """What identifies one case of a study, for the linkage scan of the other cases' texts.

    ``entries`` are the register entries that belong to the case; ``texts`` its masked texts.
    """

    public_label: str
    internal_label: str
    entries: tuple[Entry, ...] = ()
    texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinkageFinding:
    """Something in the text of one case that points at other case(s): ``kind`` is one of
    :data:`LINKAGE_KINDS`, ``term`` what it is (the label, the register term, the name),
    ``cases`` the public labels of the other cases, ``start``/``end``/``line``/``column``
    where it occurs in the scanned text."""

    kind: str
    term: str
    text: str
    cases: tuple[str, ...]
    start: int
    end: int
    line: int
    column: int

    @property
    def acceptable(self) -> bool:
        return self.kind in ACCEPTABLE_LINKAGE_KINDS

    @property
    def key(self) -> tuple[str, str]:
        """What an acceptance is for: the kind and the folded term (every occurrence of it)."""
        return self.kind, fold(self.term)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind, "term": self.term, "text": self.text, "cases": list(self.cases),
            "start": self.start, "end": self.end, "line": self.line, "column": self.column,
        }


_CAPITALISED_RE = re.compile(r"(?<![\w'\u2019-])[^\W\d_][\w'\u2019-]*")


def capitalised_words(text: str) -> dict[str, list[tuple[int, int]]]:
    """Folded word -> the spans of its capitalised occurrences (words written lower case too are dropped)."""
    out: dict[str, list[tuple[int, int]]] = {}
    lower: set[str] = set()
    for m in _CAPITALISED_RE.finditer(text):
        word = m.group().rstrip("'\u2019-")
        if word[:1].isupper():
            out.setdefault(fold(word), []).append((m.start(), m.start() + len(word)))
        else:
            lower.add(fold(word))
    return {w: spans for w, spans in out.items() if w not in lower}


def proper_names(register: Register, text: str, language: str = "en") -> set[str]:
    """The folded candidate proper names of a text: the candidate finder's unregistered capitalised words."""
    return {fold(c.text) for c in register.candidates(text, (), language) if c.reason == "capitalised"}


def linkage_scan(
    text: str, others: Sequence[CaseMarks], register: Register | None = None, language: str = "en"
) -> list[LinkageFinding]:
    """Everything in ``text`` (one case's masked text) that points at the ``others`` cases.

    * another case's public label (case-sensitive: "Case C", not "in case c") or internal label;
    * a register term, variant or derived form of an entry that belongs to another case;
    * a proper name (a capitalised word the candidate finder proposes, in this text or another
      case's) that occurs capitalised both in this text and in another case's texts: a shared
      institution, place or person links the two cases.

    One finding per span (labels before register terms before names), naming every other case
    it points at; in text order.
    """
    by_span: dict[tuple[int, int], LinkageFinding] = {}

    def add(kind: str, term: str, start: int, end: int, case: str) -> None:
        found = by_span.get((start, end))
        if found is None:
            if any(s < end and start < e for s, e in by_span):
                return  # part of a longer finding already
            by_span[(start, end)] = LinkageFinding(kind, term, text[start:end], (case,), start, end, *line_col(text, start))
        elif found.kind == kind and case not in found.cases:
            by_span[(start, end)] = LinkageFinding(kind, found.term, found.text, (*found.cases, case), start, end, found.line, found.column)

    labels = [(o, "public label", o.public_label, False) for o in others] + [(o, "internal label", o.internal_label, True) for o in others]
    for other, kind, label, insensitive in labels:
        if not label.strip():
            continue
        entry = make_entry(label, "", "unit", options={"endings": False, "case_insensitive": insensitive, "name_forms": False})
        for r in compile_register((entry,), contacts=False).register_matches(text):
            add(kind, label, r.start, r.end, other.public_label)
    for other in others:
        if other.entries:
            for r in compile_register(tuple(other.entries), contacts=False).register_matches(text):
                add("register term", r.term, r.start, r.end, other.public_label)
    if register is not None:
        here = capitalised_words(text)
        names = proper_names(register, text, language)
        elsewhere = [(o, capitalised_words(t), proper_names(register, t, language)) for o in others for t in o.texts]
        for other, words, other_names in elsewhere:
            for name in (names | other_names) & set(here) & set(words):
                for start, end in here[name]:
                    add("shared name", text[start:end], start, end, other.public_label)
    return [by_span[k] for k in sorted(by_span)]
