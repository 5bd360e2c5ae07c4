"""A request for a page outside the role (by URL or in-session navigation) leaves an audit event.

AppTest sends the requested page as its script hash, the same as a browser does on in-session
navigation; a URL typed into a fresh session resolves to the same url_path. Setting
``at._page_hash`` is how AppTest requests a page that this session has not registered
(``switch_page`` only accepts registered pages).
"""

from __future__ import annotations

from sqlalchemy import select
from streamlit.util import calc_hash

from casestudy import access
from casestudy import config
from casestudy import study as studies
from casestudy.models import AuditEvent


def _refusals(store):
    with store.read() as session:
        return [(e.actor, e.detail["where"], e.detail["kind"]) for e in
                session.scalars(select(AuditEvent).where(AuditEvent.entity == "access", AuditEvent.action == "refused")
                                .order_by(AuditEvent.id))]


def _request(at, url_path):
    at._page_hash = calc_hash(url_path)
    return at.run()


def _login(at, username, password):
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    return at.run()


def test_coder_navigating_to_an_admin_page_is_logged(demo_store, app_env):
    at = _login(app_env(demo_store)(), "coder1", config.DEMO_CODER_PASSWORD)
    assert not at.exception and _refusals(demo_store) == []  # the login itself is no refusal
    _request(at, "accounts")
    assert not at.exception
    assert _refusals(demo_store) == [("coder1", "page accounts", "researcher")]
    assert at.title[0].value != "Accounts"


def test_anonymous_url_to_a_researcher_page_is_logged(demo_store, app_env):
    at = app_env(demo_store)()
    _request(at, "masking")
    assert not at.exception and at.title[0].value == "Casestudy"  # the login page
    assert _refusals(demo_store) == [("anonymous", "page masking", "anonymous")]


def test_expert_link_opening_a_researcher_page_is_logged(demo_store, app_env):
    with demo_store.write() as session:
        study = studies.get_study(session)
        case = studies.get_case(session, study, "Case C")
        _, secret = access.issue_token(session, study.id, "expert", "panel_member", case.respondents[0].id)
    at = app_env(demo_store)({"token": secret})
    _request(at, "reports")
    assert not at.exception and at.title[0].value == "Expert panel"
    [(actor, where, kind)] = _refusals(demo_store)
    assert actor.startswith("expert:") and where == "page reports" and kind == "expert"


def test_logging_out_on_a_researcher_page_is_no_refusal(demo_store, app_env):
    at = _login(app_env(demo_store)(), "admin", config.DEMO_ADMIN_PASSWORD)
    at.sidebar.button(key="logout_button").click()
    at.run()
    assert not at.exception and _refusals(demo_store) == []
