"""Code relations per case: how one code acts on another in a case (the "cascade" of interacting
determinants), with a type, a note and the codings that show it.

A relation links two different codes of the study in one case; its type is one of
``RELATION_KINDS`` (reinforces, weakens, causes: directed; co-occurs: undirected, so A co-occurs
with B is the same relation as B with A). Evidence codings must lie in an interview of that case
and be visible to whoever adds them (blind coding). While the study is blind, a coder sees the
relations but only the evidence they may see. Merging or splitting codes moves relations like
codings (:mod:`casestudy.seams`): a relation that would link a code to itself is dropped, one
that would repeat another is merged into it (their evidence joins).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from casestudy import access, db, seams
from casestudy.access import Principal
from casestudy.codebook import tree as codebook
from casestudy.coding import blinding
from casestudy.coding.places import passage_link
from casestudy.errors import UserError
from casestudy.models import (
    RELATION_KINDS,
    Case,
    Code,
    CodeRelation,
    Coding,
    Interview,
    Study,
    User,
)

#: Types whose direction does not matter.
UNDIRECTED = ("co-occurs",)


def _check_kind(kind: str) -> str:
    kind = (kind or "").strip().lower()
    if kind not in RELATION_KINDS:
        raise UserError(f"unknown relation type {kind!r}; choose one of: {', '.join(RELATION_KINDS)}")
    return kind


def _ordered(kind: str, source: Code, target: Code) -> tuple[Code, Code]:
    """An undirected relation is stored with the lower code id first (one row either way)."""
    return (source, target) if kind not in UNDIRECTED or source.id < target.id else (target, source)


def _evidence(session: Session, study: Study, case: Case, coding_ids: Sequence[int], principal: Principal) -> list[Coding]:
    ids = list(dict.fromkeys(int(i) for i in coding_ids))
    if not ids:
        return []
    rows = {c.id: c for c in session.scalars(select(Coding).where(Coding.id.in_(ids)))}
    visible = blinding.visible_coders(session, study, principal)
    for coding_id in ids:
        coding = rows.get(coding_id)
        if coding is None or coding.study_id != study.id:
            raise UserError(f"no coding {coding_id} in this study")
        if session.get(Interview, coding.interview_id).case_id != case.id:
            raise UserError(f"coding {coding_id} is not in an interview of {case.public_label}; evidence must come from the case")
        if visible is not None and coding.coder_id not in visible:
            raise access.AccessDenied("blind coding is on in this study: you can cite only your own codings",
                                      principal, f"blind coding: evidence (study {study.id})")
    return [rows[i] for i in ids]


def add_relation(session: Session, study: Study, case: Case, source: Code, target: Code, kind: str, *, by: User,
                 note: str = "", evidence_ids: Sequence[int] = ()) -> CodeRelation:
    """A new relation in ``case`` (see the module docstring for what is checked)."""
    principal = access.require_researcher(access.researcher(by), edit=True)
    kind = _check_kind(kind)
    if case.study_id != study.id:
        raise UserError(f"{case.public_label} belongs to another study")
    for code in (source, target):
        if code.study_id != study.id:
            raise UserError(f"code {code.name!r} belongs to another study")
        if code.status != "active":
            raise UserError(f"code {code.name!r} is {code.status}; relate active codes")
    if source.id == target.id:
        raise UserError("a relation links two different codes")
    source, target = _ordered(kind, source, target)
    duplicate = session.scalar(select(CodeRelation.id).where(
        CodeRelation.case_id == case.id, CodeRelation.source_code_id == source.id,
        CodeRelation.target_code_id == target.id, CodeRelation.kind == kind))
    if duplicate is not None:
        raise UserError(f"{case.public_label} already has this relation (relation {duplicate}); add evidence to it instead")
    relation = CodeRelation(study_id=study.id, case_id=case.id, source_code_id=source.id, target_code_id=target.id, kind=kind,
                            note=note.strip(), created_by=by.id)
    relation.evidence = _evidence(session, study, case, evidence_ids, principal)
    session.add(relation)
    session.flush()
    return relation


def get_relation(session: Session, study: Study, relation_id: int) -> CodeRelation:
    relation = session.get(CodeRelation, relation_id)
    if relation is None or relation.study_id != study.id:
        raise UserError(f"no relation {relation_id} in this study")
    return relation


def update_relation(session: Session, study: Study, relation_id: int, expected_version: int | None, *, by: User,
                    kind: str | None = None, note: str | None = None, evidence_ids: Sequence[int] | None = None) -> CodeRelation:
    """Change a relation's type, note or evidence; refused if someone saved it in between."""
    principal = access.require_researcher(access.researcher(by), edit=True)
    relation = get_relation(session, study, relation_id)
    db.check_version(relation, expected_version, ("kind", "note"))
    # Everything is read and checked first, so the row is written (and its version counted) once.
    evidence = None if evidence_ids is None else _evidence(session, study, relation.case, evidence_ids, principal)
    kind = None if kind is None else _check_kind(kind)
    with session.no_autoflush:  # loading the old evidence must not write the row half-changed
        if kind is not None:
            relation.kind = kind
        if note is not None:
            relation.note = note.strip()
        if evidence is not None:
            relation.evidence = evidence
            flag_modified(relation, "note")  # evidence lives in its own table: count the change on the row too
    session.flush()
    return relation


def remove_relation(session: Session, study: Study, relation_id: int, *, by: User) -> None:
    access.require_researcher(access.researcher(by), edit=True)
    session.delete(get_relation(session, study, relation_id))
    session.flush()


def relations(session: Session, study: Study, case: Case | None = None, *, principal: Principal) -> list[dict]:
    """The study's (or one case's) relations as plain rows: id, case, source, target (code paths),
    kind, directed, note, by, version and the evidence ``principal`` may see (id, code, coder,
    text, link), by case and codes."""
    visible = blinding.visible_coders(session, study, principal)
    paths = codebook.code_paths(codebook.all_codes(session, study))
    query = select(CodeRelation).where(CodeRelation.study_id == study.id)
    if case is not None:
        query = query.where(CodeRelation.case_id == case.id)
    rows = []
    for relation in session.scalars(query.order_by(CodeRelation.case_id, CodeRelation.id)):
        evidence = [
            {"id": c.id, "code": paths.get(c.code_id, ""), "coder": c.coder.username, "interview_id": c.interview_id,
             "start": c.start, "end": c.end, "text": c.interview.text[c.start:c.end][:300],
             "link": passage_link(c.interview_id, c.start, c.end)}
            for c in relation.evidence if visible is None or c.coder_id in visible
        ]
        ends = [(paths.get(relation.source_code_id, ""), relation.source_code_id), (paths.get(relation.target_code_id, ""), relation.target_code_id)]
        if relation.kind in UNDIRECTED:
            ends.sort()  # either way round: shown in code-path order
        rows.append({
            "id": relation.id, "case": relation.case.public_label, "case_id": relation.case_id,
            "source": ends[0][0], "target": ends[1][0], "source_id": ends[0][1], "target_id": ends[1][1],
            "kind": relation.kind, "directed": relation.kind not in UNDIRECTED, "note": relation.note,
            "by": session.get(User, relation.created_by).username, "version": relation.version, "evidence": evidence,
        })
    return sorted(rows, key=lambda r: (r["case"], r["source"], r["target"], r["kind"]))


# --- the codebook's merge and split (casestudy.seams) ----------------------------------------
def move_relations(session: Session, source_id: int, target_id: int, reference_ids: Sequence[int] | None) -> int:
    """Point relations at ``target_id`` instead of ``source_id`` (all, or the chosen ones)."""
    query = select(CodeRelation).where(or_(CodeRelation.source_code_id == source_id, CodeRelation.target_code_id == source_id))
    if reference_ids is not None:
        query = query.where(CodeRelation.id.in_(list(reference_ids)))
    moved = 0
    for relation in session.scalars(query).all():
        ends = [target_id if relation.source_code_id == source_id else relation.source_code_id,
                target_id if relation.target_code_id == source_id else relation.target_code_id]
        moved += 1
        if ends[0] == ends[1]:
            session.delete(relation)
            continue
        if relation.kind in UNDIRECTED:
            ends.sort()
        same = session.scalar(select(CodeRelation).where(
            CodeRelation.case_id == relation.case_id, CodeRelation.source_code_id == ends[0],
            CodeRelation.target_code_id == ends[1], CodeRelation.kind == relation.kind, CodeRelation.id != relation.id))
        if same is not None:
            same.evidence = list({c.id: c for c in [*same.evidence, *relation.evidence]}.values())
            session.delete(relation)
        else:
            relation.source_code_id, relation.target_code_id = ends
        session.flush()
    return moved


def list_relation_references(session: Session, code_id: int) -> list:
    rows = session.execute(
        select(CodeRelation.id, CodeRelation.kind, Case.public_label)
        .join(Case, CodeRelation.case_id == Case.id)
        .where(or_(CodeRelation.source_code_id == code_id, CodeRelation.target_code_id == code_id))
        .order_by(CodeRelation.id)
    )
    return [(rid, f"relation {rid} ({kind}) in {case}") for rid, kind, case in rows]


def count_relations(session: Session, study_id: int) -> dict:
    counts: dict[int, int] = {}
    for column in (CodeRelation.source_code_id, CodeRelation.target_code_id):
        for code_id, n in session.execute(select(column, func.count(CodeRelation.id)).where(CodeRelation.study_id == study_id).group_by(column)):
            counts[code_id] = counts.get(code_id, 0) + n
    return counts


#: Relations as the codebook's merge and split see them.
CODE_REFERENCES = seams.CodeReferences("relations", move_relations, list_relation_references, count_relations)

