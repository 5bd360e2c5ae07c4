"""Evidence references in reconstructions: ``[[coding:N]]`` and ``[[quote:...]]``, and the
evidence the editor offers to cite.

A reconstruction cites its sources inline; :func:`resolve_references` says for every reference
what it points at (label, excerpt, and a jump target) or why it no longer resolves.
Respondents and readers never see references (:func:`strip_references`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy.access import Principal
from casestudy.codebook import tree as codebook
from casestudy.coding.retrieval import SegmentFilter, segments
from casestudy.errors import UserError
from casestudy.interviews import store as interviews_store
from casestudy.models import Case, Coding, Interview, Study
from casestudy.text import collapse_spaces

# --- evidence references --------------------------------------------------------------
REFERENCE_RE = re.compile(r"\[\[([a-z_]+):([^\[\]\n]+?)\]\]")


@dataclass(frozen=True)
class Reference:
    """One ``[[kind:value]]`` in a text; ``params`` holds ``key=value`` pairs (or ``{"id": value}``)."""

    kind: str
    value: str
    start: int
    end: int

    @property
    def raw(self) -> str:
        return f"[[{self.kind}:{self.value}]]"

    @property
    def params(self) -> dict[str, str]:
        if "=" not in self.value:
            return {"id": self.value.strip()}
        pairs = {}
        for part in self.value.split(","):
            key, _, val = part.partition("=")
            pairs[key.strip()] = val.strip()
        return pairs


@dataclass
class ResolvedReference:
    """What a resolver returns: a label, the quoted text, and where it points (for a jump)."""

    label: str
    excerpt: str = ""
    target: dict = field(default_factory=dict)  # e.g. {"interview_id": 5, "start": 100, "end": 180}


def parse_references(text: str) -> list[Reference]:
    return [Reference(m.group(1), m.group(2), m.start(), m.end()) for m in REFERENCE_RE.finditer(text or "")]


def coding_reference(coding_id: int) -> str:
    return f"[[coding:{int(coding_id)}]]"


def quote_reference(interview_id: int, start: int, end: int) -> str:
    if not 0 <= int(start) < int(end):
        raise UserError("a quote needs 0 <= start < end")
    return f"[[quote:interview={int(interview_id)},start={int(start)},end={int(end)}]]"


def _int_param(reference: Reference, key: str) -> int:
    value = reference.params.get(key, "")
    if not value.isdigit():
        raise ValueError(f"{reference.raw} needs a whole number for {key!r}")
    return int(value)


def resolve_quote(session: Session, reference: Reference) -> ResolvedReference | None:
    """``[[quote:interview=ID,start=N,end=M]]``: code-point span [N, M) of ``Interview.text``."""
    interview_id, start, end = (_int_param(reference, k) for k in ("interview", "start", "end"))
    interview = session.get(Interview, interview_id)
    if interview is None:
        return None
    if not 0 <= start < end <= len(interview.text):
        raise ValueError(f"{start}-{end} lies outside the transcript ({len(interview.text)} characters)")
    return ResolvedReference(
        f"{interview.file_name}, characters {start}-{end}",
        interview.text[start:end],
        {"interview_id": interview.id, "case_id": interview.case_id, "start": start, "end": end},
    )


def find_quote(session: Session, case: Case, interview_id: int, phrase: str) -> tuple[str, str]:
    """The ``[[quote:...]]`` reference and excerpt for the first occurrence of ``phrase``
    (case-insensitive) in one of the case's transcripts. Researchers only: transcripts never
    reach respondents."""
    interview = session.get(Interview, int(interview_id))
    if interview is None or interview.case_id != case.id:
        raise UserError(f"{case.public_label} has no interview {interview_id}")
    phrase = collapse_spaces(phrase)
    if len(phrase) < 3:
        raise UserError("type at least three characters of the passage to quote")
    pattern = re.compile(r"\s+".join(re.escape(word) for word in phrase.split(" ")), re.IGNORECASE)
    match = pattern.search(interview.text)
    if match is None:
        raise UserError(f"{phrase!r} does not occur in {interview.file_name}")
    return quote_reference(interview.id, match.start(), match.end()), match.group(0)


@dataclass
class ReferenceStatus:
    reference: Reference
    resolved: ResolvedReference | None
    problem: str = ""  # empty when resolved


def resolve_references(session: Session, text: str) -> list[ReferenceStatus]:
    """Every reference in ``text`` with its resolution, or the reason it does not resolve."""
    statuses = []
    for reference in parse_references(text):
        resolver = RESOLVERS.get(reference.kind)
        if resolver is None:
            statuses.append(ReferenceStatus(reference, None, f"no resolver for '{reference.kind}' references yet"))
            continue
        try:
            resolved = resolver(session, reference)
        except (ValueError, KeyError, UserError) as exc:
            resolved, problem = None, f"invalid reference: {exc}"
        else:
            problem = "" if resolved is not None else "the referenced item no longer exists"
        statuses.append(ReferenceStatus(reference, resolved, problem))
    return statuses


def strip_references(text: str) -> str:
    """The text as respondents and readers see it: evidence references removed."""
    stripped = REFERENCE_RE.sub("", text or "")
    stripped = re.sub(r"[ \t]+([.,;:!?])", r"\1", stripped)
    return re.sub(r"[ \t]{2,}", " ", stripped)


def resolve_coding(session: Session, reference: Reference) -> ResolvedReference | None:
    """``[[coding:N]]`` in a reconstruction: the coded passage, its code and where it sits."""
    try:
        coding_id = int(reference.params.get("id", reference.value))
    except (TypeError, ValueError):
        return None
    found = session.get(Coding, coding_id)
    if found is None:
        return None
    study = session.get(Study, found.study_id)
    path = codebook.code_paths(codebook.all_codes(session, study)).get(found.code_id, "")
    interview = found.interview
    return ResolvedReference(
        label=f"{path} · {interviews_store.source_label(interview)} · {interview.file_name} lines {found.start_line}-{found.end_line}",
        excerpt=interview.text[found.start : found.end],
        target={"interview_id": interview.id, "start": found.start, "end": found.end, "coding_id": found.id},
    )


#: ``[[kind:...]]`` -> its resolver; a kind without one is reported as unresolvable.
RESOLVERS = {"coding": resolve_coding, "quote": resolve_quote}


# --- evidence beside the editor -------------------------------------------------------
@dataclass
class EvidenceItem:
    """One piece of evidence the editor can show and cite."""

    kind: str  # interview, coding, quote ...
    label: str
    text: str = ""
    reference: str = ""  # the [[...]] to insert; empty when nothing can be cited yet
    level: str = ""
    code: str = ""
    source_id: int | None = None  # e.g. the interview id, for quoting from it


def interview_evidence(session: Session, case: Case) -> list[EvidenceItem]:
    """The case's interviews, each as a source to quote from."""
    interviews = session.scalars(select(Interview).where(Interview.case_id == case.id).order_by(Interview.id))
    return [EvidenceItem("interview", f"{row.file_name} ({row.respondent.role})" if row.respondent else row.file_name, source_id=row.id)
            for row in interviews]


def coded_evidence(session: Session, case: Case, *, principal: Principal) -> list[EvidenceItem]:
    """The case's coded segments ``principal`` may see, for the reconstruction editor (filterable
    by level and code)."""
    study = session.get(Study, case.study_id)
    return [
        EvidenceItem(
            kind="coding",
            label=f"{s['code']} · {s['respondent']} ({s['role']}) · lines {s['start_line']}-{s['end_line']} · {s['coder']}",
            text=s["text"], reference=f"[[coding:{s['coding_id']}]]", level=s["level"], code=s["code"], source_id=s["interview_id"],
        )
        for s in segments(session, study, SegmentFilter(case_ids=[case.id]), with_context=False, principal=principal)
    ]


def evidence_for(session: Session, case: Case, *, principal: Principal) -> tuple[list[EvidenceItem], bool]:
    """Evidence for the editor's side panel: coded segments, then the interviews to quote from.

    The flag says whether there is any source at all (an interview of the case)."""
    interviews = interview_evidence(session, case)
    return coded_evidence(session, case, principal=principal) + interviews, bool(interviews)
