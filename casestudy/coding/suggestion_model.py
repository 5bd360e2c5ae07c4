"""Code suggestions for uncoded sentences (TF-IDF + logistic regression, one model per code).

Suggestions are only ever proposals: the coding page shows each with its confidence and the
researcher accepts or rejects it; nothing is applied silently. For every code the cross-
validated precision and recall (stratified k-fold, k = min(5, positives, negatives)) are
reported so users can judge how far to trust it. A code needs ``min_examples`` coded sentences
(and as many uncoded ones) before it gets a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from casestudy.errors import UserError

MIN_EXAMPLES = 8
SEED = 20261126


@dataclass
class CodeModel:
    code: str
    positives: int
    negatives: int
    precision: float
    recall: float
    folds: int
    classifier: LogisticRegression = field(repr=False)


@dataclass
class SuggestionModel:
    vectorizer: TfidfVectorizer = field(repr=False)
    codes: dict[str, CodeModel]
    skipped: dict[str, str]  # code -> why it has no model


@dataclass(frozen=True)
class Suggestion:
    sentence_id: int
    code: str
    confidence: float


def train(texts: Sequence[str], labels: Sequence[set[str]], min_examples: int = MIN_EXAMPLES) -> SuggestionModel:
    """One classifier per code from coded sentences (``labels[i]`` = codes of ``texts[i]``)."""
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    if not texts:
        raise UserError("there are no coded sentences to learn from yet")
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, lowercase=True)
    features = vectorizer.fit_transform(texts)
    codes: dict[str, CodeModel] = {}
    skipped: dict[str, str] = {}
    for code in sorted({c for label in labels for c in label}):
        target = np.array([code in label for label in labels], dtype=int)
        positives, negatives = int(target.sum()), int(len(target) - target.sum())
        if positives < min_examples or negatives < min_examples:
            skipped[code] = f"needs {min_examples} coded and {min_examples} uncoded sentences (has {positives} / {negatives})"
            continue
        folds = min(5, positives, negatives)
        classifier = LogisticRegression(max_iter=1000, class_weight="balanced", random_state=SEED)
        predicted = cross_val_predict(classifier, features, target, cv=StratifiedKFold(folds, shuffle=True, random_state=SEED))
        classifier.fit(features, target)
        codes[code] = CodeModel(
            code, positives, negatives,
            float(precision_score(target, predicted, zero_division=0)),
            float(recall_score(target, predicted, zero_division=0)),
            folds, classifier,
        )
    return SuggestionModel(vectorizer, codes, skipped)


def suggest(model: SuggestionModel, sentences: Sequence[tuple[int, str]], threshold: float = 0.5, limit: int = 200) -> list[Suggestion]:
    """Suggestions with probability >= threshold, most confident first."""
    if not sentences or not model.codes:
        return []
    features = model.vectorizer.transform([text for _, text in sentences])
    result = []
    for code, code_model in model.codes.items():
        probabilities = code_model.classifier.predict_proba(features)[:, 1]
        for (sentence_id, _), probability in zip(sentences, probabilities):
            if probability >= threshold:
                result.append(Suggestion(sentence_id, code, round(float(probability), 3)))
    result.sort(key=lambda s: (-s.confidence, s.sentence_id, s.code))
    return result[:limit]
