"""The one Scale: definition rules and every wording of a scale."""

from __future__ import annotations

import pytest

from casestudy.errors import UserError
from casestudy.panel.scale import MAX_POINTS, PANEL_SCALE, Scale, parse_scale


def test_defined_scale_cleans_labels_and_requires_both_ends():
    scale = Scale.defined(1, 7, {"7": "  excellent ", "1": "very poor", "4": "  "})
    assert scale == Scale(1, 7, {1: "very poor", 7: "excellent"})
    assert scale.stored_labels() == {"1": "very poor", "7": "excellent"}
    with pytest.raises(UserError, match="both ends"):
        Scale.defined(1, 7, {"1": "very poor"})
    with pytest.raises(UserError, match="not a whole number"):
        Scale.defined(1, 7, {"one": "very poor", "7": "excellent"})
    with pytest.raises(UserError, match="outside the scale 1-7"):
        Scale.defined(1, 7, {"1": "a", "7": "b", "8": "c"})
    with pytest.raises(UserError, match=f"at most {MAX_POINTS} points"):
        Scale.defined(0, MAX_POINTS, {"0": "a", str(MAX_POINTS): "b"})
    with pytest.raises(UserError, match="maximum must exceed"):
        Scale.defined(3, 3, {"3": "a"})


def test_every_wording_comes_from_the_scale():
    scale = Scale(1, 7, {1: "very poor", 7: "excellent"})
    assert scale.text() == "1-7" and scale.points == 7
    assert scale.label_text() == "1 = very poor; 7 = excellent"
    assert scale.legend() == "Scale 1-7: 1 = very poor; 7 = excellent."
    assert scale.point_label(7) == "7 (excellent)" and scale.point_label(4) == "4"
    assert scale.contains(1) and scale.contains(7) and not scale.contains(0) and not scale.contains(8)
    assert PANEL_SCALE.legend() == "Scale 0-5: 0 = clearly contradicted in this case; 5 = completely confirmed in this case."


def test_parse_scale():
    assert parse_scale(None) is PANEL_SCALE and parse_scale("0-5") == PANEL_SCALE
    assert parse_scale(" -3 - 3 ") == Scale(-3, 3)
    with pytest.raises(UserError, match="use MIN-MAX"):
        parse_scale("five")
