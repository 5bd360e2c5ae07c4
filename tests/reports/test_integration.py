"""The integration view on a study built by hand: every count below is checked against the
codings the fixture applies, and the recommendations' rules."""

from __future__ import annotations

import json

import pytest

from casestudy import access, users
from casestudy import study as studies
from casestudy.access import AccessDenied
from casestudy.codebook import tree as codebook
from casestudy.coding import blinding, spans
from casestudy.errors import UserError
from casestudy.interviews import store as interviews_store
from casestudy.panel import members as panel_members
from casestudy.panel import questionnaire, responses
from casestudy.reconstruction import summary as table1_summary
from casestudy.reports import integration, plots

ADMIN = access.Principal("researcher", 0, "admin", role="admin")
TEXT_A_MANAGER = "Q: How was it?\nAnn: The board backed us. The budget was enough. Support stayed.\n"
TEXT_A_THERAPIST = "Q: And you?\nBo: The board was there for us.\n"
TEXT_B_MANAGER = "Q: How was it?\nCor: Our team was small, six people.\n"
# Three experts: "Support" by all three (two spellings), "team size" by two, "budget" by two, "training" by one.
DETERMINANTS = (
    "expert,task,rank,determinant\n"
    "E01,recurring,1,support\nE01,recurring,2,team size\nE01,recurring,3,budget\n"
    "E02,recurring,1,Organisational support\nE02,recurring,2,Team size\n"
    "E03,recurring,1,support\nE03,recurring,2,budget\nE03,recurring,3,training\n"
)


def _apply(session, study, interview, coder, path, needle):
    start = interview.text.index(needle)
    return spans.apply_codes(session, interview, [codebook.get_code(session, study, path)], spans.get_coder(session, coder), start, start + len(needle))


@pytest.fixture
def built(store):
    with store.write("setup") as session:
        study = studies.create_study(session, "Integration study")
        a = studies.add_case(session, study, "Unit 1", "Case A")
        b = studies.add_case(session, study, "Unit 2", "Case B")
        studies.add_respondent(session, a, "Ann", "manager")
        studies.add_respondent(session, a, "Bo", "therapist")
        studies.add_respondent(session, b, "Cor", "manager")
        for name in ("coder1", "coder2"):
            users.add_user(session, name, "a long password", "coder")
            studies.add_member(session, study, name)
        users.add_user(session, "outsider", "a long password", "coder")
        org = codebook.add_code(session, study, "Support", "organization", origin="a priori")
        codebook.add_code(session, study, "Budget", "organization", parent=org, origin="a priori")
        codebook.add_code(session, study, "Team size", "team", origin="a priori")
        codebook.add_code(session, study, "Training", "team", origin="a priori")
        am, at, bm = interviews_store.import_interviews(session, study, [
            interviews_store.ImportItem("a-manager.txt", TEXT_A_MANAGER.encode(), "Case A", "Ann"),
            interviews_store.ImportItem("a-therapist.txt", TEXT_A_THERAPIST.encode(), "Case A", "Bo"),
            interviews_store.ImportItem("b-manager.txt", TEXT_B_MANAGER.encode(), "Case B", "Cor"),
        ])
        # Case A: Support twice by coder1 in Ann's interview, its sub-code Budget once by coder2 (Ann),
        # Support once by coder2 in Bo's interview -> 4 codings, 2 respondents. Case B: Team size once (Cor).
        _apply(session, study, am, "coder1", "Support", "The board backed us.")
        _apply(session, study, am, "coder1", "Support", "Support stayed.")
        _apply(session, study, am, "coder2", "Support/Budget", "The budget was enough.")
        _apply(session, study, at, "coder2", "Support", "The board was there for us.")
        _apply(session, study, bm, "coder1", "Team size", "Our team was small")
        # Table 1: Case A names "Budget" by its code (a sub-code of Support); Case B names "team size" by label only.
        table1_summary.save_case_summary(session, a, determinants=[{"label": "Financial room", "polarity": "facilitator", "code_ref": "Support/Budget"}])
        table1_summary.save_case_summary(session, b, determinants=[{"label": "Team Size", "polarity": "barrier", "code_ref": None}])
        questionnaire.ensure_questionnaire(session, study)
        for n in (1, 2, 3):
            panel_members.add_member(session, study, f"Expert {n}", pseudonym=f"E0{n}")
        responses.import_responses(session, study, None, DETERMINANTS)
        from casestudy.reports import rankings

        rankings.confirm_mappings(session, study, ADMIN, {"Organisational support": "support"})
        integration.map_code(session, study, ADMIN, "support", "Support")
        integration.map_code(session, study, ADMIN, "team size", "Team size")
        return study.id


def _view(store, principal=ADMIN, **kwargs):
    with store.read() as session:
        study = studies.get_study(session)
        return integration.integration(session, study, principal, **kwargs)


def test_counts_respondents_and_table1_by_hand(store, built):
    view = _view(store)
    assert view.experts == 3 and view.cases == ["Case A", "Case B"]
    assert [(r.rank, r.determinant, r.n_experts) for r in view.rows] == [(1, "support", 3), (2, "budget", 2), (2, "team size", 2)]
    support, budget, size = view.rows
    a, b = support.cells
    assert (a.codings, a.respondents, a.roles) == (4, 2, ["manager", "therapist"])  # 2 + Budget 1 + Bo's 1
    assert a.in_table1 and a.table1_labels == ["Financial room"]  # its code is a sub-code of Support
    assert (b.codings, b.respondents, b.in_table1) == (0, 0, False)
    assert support.code == "Support"
    assert budget.code_id is None and budget.code == "" and all(c.codings == 0 for c in budget.cells)
    assert view.unmapped == ["budget"]
    a, b = size.cells
    assert (a.codings, a.in_table1) == (0, False)
    assert (b.codings, b.respondents, b.roles, b.in_table1) == (1, 1, ["manager"], True)  # Table 1 names it by label
    assert a.text == "0" and b.text == "1 (1: manager); Table 1"


def test_table_heatmap_and_json(store, built):
    view = _view(store)
    table = integration.integration_table(view)
    assert table.columns == ["Rank", "Determinant", "Experts (n)", "Experts (%)", "Code", "Case A", "Case B"]
    assert [str(v) for v in table.rows[0]] == ["1", "support", "3", "100", "Support", "4 (2: manager, therapist); Table 1", "0"]
    assert table.rows[1][4] == "(not mapped)" and "Not mapped to a code: budget." in table.notes
    fig = plots.integration_heatmap(view)
    heat = fig.data[0]
    assert list(heat.x) == ["Case A", "Case B"] and list(heat.z[0]) == [4, 0] and list(heat.z[1]) == [None, None]
    assert heat.text[0][0] == "4 (2) ■" and heat.text[2][1] == "1 (1) ■"
    data = json.loads(json.dumps(view.as_json()))
    assert data["rows"][0]["cases"]["Case A"] == {"codings": 4, "respondents": 2, "roles": ["manager", "therapist"],
                                                  "in_table1": True, "table1_labels": ["Financial room"]}


def test_blind_coder_counts_only_their_own_codings(store, built):
    with store.write("admin") as session:
        study = studies.get_study(session)
        blinding.set_blind_coding(session, study, ADMIN, True)
    with store.read() as session:
        coder2 = access.researcher(users.get_user(session, "coder2"))
    support = _view(store, coder2).rows[0]
    assert (support.cells[0].codings, support.cells[0].respondents) == (2, 2)  # coder2's Budget (Ann) and Bo's


def test_members_only_and_refusals(store, built):
    with store.read() as session:
        outsider = access.researcher(users.get_user(session, "outsider"))
    with pytest.raises(AccessDenied):
        _view(store, outsider)
    with pytest.raises(AccessDenied):
        _view(store, access.Principal("expert", 1, "expert 1", study_id=1))
    with store.write("x") as session, pytest.raises(AccessDenied):
        integration.map_code(session, studies.get_study(session), outsider, "support", None)


def test_map_code_keeps_the_link_when_mappings_are_confirmed_again(store, built):
    from casestudy.reports import rankings

    with store.write("admin") as session:
        study = studies.get_study(session)
        rankings.confirm_mappings(session, study, ADMIN, {"Organisational support": "support", "support": "support"})
        with pytest.raises(UserError, match="no code 'Nope'"):
            integration.map_code(session, study, ADMIN, "support", "Nope")
    assert _view(store).rows[0].code == "Support"
    with store.write("admin") as session:
        assert integration.map_code(session, studies.get_study(session), ADMIN, "support", None) == 2  # both spellings' rows
    assert _view(store).rows[0].code_id is None


def test_recommendations_two_lists_linked_and_exported(store, built):
    from casestudy.reports import render

    with store.write("admin") as session:
        study = studies.get_study(session)
        first = integration.add_recommendation(session, study, ADMIN, "organization", "Find a sponsor.", ["Support", "budget"])
        integration.add_recommendation(session, study, ADMIN, "team", "Keep the team small.", ["team size"])
        integration.add_recommendation(session, study, ADMIN, "organisation", "Plan the budget.", [])
        assert first.audience == "organisation" and first.determinants == ["support", "budget"]  # canonical spelling
        with pytest.raises(UserError, match="not one of the panel's determinants"):
            integration.add_recommendation(session, study, ADMIN, "team", "x", ["charisma"])
        with pytest.raises(UserError, match="recommendations are for"):
            integration.add_recommendation(session, study, ADMIN, "board", "x")
        with pytest.raises(UserError, match="needs its text"):
            integration.add_recommendation(session, study, ADMIN, "team", "  ")
        edited = integration.edit_recommendation(session, study, ADMIN, first.id, determinants=["support"], expected_version=first.version)
        assert edited.determinants == ["support"]
    with store.read() as session:
        study = studies.get_study(session)
        rows = integration.list_recommendations(session, study, ADMIN)
        assert [(r.audience, r.position, r.text) for r in rows] == [
            ("organisation", 1, "Find a sponsor."), ("organisation", 2, "Plan the budget."), ("team", 1, "Keep the team small.")]
        tables = integration.recommendation_tables(rows, integration.integration(session, study, ADMIN))
        text = render.render(tables, "md")
    assert "| 1 | Find a sponsor. | support (rank 1, 3 experts) |" in text
    assert "| 1 | Keep the team small. | team size (rank 2, 2 experts) |" in text
    with store.write("admin") as session, pytest.raises(UserError, match="no recommendation 999"):
        integration.remove_recommendation(session, studies.get_study(session), ADMIN, 999)
