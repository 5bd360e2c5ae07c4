"""Agreement between coders on the study's stored codings: which interviews every chosen coder
coded, and the statistics of :mod:`casestudy.coding.agreement` over them, per code and overall.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casestudy.codebook import tree as codebook
from casestudy.coding import agreement
from casestudy.coding.spans import get_coder
from casestudy.errors import UserError
from casestudy.models import (
    Coding,
    Interview,
    Sentence,
    Study,
)


# --- agreement --------------------------------------------------------------------------------
def agreement_report(session: Session, study: Study, coder_names: Sequence[str], unit: str = "character", interview_ids: Sequence[int] | None = None) -> agreement.AgreementReport:
    """Agreement of the named coders on the chosen interviews (default: all they both coded)."""
    coders = [get_coder(session, name) for name in coder_names]
    names = {c.id: c.username for c in coders}
    query = select(Interview).where(Interview.study_id == study.id)
    if interview_ids:
        query = query.where(Interview.id.in_(list(interview_ids)))
    else:
        coded_by_all = (
            select(Coding.interview_id)
            .where(Coding.coder_id.in_(list(names)))
            .group_by(Coding.interview_id)
            .having(func.count(func.distinct(Coding.coder_id)) == len(names))
        )
        query = query.where(Interview.id.in_(coded_by_all))
    chosen = list(session.scalars(query.order_by(Interview.id)))
    if interview_ids and len(chosen) != len(set(interview_ids)):
        raise UserError("some of the chosen interviews do not exist in this study")
    paths = codebook.code_paths(codebook.all_codes(session, study))
    documents = []
    for interview in chosen:
        sentences = session.execute(select(Sentence.start, Sentence.end).where(Sentence.interview_id == interview.id).order_by(Sentence.ordinal)).all()
        spans = [
            agreement.Span(names[c.coder_id], paths.get(c.code_id, str(c.code_id)), c.start, c.end)
            for c in session.scalars(select(Coding).where(Coding.interview_id == interview.id, Coding.coder_id.in_(list(names))))
        ]
        documents.append(agreement.Document(interview.file_name, len(interview.text), [tuple(s) for s in sentences], spans))
    return agreement.compute(documents, [names[c.id] for c in coders], unit)
