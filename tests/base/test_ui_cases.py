"""AppTest of the Cases page: forms keep their input on a mistake; views refresh after an action."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from casestudy import access, users
from casestudy import study as studies
from casestudy.ui.session import LAST_SEEN_KEY, PRINCIPAL_KEY


def _script():
    from casestudy.ui.pages import cases

    cases.render()


@pytest.fixture
def cases_app(store, app_env):
    app_env(store)
    with store.write("test") as session:
        study = studies.create_study(session, "S", "en")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        studies.add_respondent(session, case, "Ann", "manager")
        user = users.add_user(session, "ria", "a long enough secret", "admin")
        principal = access.researcher(user)
    at = AppTest.from_function(_script, default_timeout=30)
    at.session_state[PRINCIPAL_KEY] = principal
    at.session_state[LAST_SEEN_KEY] = time.time()
    return at.run()


def _field(at, name):
    return at.text_input(key=f"add_case_{name}")


def test_add_case_keeps_the_input_and_shows_the_error_in_the_form(cases_app):
    at = cases_app
    _field(at, "internal").input("Unit 2")
    _field(at, "public").input("Case A")  # taken
    _field(at, "organisation").input("Org Two")
    _field(at, "components").input("PH:2")
    at.button(key="FormSubmitter:add_case-Add case").click().run()
    assert not at.exception
    assert any("already exists" in e.value for e in at.error)
    assert (_field(at, "internal").value, _field(at, "public").value, _field(at, "organisation").value,
            _field(at, "components").value) == ("Unit 2", "Case A", "Org Two", "PH:2")
    assert "(type:groups)" not in _field(at, "components").placeholder and _field(at, "components").help
    _field(at, "public").input("Case B")
    at.button(key="FormSubmitter:add_case-Add case").click().run()
    assert any(s.value == "Added Case B." for s in at.success)
    assert _field(at, "internal").value == ""  # emptied for the next case
    assert "Case B" in at.dataframe[0].value["Case"].tolist()


def test_respondent_warning_goes_as_soon_as_the_second_respondent_is_added(cases_app):
    at = cases_app
    assert any("Case A has 1 respondent(s)" in w.value for w in at.warning)
    at.text_input(key="add_respondent_name").input("Bo")
    at.selectbox(key="add_respondent_role").set_value("therapist")
    at.button(key="FormSubmitter:add_respondent-Add respondent").click().run()
    assert not at.exception
    assert any(s.value == "Added Bo to Case A." for s in at.success)
    assert not any("Case A has 1 respondent(s)" in w.value for w in at.warning)


def test_a_failed_respondent_keeps_the_name(cases_app):
    at = cases_app
    at.text_input(key="add_respondent_name").input("Ann")  # exists already
    at.button(key="FormSubmitter:add_respondent-Add respondent").click().run()
    assert any("already has a respondent named 'Ann'" in e.value for e in at.error)
    assert at.text_input(key="add_respondent_name").value == "Ann"
