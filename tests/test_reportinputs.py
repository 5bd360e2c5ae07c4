"""CSV loaders and providers of the reports stage: every bad row is named."""

from __future__ import annotations

import pytest

from casestudy import reportinputs as ri
from casestudy.errors import UserError


def test_load_ratings_order_missing_and_bom():
    text = "\ufeffexpert,case,item,score\nE1,B,y,3\nE1,A,x,\nE2,B,x,5\n"
    ratings = ri.load_ratings(text.encode("utf-8"))
    assert [r.case for r in ratings] == ["B", "A", "B"]
    assert ratings[1].score is None


@pytest.mark.parametrize("body, message", [
    ("E1,A,x,6", "row 2: score 6 lies outside the scale 0-5"),
    ("E1,A,x,-1", "row 2: score -1 lies outside"),
    ("E1,A,x,4.5", "row 2: score '4.5' is not a whole number"),
    ("E1,A,x,four", "row 2: score 'four' is not a whole number"),
    ("E1,A,x,4\nE1,A,x,3", "row 3: duplicate rating of expert E1 for case A"),
    (",A,x,4", "row 2: empty expert"),
    ("E1,A,x,4,9", "row 2: more cells"),
])
def test_load_ratings_bad_rows(body, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ri.load_ratings("expert,case,item,score\n" + body + "\n")


def test_missing_columns_and_scale():
    with pytest.raises(UserError, match=r"row 1 \(header\): missing column\(s\) score"):
        ri.load_ratings("expert,case,item\nE1,A,x\n")
    assert ri.load_ratings("expert,case,item,score\nE1,A,x,1\n", ri.parse_scale("1-5"))[0].score == 1
    with pytest.raises(UserError, match="outside the scale 1-5"):
        ri.load_ratings("expert,case,item,score\nE1,A,x,0\n", ri.parse_scale("1-5"))
    with pytest.raises(UserError, match="invalid scale"):
        ri.parse_scale("five")


def test_load_determinants_and_mapping():
    mentions = ri.load_determinants("expert,task,rank,determinant\nE1,recurring,1,Budget\nE1,additional,,  Policy  \n")
    assert mentions[0].rank == 1 and mentions[1].rank is None and mentions[1].task == "additional"
    for body, message in [("E1,other,1,x", "row 2: task 'other'"), ("E1,recurring,0,x", "row 2: rank '0'"),
                          ("E1,recurring,1,  ", "row 2: empty determinant")]:
        with pytest.raises(UserError, match=message):
            ri.load_determinants("expert,task,rank,determinant\n" + body + "\n")
    mapping = ri.load_mapping("determinant,canonical\n  Support  FROM management ,support within the organization\n")
    assert mapping == {"support from management": "support within the organization"}
    with pytest.raises(UserError, match="row 3: 'a' is already mapped"):
        ri.load_mapping("determinant,canonical\na,x\na,y\n")


def test_study_ratings_without_panel_and_with_a_provider(store):
    from casestudy import study as studies

    with store.write() as session:  # a study without panel answers (the demo has a panel)
        studies.create_study(session, "No panel yet")
    with store.read() as session:
        study = studies.get_study(session)
        with pytest.raises(UserError, match="no expert-panel answers are in the database yet; pass --ratings"):
            ri.study_ratings(session, study)
        provider = lambda session, study: [ri.Rating("E1", "A", "x", 4)]  # noqa: E731
        ri.register_ratings_provider(provider)
        try:
            assert ri.study_ratings(session, study)[0].score == 4
        finally:
            ri._RATINGS.remove(provider)
