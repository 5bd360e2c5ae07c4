"""Narrative reconstructions: the per-case draft, frozen versions, word-level diffs, evidence
references and the structured case summary that feeds Table 1.

A reconstruction has a free working draft (``Reconstruction``) and a list of frozen versions
(``ReconstructionVersion``). Saving a version freezes the text with author, time, change note and
the SHA-256 of the text. Saving a new version supersedes every earlier one and closes an open
member-check round (the round starts again with the new text).

Evidence references are written into the Markdown as ``[[coding:123]]`` or
``[[quote:interview=5,start=100,end=180]]``. They stay plain text in every version, so they keep
pointing at the coding or transcript position (:mod:`casestudy.reconstruction.references`
resolves them). Respondents never see them.
"""

from __future__ import annotations

import difflib
import hashlib
import html
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy import status
from casestudy.db import apply_edit
from casestudy.errors import UserError
from casestudy.models import (
    Case,
    MemberCheckRound,
    Reconstruction,
    ReconstructionVersion,
    utcnow,
)
from casestudy.reconstruction.references import strip_references
from casestudy.status import StageStatus


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
    words = lambda kind: sum(len(t.split()) for op, t in ops if op == kind)
    return {
        "case": case.public_label,
        "old": old.number,
        "new": new.number,
        "inserted_words": words("insert"),
        "deleted_words": words("delete"),
        "plain": diff_plain(ops),
        "html": diff_html(ops),
    }


# --- stage probe ----------------------------------------------------------------------
def stage_status(session: Session, case: Case) -> StageStatus:
    """Done once a version is saved (the member check takes it from there)."""
    count = session.scalar(select(func.count()).select_from(ReconstructionVersion).where(ReconstructionVersion.case_id == case.id))
    if count:
        return status.done(status.plural(count, "version"))
    draft = get_reconstruction(session, case)
    if draft is not None and draft.text.strip():
        return status.still_open("draft", "reconstruction: save the draft as a version")
    return status.not_started("reconstruction: write the narrative")
