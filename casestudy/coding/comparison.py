"""Agreement between coders on the study's stored codings: which interviews every chosen coder
coded (and which were left out, and why), and the statistics of :mod:`casestudy.coding.agreement`
over them, per code and overall. While blind coding is on, comparing coders is for the owner.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy.access import Principal
from casestudy.codebook import tree as codebook
from casestudy.coding import agreement, blinding
from casestudy.coding.spans import get_coder
from casestudy.errors import UserError
from casestudy.models import (
    Coding,
    Interview,
    Sentence,
    Study,
)


# --- agreement --------------------------------------------------------------------------------
def agreement_report(session: Session, study: Study, coder_names: Sequence[str], unit: str = "character",
                     interview_ids: Sequence[int] | None = None, *, principal: Principal) -> agreement.AgreementReport:
    """Agreement of the named coders on the chosen interviews (default: every interview all of
    them coded), for the study owner while blind coding is on (else AccessDenied).

    The report lists the interviews used and those left out with the reason ("not coded by
    coder2"); a chosen interview is always used (a coder who coded nothing there disagrees with
    every unit the others coded).
    """
    blinding.require_comparison(principal, study)
    coders = [get_coder(session, name) for name in agreement.distinct_coders(coder_names)]
    names = {c.id: c.username for c in coders}
    interviews = list(session.scalars(select(Interview).where(Interview.study_id == study.id).order_by(Interview.id)))
    if interview_ids:
        wanted = {int(i) for i in interview_ids}
        if not wanted <= {i.id for i in interviews}:
            raise UserError("some of the chosen interviews do not exist in this study")
    coded_by: dict[int, set[int]] = {}
    for interview_id, coder_id in session.execute(
        select(Coding.interview_id, Coding.coder_id).where(Coding.study_id == study.id, Coding.coder_id.in_(list(names))).distinct()
    ):
        coded_by.setdefault(interview_id, set()).add(coder_id)
    chosen, left_out = [], []
    for interview in interviews:
        missing = [names[c.id] for c in coders if c.id not in coded_by.get(interview.id, set())]
        if interview_ids:
            if interview.id in wanted:
                chosen.append(interview)
            else:
                left_out.append({"id": interview.id, "interview": interview.file_name, "reason": "not chosen"})
        elif missing:
            reason = "coded by none of the chosen coders" if len(missing) == len(coders) else f"not coded by {' or '.join(missing)}"
            left_out.append({"id": interview.id, "interview": interview.file_name, "reason": reason})
        else:
            chosen.append(interview)
    if not chosen:
        why = "; ".join(f"{o['interview']}: {o['reason']}" for o in left_out[:10]) or "the study has no interviews"
        raise UserError(f"no interview was coded by every chosen coder ({why})")
    paths = codebook.code_paths(codebook.all_codes(session, study))
    documents = []
    for interview in chosen:
        sentences = session.execute(select(Sentence.start, Sentence.end).where(Sentence.interview_id == interview.id).order_by(Sentence.ordinal)).all()
        spans = [
            agreement.Span(names[c.coder_id], paths.get(c.code_id, str(c.code_id)), c.start, c.end)
            for c in session.scalars(select(Coding).where(Coding.interview_id == interview.id, Coding.coder_id.in_(list(names))))
        ]
        documents.append(agreement.Document(interview.file_name, len(interview.text), [tuple(s) for s in sentences], spans, interview.id))
    report = agreement.compute(documents, [names[c.id] for c in coders], unit)
    report.interviews_used = [{"id": i.id, "interview": i.file_name} for i in chosen]
    report.interviews_left_out = left_out
    return report
