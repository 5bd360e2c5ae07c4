"""AppTest of login, navigation and role separation (server-side, on every rerun)."""

from __future__ import annotations

import pytest

from casestudy import access
from casestudy import config
from casestudy import study as studies


def _login(at, username="admin", password=config.DEMO_ADMIN_PASSWORD):
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    return at.run()


def test_first_start_offers_admin_creation(store, app_env):
    new_app = app_env(store)
    at = new_app()
    at.run()
    assert any("No account exists yet" in i.value for i in at.info)
    assert not any("Demo study loaded" in i.value for i in at.info)  # no demo, no demo credentials
    at.text_input(key="admin_username").input("root")
    at.text_input(key="admin_password").input("a long admin secret")
    at.text_input(key="admin_password_repeat").input("a long admin secret")
    at.button[0].click()
    at.run()
    assert not at.exception
    # Logged in on an empty database: start a new study or explore the demo.
    assert at.title[0].value == "Welcome to Casestudy"
    assert [h.value for h in at.subheader] == ["Start a new study", "Explore the demo study"]


def test_login_wrong_password_then_right(demo_store, app_env):
    at = app_env(demo_store)()
    _login(at, password="wrong password")
    assert [e.value for e in at.error] == ["wrong user name or password"]
    _login(at)
    assert not at.exception
    assert at.title[0].value.startswith("MBT implementation")
    assert "Case A" in at.dataframe[0].value["Case"].tolist()


def test_researcher_sees_admin_pages_and_can_log_out(demo_store, app_env):
    at = app_env(demo_store)()
    _login(at)
    logout = at.sidebar.button(key="logout_button")
    logout.click()
    at.run()
    assert any("logged out" in w.value for w in at.warning)
    assert at.text_input(key="login_username") is not None


def _token(store, kind):
    with store.write() as session:
        study = studies.get_study(session)
        case = studies.get_case(session, study, "Case C")
        subject = case.respondents[0].id
        token, secret = access.issue_token(session, study.id, kind, "respondent" if kind == "respondent" else "panel_member", subject)
    return token.id, secret


def test_respondent_token_sees_only_respondent_page(demo_store, app_env):
    _, secret = _token(demo_store, "respondent")
    at = app_env(demo_store)({"token": secret})
    at.run()
    assert not at.exception
    assert at.title[0].value == "Your review"
    assert "Case C" in at.markdown[0].value
    text = " ".join(m.value for m in at.markdown)
    assert "Unit" not in text and "Lindenhof" not in text  # no internal label or organisation


def test_revoked_token_loses_access_on_next_rerun(demo_store, app_env):
    token_id, secret = _token(demo_store, "expert")
    at = app_env(demo_store)({"token": secret})
    at.run()
    assert at.title[0].value == "Expert panel"
    with demo_store.write() as session:
        access.revoke_token(session, token_id)
    at.run()
    assert any("not valid" in w.value for w in at.warning)
    assert at.title[0].value == "Casestudy"  # back on the login page, nothing else


def test_unknown_token_gets_the_message(demo_store, app_env):
    at = app_env(demo_store)({"token": "x" * 43})
    at.run()
    assert any("this link is not valid" in w.value for w in at.warning)


@pytest.mark.parametrize("kind", ["respondent", "expert"])
def test_token_principal_cannot_run_researcher_page(demo_store, app_env, kind):
    """Even if a researcher page function is called, its own guard stops it."""
    from casestudy.ui.navigation import _page_modules, audience_of

    principal = access.Principal(kind, 1, "x")
    assert audience_of(principal) == {kind}
    visible = [m.PAGE.url_path for m in _page_modules() if audience_of(principal) & set(m.PAGE.audience)]
    assert visible == ["review" if kind == "respondent" else "panel"]
    with pytest.raises(access.AccessDenied):
        access.require_researcher(principal)


def test_sidebar_follows_the_chain():
    """The researcher's pages in the sidebar come in the chain's order, each section in one block."""
    from casestudy.ui import navigation

    specs = navigation.researcher_pages()
    chain = ["cases", "interviews", "codebook", "coding", "agreement", "analysis", "reconstructions", "masking",
             "expert-panel", "reports", "exchange", "accounts"]
    paths = [s.url_path for s in specs]
    assert paths[0] == "overview" and [p for p in paths if p in chain] == chain
    assert paths[-1] == "audit"
    sections = [s.section for s in specs]
    blocks = [section for i, section in enumerate(sections) if i == 0 or sections[i - 1] != section]
    assert len(blocks) == len(set(blocks)), f"a section is split in the sidebar: {blocks}"
    assert blocks == ["Study", "Analysis", "Results", "Administration"]
