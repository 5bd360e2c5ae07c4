"""Narrative reconstructions: the per-case draft, frozen versions, word-level diffs, evidence
references and the structured case summary that feeds Table 1.

A reconstruction has a free working draft (``Reconstruction``) and a list of frozen versions
(``ReconstructionVersion``). Saving a version freezes the text with author, time, change note and
the SHA-256 of the text. Saving a new version supersedes every earlier one and closes an open
member-check round (the round starts again with the new text).

Evidence references are written into the Markdown as ``[[coding:123]]`` or
``[[quote:interview=5,start=100,end=180]]``. They stay plain text in every version, so they keep
pointing at the coding or transcript position; later stages plug in resolvers with
:func:`register_reference_resolver`. Respondents never see them (:func:`strip_references`).
"""

from __future__ import annotations

import difflib
import hashlib
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, inspect as sa_inspect, select
from sqlalchemy.orm import Session

from . import study as studies
from .db import apply_edit
from .errors import UserError
from .models import (
    POLARITIES,
    Case,
    CaseSummary,
    MemberCheckRound,
    Reconstruction,
    ReconstructionVersion,
    Study,
    utcnow,
)

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


ReferenceResolver = Callable[[Session, Reference], "ResolvedReference | None"]
REFERENCE_RESOLVERS: dict[str, ReferenceResolver] = {}


def register_reference_resolver(kind: str, resolver: ReferenceResolver) -> None:
    """Let a stage resolve ``[[kind:...]]`` (coding: the coding stage; quote: the interviews stage)."""
    if not re.fullmatch(r"[a-z_]+", kind):
        raise ValueError(f"invalid reference kind {kind!r}")
    REFERENCE_RESOLVERS[kind] = resolver


def parse_references(text: str) -> list[Reference]:
    return [Reference(m.group(1), m.group(2), m.start(), m.end()) for m in REFERENCE_RE.finditer(text or "")]


def coding_reference(coding_id: int) -> str:
    return f"[[coding:{int(coding_id)}]]"


def quote_reference(interview_id: int, start: int, end: int) -> str:
    if not 0 <= int(start) < int(end):
        raise UserError("a quote needs 0 <= start < end")
    return f"[[quote:interview={int(interview_id)},start={int(start)},end={int(end)}]]"


def _interview_model():
    """The interviews stage's ``Interview`` model, or None where that stage is not installed."""
    from . import models

    return getattr(models, "Interview", None)


def _int_param(reference: Reference, key: str) -> int:
    value = reference.params.get(key, "")
    if not value.isdigit():
        raise ValueError(f"{reference.raw} needs a whole number for {key!r}")
    return int(value)


def resolve_quote(session: Session, reference: Reference) -> ResolvedReference | None:
    """``[[quote:interview=ID,start=N,end=M]]``: code-point span [N, M) of ``Interview.text``."""
    model = _interview_model()
    interview_id, start, end = (_int_param(reference, k) for k in ("interview", "start", "end"))
    interview = session.get(model, interview_id) if model is not None else None
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
    model = _interview_model()
    interview = session.get(model, int(interview_id)) if model is not None else None
    if interview is None or interview.case_id != case.id:
        raise UserError(f"{case.public_label} has no interview {interview_id}")
    phrase = " ".join((phrase or "").split())
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
    _load_provider_modules()
    statuses = []
    for reference in parse_references(text):
        resolver = REFERENCE_RESOLVERS.get(reference.kind)
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


if _interview_model() is not None:  # the interviews stage is installed: quotes resolve against it
    register_reference_resolver("quote", resolve_quote)


def strip_references(text: str) -> str:
    """The text as respondents and readers see it: evidence references removed."""
    stripped = REFERENCE_RE.sub("", text or "")
    stripped = re.sub(r"[ \t]+([.,;:!?])", r"\1", stripped)
    return re.sub(r"[ \t]{2,}", " ", stripped)


# --- text helpers ---------------------------------------------------------------------
def normalise_text(text: str) -> str:
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip() + "\n" if (text or "").strip() else ""


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def paragraphs(text: str) -> list[str]:
    """Markdown paragraphs (blocks separated by blank lines), numbered from 0 by position."""
    return [block.strip() for block in re.split(r"\n\s*\n", text or "") if block.strip()]


def paragraph_hash(paragraph: str) -> str:
    return content_hash(paragraph.strip())


def word_count(text: str) -> int:
    return len(re.findall(r"\w+(?:[-'’]\w+)*", strip_references(text)))


# --- drafts and versions --------------------------------------------------------------
def get_reconstruction(session: Session, case: Case, create: bool = False) -> Reconstruction | None:
    row = session.scalar(select(Reconstruction).where(Reconstruction.case_id == case.id))
    if row is None and create:
        row = Reconstruction(case_id=case.id, text="", summary="")
        session.add(row)
        session.flush()
    return row


def save_draft(
    session: Session, case: Case, text: str, summary: str, actor: str, expected_version: int | None = None
) -> Reconstruction:
    """Save the working draft. With ``expected_version``, a save over someone else's is refused."""
    row = get_reconstruction(session, case, create=True)
    changes = {"text": (text or "").replace("\r\n", "\n"), "summary": (summary or "").strip(), "updated_at": utcnow(), "updated_by": actor}
    if expected_version is not None:
        return apply_edit(session, Reconstruction, row.id, expected_version, **changes)
    for key, value in changes.items():
        setattr(row, key, value)
    session.flush()
    return row


def list_versions(session: Session, case: Case) -> list[ReconstructionVersion]:
    return list(
        session.scalars(
            select(ReconstructionVersion).where(ReconstructionVersion.case_id == case.id).order_by(ReconstructionVersion.number)
        )
    )


def latest_version(session: Session, case: Case) -> ReconstructionVersion | None:
    return session.scalar(
        select(ReconstructionVersion)
        .where(ReconstructionVersion.case_id == case.id)
        .order_by(ReconstructionVersion.number.desc())
        .limit(1)
    )


def get_version(session: Session, case: Case, number: int | None = None) -> ReconstructionVersion:
    """Version ``number`` of the case (the latest without a number)."""
    if number is None:
        version = latest_version(session, case)
    else:
        version = session.scalar(
            select(ReconstructionVersion).where(ReconstructionVersion.case_id == case.id, ReconstructionVersion.number == int(number))
        )
    if version is None:
        known = ", ".join(str(v.number) for v in list_versions(session, case)) or "none yet"
        raise UserError(f"{case.public_label} has no version {number if number is not None else ''}".rstrip() + f"; versions: {known}")
    return version


def save_version(
    session: Session, case: Case, text: str, author: str, change_note: str = "", summary: str | None = None
) -> ReconstructionVersion:
    """Freeze ``text`` as the next version. Earlier versions become superseded and an open
    member-check round closes: a new text always starts a new round."""
    text = normalise_text(text)
    if not text:
        raise UserError("a version needs text; the reconstruction is empty")
    draft = get_reconstruction(session, case, create=True)
    summary = (draft.summary if summary is None else summary).strip()
    previous = latest_version(session, case)
    digest = content_hash(text)
    if previous is not None and previous.content_hash == digest and previous.summary == summary:
        raise UserError(f"nothing changed since version {previous.number} of {case.public_label}")
    now = utcnow()
    for older in list_versions(session, case):
        if older.status != "superseded":
            older.status = "superseded"
    for round_ in session.scalars(
        select(MemberCheckRound).where(MemberCheckRound.case_id == case.id, MemberCheckRound.closed_at.is_(None))
    ):
        round_.closed_at = now
    version = ReconstructionVersion(
        case_id=case.id,
        number=(previous.number + 1) if previous else 1,
        text=text,
        summary=summary,
        author=author,
        created_at=now,
        change_note=change_note.strip(),
        content_hash=digest,
        status="draft",
        locked=False,
    )
    session.add(version)
    draft.text, draft.summary, draft.updated_at, draft.updated_by = text, summary, now, author
    session.flush()
    return version


def draft_changed(session: Session, case: Case) -> bool:
    """Whether the working draft differs from the latest frozen version."""
    draft = get_reconstruction(session, case)
    latest = latest_version(session, case)
    if draft is None:
        return False
    if latest is None:
        return bool(draft.text.strip())
    return content_hash(normalise_text(draft.text)) != latest.content_hash or draft.summary != latest.summary


# --- word-level diff ------------------------------------------------------------------
TOKEN_RE = re.compile(r"\s+|\[\[[^\[\]\n]*\]\]|\w+(?:[-'’]\w+)*|[^\w\s]")


def _word_ops(old: str, new: str) -> list[tuple[str, str]]:
    a, b = TOKEN_RE.findall(old), TOKEN_RE.findall(new)
    ops: list[tuple[str, str]] = []
    # Whitespace is "junk": never an anchor of a match (it is everywhere), but matches extend over it.
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(str.isspace, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            ops.append(("equal", "".join(a[i1:i2])))
        if tag in ("delete", "replace"):
            ops.append(("delete", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            ops.append(("insert", "".join(b[j1:j2])))
    return ops


def diff_ops(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level diff as (op, text) with op in equal/delete/insert; whitespace kept.

    Paragraphs are matched first and words only within changed paragraphs, which keeps the
    quadratic word matching small on long texts."""
    a, b = re.split(r"(\n\s*\n)", old or ""), re.split(r"(\n\s*\n)", new or "")
    ops: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            ops.append(("equal", "".join(a[i1:i2])))
        elif tag == "delete":
            ops.append(("delete", "".join(a[i1:i2])))
        elif tag == "insert":
            ops.append(("insert", "".join(b[j1:j2])))
        elif i2 - i1 == j2 - j1:
            for old_block, new_block in zip(a[i1:i2], b[j1:j2]):
                ops.extend(_word_ops(old_block, new_block))
        else:
            ops.extend(_word_ops("".join(a[i1:i2]), "".join(b[j1:j2])))
    merged: list[tuple[str, str]] = []
    for op, text in ops:
        if not text:
            continue
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def diff_plain(ops: list[tuple[str, str]]) -> str:
    """``[-deleted-]`` and ``{+inserted+}`` marks, like ``git diff --word-diff``."""
    marks = {"equal": "{}", "delete": "[-{}-]", "insert": "{{+{}+}}"}
    return "".join(marks[op].format(text) for op, text in ops)


def diff_html(ops: list[tuple[str, str]]) -> str:
    tags = {"delete": "del", "insert": "ins"}
    styles = {"delete": "background:#fdd;color:#900;text-decoration:line-through", "insert": "background:#dfd;color:#060"}
    parts = []
    for op, text in ops:
        escaped = html.escape(text).replace("\n", "<br>\n")
        parts.append(escaped if op == "equal" else f'<{tags[op]} style="{styles[op]}">{escaped}</{tags[op]}>')
    return '<div class="casestudy-diff" style="white-space:normal;line-height:1.6">' + "".join(parts) + "</div>"


def diff_versions(session: Session, case: Case, old_number: int, new_number: int) -> dict:
    old, new = get_version(session, case, old_number), get_version(session, case, new_number)
    ops = diff_ops(old.text, new.text)
    words = lambda kind: sum(len(t.split()) for op, t in ops if op == kind)  # noqa: E731
    return {
        "case": case.public_label,
        "old": old.number,
        "new": new.number,
        "inserted_words": words("insert"),
        "deleted_words": words("delete"),
        "plain": diff_plain(ops),
        "html": diff_html(ops),
    }


# --- case summary (Table 1) -----------------------------------------------------------
def get_case_summary(session: Session, case: Case) -> CaseSummary | None:
    return session.scalar(select(CaseSummary).where(CaseSummary.case_id == case.id))


def _check_determinants(determinants: list[dict]) -> list[dict]:
    cleaned = []
    for number, item in enumerate(determinants or [], start=1):
        label = str(item.get("label", "")).strip()
        polarity = str(item.get("polarity", "")).strip().lower()
        code_ref = item.get("code_ref")
        if not label:
            raise UserError(f"determinant {number} needs a short label")
        if polarity not in POLARITIES:
            raise UserError(f"determinant {label!r}: polarity must be one of {', '.join(POLARITIES)}")
        if isinstance(code_ref, str):
            code_ref = code_ref.strip() or None
        if code_ref is not None and not isinstance(code_ref, (int, str)):
            raise UserError(f"determinant {label!r}: the code reference must be a code id or a code path")
        cleaned.append({"label": label, "polarity": polarity, "code_ref": code_ref})
    return cleaned


_check_outcome = studies._check_outcome  # one rule for outcome classes, the foundation's


def save_case_summary(
    session: Session,
    case: Case,
    programme: str = "",
    outcome_class: str = "unknown",
    outcome_descriptors: str = "",
    determinants: list[dict] | None = None,
    component_outcomes: list[dict] | None = None,
    expected_version: int | None = None,
) -> CaseSummary:
    """Create or replace the case's Table 1 summary (all fields at once)."""
    outcomes = []
    for item in component_outcomes or []:
        component = str(item.get("component", "")).strip()
        if not component:
            raise UserError("each component outcome needs the component, e.g. PH")
        outcomes.append({"component": component, "outcome_class": _check_outcome(item.get("outcome_class"))})
    changes = {
        "programme": programme.strip(),
        "outcome_class": _check_outcome(outcome_class),
        "outcome_descriptors": outcome_descriptors.strip(),
        "determinants": _check_determinants(determinants or []),
        "component_outcomes": outcomes,
        "updated_at": utcnow(),
    }
    row = get_case_summary(session, case)
    if row is None:
        row = CaseSummary(case_id=case.id, **changes)
        session.add(row)
    elif expected_version is not None:
        row = apply_edit(session, CaseSummary, row.id, expected_version, **changes)
    else:
        for key, value in changes.items():
            setattr(row, key, value)
    session.flush()
    return row


def parse_determinant(text: str) -> dict:
    """'LABEL|facilitator|CODE_REF' (code ref optional), as the CLI and forms write it."""
    parts = [p.strip() for p in text.split("|")]
    if len(parts) < 2:
        raise UserError(f"invalid determinant {text!r}; write LABEL|facilitator or LABEL|barrier[|CODE]")
    code_ref: str | int | None = parts[2] if len(parts) > 2 and parts[2] else None
    if isinstance(code_ref, str) and code_ref.isdigit():
        code_ref = int(code_ref)
    return {"label": parts[0], "polarity": parts[1], "code_ref": code_ref}


def parse_component_outcome(text: str) -> dict:
    """'PH=mixed' -> {"component": "PH", "outcome_class": "mixed"}."""
    component, sep, outcome = text.partition("=")
    if not sep:
        raise UserError(f"invalid component outcome {text!r}; write COMPONENT=OUTCOME, e.g. PH=mixed")
    return {"component": component.strip(), "outcome_class": outcome.strip()}


def table1_rows(session: Session, study: Study) -> list[dict]:
    """Provider for the reports stage: one row per case for Table 1 (public labels only).

    Keys: case, programme, outcome_class, outcome (descriptors, with per-component classes
    where they differ), component_outcomes, determinants [{label, polarity, code_ref}].
    Without a saved summary the row falls back on the case's own programme and outcome.
    """
    rows = []
    for case in studies.list_cases(session, study):
        summary = get_case_summary(session, case)
        programme = (summary.programme if summary and summary.programme else studies.programme_text(case))
        outcome_class = summary.outcome_class if summary else case.outcome_class
        descriptors = summary.outcome_descriptors if summary and summary.outcome_descriptors else case.outcome_description
        components = summary.component_outcomes if summary else [
            {"component": c.type, "outcome_class": c.outcome_class} for c in case.components if c.outcome_class
        ]
        if len({c["outcome_class"] for c in components}) > 1:
            per_component = "; ".join(f"{c['outcome_class']} for {c['component']}" for c in components)
            outcome = f"{outcome_class.capitalize()} ({per_component}): {descriptors}".strip()
        else:
            outcome = f"{outcome_class.capitalize()}: {descriptors}".strip()
        rows.append(
            {
                "case": case.public_label,
                "programme": programme,
                "outcome_class": outcome_class,
                "outcome": outcome.rstrip(":"),
                "component_outcomes": list(components),
                "determinants": list(summary.determinants) if summary else [],
            }
        )
    return rows


def _case_summary_provider(session: Session, study: Study) -> dict[str, list[str]] | None:
    """For the reports stage: {case label: [determinant labels]}; None while no summary exists."""
    has_summary = session.scalar(
        select(func.count()).select_from(CaseSummary).join(Case, Case.id == CaseSummary.case_id).where(Case.study_id == study.id)
    )
    if not has_summary:
        return None
    return {row["case"]: [d["label"] for d in row["determinants"]] for row in table1_rows(session, study)}


try:  # the reports stage (casestudy.reportinputs) asks registered providers for Table 1 determinants
    from . import reportinputs as _reportinputs
except ImportError:  # not installed on this branch yet
    _reportinputs = None
else:
    _reportinputs.register_case_summary_provider(_case_summary_provider)


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


EvidenceProvider = Callable[[Session, Case], "list[EvidenceItem] | None"]
EVIDENCE_PROVIDERS: list[EvidenceProvider] = []


def register_evidence_provider(provider: EvidenceProvider) -> None:
    """The coding stage adds its coded segments here (filterable by level and code)."""
    if provider not in EVIDENCE_PROVIDERS:
        EVIDENCE_PROVIDERS.append(provider)


def _interview_evidence(session: Session, case: Case) -> list[EvidenceItem] | None:
    """Interviews of the case, when the interviews stage's table exists (None otherwise)."""
    model = _interview_model()
    if model is None or not sa_inspect(session.get_bind()).has_table(model.__tablename__):
        return None
    columns = model.__table__.columns
    if "case_id" in columns:
        query = select(model).where(columns["case_id"] == case.id)
    elif "respondent_id" in columns:
        query = select(model).where(columns["respondent_id"].in_([r.id for r in case.respondents]))
    else:
        return None
    items = []
    for row in session.scalars(query.order_by(columns["id"])):
        label = next((str(getattr(row, a)) for a in ("title", "label", "file_name", "filename") if getattr(row, a, None)), f"interview {row.id}")
        respondent = getattr(row, "respondent", None)
        if respondent is not None:
            label += f" ({respondent.role})"
        items.append(EvidenceItem("interview", label, source_id=row.id))
    return items


# Stages that register resolvers and evidence providers when imported (asked lazily).
PROVIDER_MODULES = ("casestudy.coding",)


def _load_provider_modules() -> None:
    import importlib

    for name in PROVIDER_MODULES:
        importlib.import_module(name)


def evidence_for(session: Session, case: Case) -> tuple[list[EvidenceItem], bool]:
    """Evidence for the editor's side panel; the flag says whether any source stage is present."""
    _load_provider_modules()
    items: list[EvidenceItem] = []
    available = False
    for provider in [*EVIDENCE_PROVIDERS, _interview_evidence]:
        found = provider(session, case)
        if found is not None:
            available = True
            items.extend(found)
    return items, available


# --- stage probe ----------------------------------------------------------------------
def _reconstruction_probe(session: Session, case: Case) -> str | None:
    count = session.scalar(select(func.count()).select_from(ReconstructionVersion).where(ReconstructionVersion.case_id == case.id))
    if count:
        return f"{count} version{'s' if count != 1 else ''}"
    draft = get_reconstruction(session, case)
    return "draft" if draft is not None and draft.text.strip() else None


studies.register_stage_probe("reconstruction", _reconstruction_probe)
