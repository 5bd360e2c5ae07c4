"""CSV loaders and providers of the reports stage: every bad row is named."""

from __future__ import annotations

import pytest

from casestudy.errors import UserError
from casestudy.reports import inputs
from casestudy.panel import scale as panel_scale
from casestudy.panel import results


def test_load_ratings_order_missing_and_bom():
    text = "\ufeffexpert,case,item,score\nE1,B,y,3\nE1,A,x,\nE2,B,x,5\n"
    ratings = inputs.load_ratings(text.encode("utf-8"))
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
        inputs.load_ratings("expert,case,item,score\n" + body + "\n")


def test_missing_columns_and_scale():
    with pytest.raises(UserError, match=r"row 1 \(header\): missing column\(s\) score"):
        inputs.load_ratings("expert,case,item\nE1,A,x\n")
    assert inputs.load_ratings("expert,case,item,score\nE1,A,x,1\n", panel_scale.parse_scale("1-5"))[0].score == 1
    with pytest.raises(UserError, match="outside the scale 1-5"):
        inputs.load_ratings("expert,case,item,score\nE1,A,x,0\n", panel_scale.parse_scale("1-5"))
    with pytest.raises(UserError, match="invalid scale"):
        panel_scale.parse_scale("five")


def test_load_determinants_and_mapping():
    mentions = inputs.load_determinants("expert,task,rank,determinant\nE1,recurring,1,Budget\nE1,additional,,  Policy  \n")
    assert mentions[0].rank == 1 and mentions[1].rank is None and mentions[1].task == "additional"
    for body, message in [("E1,other,1,x", "row 2: task 'other'"), ("E1,recurring,0,x", "row 2: rank '0'"),
                          ("E1,recurring,1,  ", "row 2: empty determinant")]:
        with pytest.raises(UserError, match=message):
            inputs.load_determinants("expert,task,rank,determinant\n" + body + "\n")
    mapping = inputs.load_mapping("determinant,canonical\n  Support  FROM management ,support within the organization\n")
    assert mapping == {"support from management": "support within the organization"}
    with pytest.raises(UserError, match="row 3: 'a' is already mapped"):
        inputs.load_mapping("determinant,canonical\na,x\na,y\n")


def test_report_inputs_use_the_questionnaire_scale_for_page_and_cli_alike(store):
    """One assembly of the Table 2 inputs: a 1-7 questionnaire's scale and labels reach an
    uploaded ratings CSV too (the page once parsed a typed "0-5" and refused a 7)."""
    from casestudy import study as studies
    from casestudy.access import Principal
    from casestudy.panel import questionnaire

    researcher = Principal(kind="researcher", subject_id=0, name="test", role="admin")

    with store.write() as session:  # a study without panel answers (the demo has a panel)
        study = studies.create_study(session, "No panel yet")
        q = questionnaire.ensure_questionnaire(session, study)
        questionnaire.update_questionnaire(session, q, scale_min=1, scale_max=7, scale_labels={"1": "very poor", "7": "excellent"})
    with store.read() as session:
        study = studies.get_study(session)
        with pytest.raises(UserError, match="no expert-panel answers are in the database yet; pass --ratings"):
            inputs.study_ratings(session, study)
        with pytest.raises(UserError, match="pass --ratings"):
            inputs.report_inputs(session, study, researcher, require=("ratings",))
        empty = inputs.report_inputs(session, study, researcher)
        assert empty.ratings is None and empty.mentions is None
        assert (empty.scale.min, empty.scale.max) == (1, 7) and empty.scale.labels == {1: "very poor", 7: "excellent"}
        found = inputs.report_inputs(session, study, researcher, ratings_source=b"expert,case,item,score\nE1,Case A,x,7\n")
        assert found.ratings == [results.Rating("E1", "Case A", "x", 7)] and found.ratings_from_file
        assert found.scale == empty.scale
        with pytest.raises(UserError, match="outside the scale 0-5"):
            inputs.report_inputs(session, study, researcher, ratings_source=b"expert,case,item,score\nE1,Case A,x,7\n", scale_text="0-5")
    csv_only = inputs.report_inputs(None, None, ratings_source=b"expert,case,item,score\nE1,Case A,x,5\n")
    assert csv_only.scale == panel_scale.PANEL_SCALE and csv_only.outcomes == {}
