"""Code suggestions on the study's stored sentences: train from codings, propose, decide.

The model itself (TF-IDF + logistic regression) lives in :mod:`casestudy.coding.suggestion_model`
and is imported only when a model is trained, so commands that never suggest do not load
scikit-learn. Suggestions are proposals: nothing is coded until a researcher accepts one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from casestudy.codebook import tree as codebook
from casestudy.coding.spans import apply_codes
from casestudy.errors import UserError
from casestudy.models import (
    Code,
    Coding,
    Interview,
    Sentence,
    Study,
    SuggestionDecision,
    User,
)


# --- suggestions --------------------------------------------------------------------------------
def _sentence_rows(session: Session, study: Study, interview_ids: Sequence[int] | None = None):
    query = (
        select(Sentence.id, Sentence.interview_id, Sentence.start, Sentence.end, func.substr(Interview.text, Sentence.start + 1, Sentence.end - Sentence.start))
        .join(Interview, Sentence.interview_id == Interview.id)
        .where(Interview.study_id == study.id)
    )
    if interview_ids is not None:
        query = query.where(Sentence.interview_id.in_(list(interview_ids)))
    return session.execute(query.order_by(Sentence.interview_id, Sentence.ordinal)).all()


def _sentence_codes(session: Session, study: Study) -> dict[int, set[int]]:
    """Sentence id -> ids of the codes whose codings overlap it (any coder)."""
    rows = session.execute(
        select(Sentence.id, Coding.code_id)
        .join(Coding, and_(Coding.interview_id == Sentence.interview_id, Coding.start < Sentence.end, Coding.end > Sentence.start))
        .where(Coding.study_id == study.id)
    )
    result: dict[int, set[int]] = defaultdict(set)
    for sentence_id, code_id in rows:
        result[sentence_id].add(code_id)
    return result


def train_suggestions(session: Session, study: Study, min_examples: int | None = None):
    """A model per code from the study's coded sentences (uncoded sentences are the negatives).

    ``min_examples`` defaults to :data:`casestudy.coding.suggestion_model.MIN_EXAMPLES`.
    """
    from casestudy.coding import suggestion_model

    coded = _sentence_codes(session, study)
    rows = _sentence_rows(session, study)
    texts = [r[4] for r in rows]
    labels = [{str(c) for c in coded.get(r[0], ())} for r in rows]
    return suggestion_model.train(texts, labels, suggestion_model.MIN_EXAMPLES if min_examples is None else min_examples)


def suggest_for(session: Session, study: Study, model, interview: Interview, threshold: float = 0.5) -> list[dict]:
    """Suggestions for the interview's uncoded sentences not decided on before."""
    from casestudy.coding import suggestion_model

    coded = _sentence_codes(session, study)
    decided = set(session.execute(select(SuggestionDecision.sentence_id, SuggestionDecision.code_id).where(SuggestionDecision.study_id == study.id)).all())
    rows = [r for r in _sentence_rows(session, study, [interview.id]) if r[0] not in coded]
    by_id = {r[0]: r for r in rows}
    paths = codebook.code_paths(codebook.all_codes(session, study))
    result = []
    for found in suggestion_model.suggest(model, [(r[0], r[4]) for r in rows], threshold):
        code_id = int(found.code)
        if (found.sentence_id, code_id) in decided:
            continue
        _, _, start, end, text = by_id[found.sentence_id]
        quality = model.codes[found.code]
        result.append({
            "sentence_id": found.sentence_id, "start": start, "end": end, "text": text, "code_id": code_id,
            "code": paths.get(code_id, ""), "confidence": found.confidence,
            "cv_precision": round(quality.precision, 3), "cv_recall": round(quality.recall, 3),
        })
    return result


def decide_suggestion(session: Session, study: Study, sentence_id: int, code: Code, coder: User, accept: bool, confidence: float | None = None) -> Coding | None:
    """Accept (codes the sentence, origin 'suggestion') or reject; either way it is not offered again."""
    sentence = session.get(Sentence, sentence_id)
    if sentence is None or sentence.interview_id is None:
        raise UserError(f"no sentence {sentence_id}")
    interview = session.get(Interview, sentence.interview_id)
    if interview.study_id != study.id:
        raise UserError(f"no sentence {sentence_id} in this study")
    session.add(SuggestionDecision(
        study_id=study.id, sentence_id=sentence_id, code_id=code.id, decision="accepted" if accept else "rejected",
        confidence=confidence, decided_by=coder.id,
    ))
    if not accept:
        session.flush()
        return None
    return apply_codes(session, interview, [code], coder, sentence.start, sentence.end, origin="suggestion")[0]


def suggestion_quality(model) -> list[dict]:
    rows = [{"code_id": int(c), "coded_sentences": m.positives, "cv_precision": round(m.precision, 3), "cv_recall": round(m.recall, 3), "folds": m.folds}
            for c, m in model.codes.items()]
    rows += [{"code_id": int(c), "coded_sentences": None, "cv_precision": None, "cv_recall": None, "folds": 0, "note": why} for c, why in model.skipped.items()]
    return rows
