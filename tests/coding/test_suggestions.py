"""Suggestions learn from coded sentences and report cross-validated precision and recall."""

from __future__ import annotations

import pytest

from casestudy.coding import suggestion_model as suggestions
from casestudy.errors import UserError

LEADERSHIP = [f"The manager showed strong leadership in meeting {i}." for i in range(12)]
BUDGET = [f"There was no budget for training in year {i}, money was short." for i in range(12)]
OTHER = [f"We discussed the weather and lunch on day {i}." for i in range(12)]


def test_learns_separable_codes_and_reports_quality():
    texts = LEADERSHIP + BUDGET + OTHER
    labels = [{"leadership"}] * 12 + [{"budget"}] * 12 + [set()] * 12
    model = suggestions.train(texts, labels)
    assert set(model.codes) == {"leadership", "budget"}
    assert model.codes["leadership"].precision == pytest.approx(1.0)
    assert model.codes["leadership"].recall == pytest.approx(1.0)
    assert model.codes["leadership"].folds == 5
    found = suggestions.suggest(model, [(1, "Her leadership as manager was strong."), (2, "The budget money for training was short.")])
    assert {(s.sentence_id, s.code) for s in found} == {(1, "leadership"), (2, "budget")}
    assert all(0.5 <= s.confidence <= 1 for s in found)


def test_too_few_examples_are_explained_not_modelled():
    model = suggestions.train(LEADERSHIP[:3] + OTHER, [{"leadership"}] * 3 + [set()] * 12)
    assert model.codes == {} and "needs 8 coded" in model.skipped["leadership"]
    assert suggestions.suggest(model, [(1, "x")]) == []
    with pytest.raises(UserError):
        suggestions.train([], [])
