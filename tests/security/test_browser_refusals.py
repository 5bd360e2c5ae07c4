"""Real browser: typing the URL of a page outside the role leaves an audit event."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from casestudy import access
from casestudy import db as dbmod
from casestudy import study as studies
from casestudy.models import AuditEvent
from tests.base.test_browser_shell import _wait_for_app

pytestmark = pytest.mark.browser


def _wait_for_refusal(url: str, where: str, kind: str) -> AuditEvent:
    """The newest refusal of ``kind`` at ``where`` (the server writes it while the page loads)."""
    store = dbmod.Store(url)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            with store.read() as session:
                events = session.scalars(select(AuditEvent).where(
                    AuditEvent.entity == "access", AuditEvent.action == "refused").order_by(AuditEvent.id)).all()
                found = [e for e in events if e.detail.get("where") == where and e.detail.get("kind") == kind]
            if found:
                return found[-1]
            time.sleep(0.2)
    finally:
        store.dispose()
    pytest.fail(f"no refusal logged for {where} ({kind})")


def test_typed_urls_outside_the_role_are_logged(browser_server, browser_page):
    page = browser_page
    page.goto(f"{browser_server['base']}/accounts")
    _wait_for_app(page)
    page.get_by_role("textbox", name="User name").wait_for()  # the login page, not Accounts
    assert _wait_for_refusal(browser_server["url"], "page accounts", "anonymous").actor == "anonymous"

    store = dbmod.Store(browser_server["url"])
    with store.write() as session:
        token, secret = access.issue_token(session, studies.get_study(session).id, "expert", "panel_member", 2)
    store.dispose()
    page.goto(f"{browser_server['base']}/audit?token={secret}")
    _wait_for_app(page)
    page.get_by_role("heading", name="Expert panel").wait_for()
    event = _wait_for_refusal(browser_server["url"], "page audit", "expert")
    assert event.entity_id == token.id
