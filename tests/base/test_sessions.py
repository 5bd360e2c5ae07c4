"""Browser sessions (hashed, one-time handover, idle/absolute expiry, deactivation) and the public URL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from casestudy import access, audit, browser_sessions, config, security, settings, users
from casestudy.errors import UserError
from casestudy.models import AuditEvent, BrowserSession, utcnow


@pytest.fixture
def researcher(store):
    with store.write() as session:
        users.add_user(session, "ana", "a long pass phrase 1", "coder")
    return access.login(store, "ana", "a long pass phrase 1")


def _clock(start: dt.datetime):
    now = [start]
    return now, (lambda: now[0])


def test_handover_gives_the_cookie_once_and_only_hashes_are_stored(store, researcher):
    started = browser_sessions.start(store, researcher, client="10.0.0.1")
    secret = browser_sessions.adopt(store, started.handover)
    assert secret and len(secret) >= 43  # 32 random bytes, URL-safe
    assert browser_sessions.adopt(store, started.handover) is None  # used
    with store.read() as session:
        row = session.get(BrowserSession, started.session_id)
        assert row.session_hash == security.hash_token(secret) and row.handover_hash is None and row.client == "10.0.0.1"
        dumped = [str(e.detail) for e in session.scalars(select(AuditEvent).where(AuditEvent.entity == "browser_session"))]
    assert dumped and all(secret not in d and security.hash_token(secret) not in d for d in dumped)
    session_id, principal = browser_sessions.resolve(store, secret)
    assert session_id == started.session_id and principal.name == "ana"


def test_stale_handover_and_unknown_secrets_are_refused(store, researcher):
    now, clock = _clock(utcnow())
    started = browser_sessions.start(store, researcher, clock=clock)
    now[0] += dt.timedelta(seconds=browser_sessions.HANDOVER_SECONDS + 1)
    assert browser_sessions.adopt(store, started.handover, clock=clock) is None
    for bad in (None, "", "short", "x" * 43, "y" * 500):
        with pytest.raises(browser_sessions.SessionEnded):
            browser_sessions.resolve(store, bad)


def test_idle_expired_and_deactivated_sessions_end_on_the_server(store, researcher, monkeypatch):
    monkeypatch.setattr(config, "SESSION_IDLE_MINUTES", 30)
    now, clock = _clock(utcnow())
    idle = browser_sessions.start(store, researcher, clock=clock)
    now[0] += dt.timedelta(minutes=29)
    browser_sessions.resolve_id(store, idle.session_id, clock=clock)  # activity: last seen refreshed
    now[0] += dt.timedelta(minutes=29)
    browser_sessions.resolve_id(store, idle.session_id, clock=clock)
    now[0] += dt.timedelta(minutes=31)
    with pytest.raises(browser_sessions.SessionEnded, match="inactivity"):
        browser_sessions.resolve_id(store, idle.session_id, clock=clock)
    with pytest.raises(browser_sessions.SessionEnded, match="inactivity"):  # stays ended, says why
        browser_sessions.resolve_id(store, idle.session_id, clock=clock)

    old = browser_sessions.start(store, researcher, clock=clock)
    for _ in range(config.SESSION_MAX_HOURS * 3):
        now[0] += dt.timedelta(minutes=20)
        try:
            browser_sessions.resolve_id(store, old.session_id, clock=clock)
        except browser_sessions.SessionEnded as exc:
            assert exc.message == browser_sessions.EXPIRED
            break
    else:
        pytest.fail("an always-active session never reached its maximum length")

    active = browser_sessions.start(store, researcher)
    with store.write() as session:
        users.set_active(session, "ana", False)
    with pytest.raises(browser_sessions.SessionEnded, match="no longer active"):
        browser_sessions.resolve_id(store, active.session_id)
    with store.read() as session:
        reasons = {row.id: row.end_reason for row in session.scalars(select(BrowserSession))}
    assert reasons == {idle.session_id: "idle", old.session_id: "expired", active.session_id: "account inactive"}


def test_logout_ends_the_cookie_session(store, researcher):
    started = browser_sessions.start(store, researcher)
    secret = browser_sessions.adopt(store, started.handover)
    assert browser_sessions.end(store, secret) is True
    assert browser_sessions.end(store, secret) is False
    with pytest.raises(browser_sessions.SessionEnded):
        browser_sessions.resolve(store, secret)
    with store.read() as session:
        assert browser_sessions.open_sessions(session) == []
        ended = [e for e in audit.events(session, "browser_session") if e.action == "update"]
    assert ended and ended[0].actor == "ana"


def test_token_principals_cannot_open_a_browser_session(store):
    with pytest.raises(UserError):
        browser_sessions.start(store, access.Principal(access.EXPERT, 1, "expert 1"))


@pytest.mark.parametrize("value, expected", [
    ("https://casestudy.example.org/", "https://casestudy.example.org"),
    ("HTTP://Host.example.org:8501/study/", "http://host.example.org:8501/study"),
    ("http://[::1]:8501", "http://[::1]:8501"),
])
def test_public_url_is_normalised(value, expected):
    assert settings.check_public_url(value) == expected


@pytest.mark.parametrize("value", [
    "", "ftp://x.org", "javascript:alert(1)", "https://", "https://user:pw@x.org", "https://x.org/?a=1",
    "https://x.org/#top", "https://x.org/../admin", "https://x.org/a/%2e%2e/b", "https://x.org/a b",
    "https://x.org\\evil", "https://x.org/" + "a" * 400, "https://x.org:99999", "https://x.org/%2fetc",
])
def test_bad_public_urls_are_refused(value):
    with pytest.raises(UserError):
        settings.check_public_url(value)


def test_environment_wins_over_the_setting(store, monkeypatch):
    monkeypatch.delenv(settings.PUBLIC_URL_ENV, raising=False)
    with store.write("admin") as session:
        assert settings.link_base(session, fallback="http://10.1.1.1:8501") == "http://10.1.1.1:8501"
        settings.set_public_url(session, "https://study.example.org/", "admin")
        assert settings.link_base(session, fallback="http://10.1.1.1:8501") == "https://study.example.org"
        assert settings.link_base(session, explicit="http://other.org") == "http://other.org"
    monkeypatch.setenv(settings.PUBLIC_URL_ENV, "https://env.example.org")
    with store.read() as session:
        current = settings.public_url(session)
        assert (current.url, current.source, current.stored) == ("https://env.example.org", "environment", "https://study.example.org")
        changes = [e for e in audit.events(session, "app_setting")]
    assert changes and changes[0].actor == "admin"


def test_cli_settings_and_links_use_the_public_url(demo_store, cli, monkeypatch):
    monkeypatch.delenv(settings.PUBLIC_URL_ENV, raising=False)
    bad = cli("--db", demo_store.url, "settings", "set", "public-url", "javascript:alert(1)")
    assert bad.code == 2 and bad.err.startswith("error: ") and "Traceback" not in bad.err
    ok = cli("--db", demo_store.url, "settings", "set", "public-url", "https://study.example.org/", "--format", "json")
    assert ok.code == 0 and '"https://study.example.org"' in ok.out
    shown = cli("--db", demo_store.url, "settings", "show", "--format", "json")
    assert '"source": "setting"' in shown.out
    link = cli("--db", demo_store.url, "tokens", "issue", "--case", "Case A", "--respondent", "Marleen Verhoef", "--format", "json")
    assert link.code == 0, link
    assert '"link": "https://study.example.org/?token=' in link.out
