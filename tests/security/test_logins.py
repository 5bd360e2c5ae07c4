"""Login backoff and lockout (on a fake clock), the password policy, control characters in names."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from casestudy import access
from casestudy import security
from casestudy import users
from casestudy.errors import UserError
from casestudy.models import AuditEvent

PASSWORD = "correct horse battery"


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 1, 12, 0, 0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def alice(store):
    with store.write() as session:
        users.add_user(session, "alice", PASSWORD, "coder")
    return store


def _actions(store, action):
    with store.read() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _fail(store, clock, username="alice", client=None):
    with pytest.raises(UserError) as caught:
        access.login(store, username, "wrong password!!", clock=clock, client=client)
    return caught.value.message


def test_backoff_after_five_failures_doubles_then_locks_for_fifteen_minutes(alice):
    clock = FakeClock()
    for _ in range(5):
        assert _fail(alice, clock) == "wrong user name or password"
        clock.advance(0.1)
    # Five failures: the next attempt must wait 1 s after the last one, even with the right password.
    with pytest.raises(UserError, match="must wait; try again in 1 second$"):
        access.login(alice, "alice", PASSWORD, clock=clock)
    waits = []
    for _ in range(4):  # failures 6..9 each double the pause: 1, 2, 4, 8 s
        clock.advance(2 ** len(waits))
        assert _fail(alice, clock) == "wrong user name or password"
        waits.append(_fail(alice, clock))
    assert [w.split("try again in ")[1] for w in waits] == ["2 seconds", "4 seconds", "8 seconds", "16 seconds"]
    clock.advance(16)
    assert _fail(alice, clock) == "wrong user name or password"  # the 10th failure: lockout
    locked = _actions(alice, "login_locked")
    assert len(locked) == 1 and locked[0].detail["scope"] == "account" and locked[0].actor == "alice"
    clock.advance(5 * 60)
    with pytest.raises(UserError, match="this account is locked; try again in 10 minutes"):
        access.login(alice, "alice", PASSWORD, clock=clock)
    clock.advance(9 * 60)
    with pytest.raises(UserError, match="this account is locked; try again in 60 seconds"):
        access.login(alice, "ALICE", PASSWORD, clock=clock)  # any case of the name counts
    clock.advance(60)
    assert access.login(alice, "alice", PASSWORD, clock=clock).name == "alice"
    throttled = _actions(alice, "login_throttled")
    assert len(throttled) == 7 and throttled[-1].detail["locked"] is True
    assert len(_actions(alice, "login_failed")) == 10
    # A successful login starts the count again.
    assert _fail(alice, clock) == "wrong user name or password"


def test_unknown_accounts_are_throttled_like_real_ones(store):
    clock = FakeClock()
    for _ in range(5):
        _fail(store, clock, username="nobody")
    assert "too many failed logins" in _fail(store, clock, username="nobody")


def test_failures_outside_the_window_are_forgotten(alice):
    clock = FakeClock()
    for _ in range(9):
        _fail(alice, clock)
        clock.advance(20)
    clock.advance(access.ACCOUNT_THROTTLE.window.total_seconds())
    assert access.login(alice, "alice", PASSWORD, clock=clock).name == "alice"


def test_one_client_trying_many_accounts_is_throttled(store):
    clock = FakeClock()
    for number in range(access.CLIENT_THROTTLE.delay_after):
        _fail(store, clock, username=f"user{number}", client="203.0.113.9")
    message = _fail(store, clock, username="someone-else", client="203.0.113.9")
    assert "this computer must wait" in message
    assert _fail(store, clock, username="someone-else", client="198.51.100.1") == "wrong user name or password"
    assert _actions(store, "login_throttled")[-1].detail["scope"] == "client"


@pytest.mark.parametrize(
    "password, message",
    [
        ("aaaaaaaaaa", "one character repeated"),
        (" " * 10, "only spaces"),
        ("\t \n  \t    \u3000", "only spaces"),
        ("qwertyuiop", "common passwords"),
        ("Password123", "common passwords"),
        ("1234567890", "common passwords"),
        ("short", "at least 10"),
    ],
)
def test_weak_passwords_are_refused_everywhere(store, cli, password, message):
    with pytest.raises(UserError, match=message):
        security.check_password_strength(password)
    with pytest.raises(UserError, match=message):
        with store.write() as session:
            users.create_first_admin(session, "root", password)
    result = cli("--db", store.url, "users", "add", "bob", "--password", password)
    assert result.code == 2 and message in result.err


def test_a_pass_phrase_is_accepted():
    security.check_password_strength("correct horse battery staple")
    assert len(security.common_passwords()) >= 200


@pytest.mark.parametrize("username", ["alice\r\nadmin logged in", "alice\n", "\ralice", "ali\x00ce"])
def test_user_names_with_line_breaks_are_refused_at_login_and_creation(alice, username):
    with pytest.raises(UserError, match="line breaks"):
        access.login(alice, username, PASSWORD)
    with pytest.raises(UserError, match="line breaks"):
        with alice.write() as session:
            users.add_user(session, username, PASSWORD)
    refused = _actions(alice, "login_refused")[-1]
    assert "\n" not in refused.actor and "\r" not in refused.actor
    assert "\n" not in refused.detail["username"] and "\r" not in refused.detail["username"]
