"""Passwords, login, tokens and role guards."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from casestudy import access
from casestudy import security
from casestudy import study as studies
from casestudy import users
from casestudy.errors import UserError
from casestudy.models import AccessToken, AuditEvent, User


def test_password_hashes_are_argon2_and_verify(store):
    with store.write() as session:
        user = users.add_user(session, "alice", "correct horse battery", "coder")
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
    with pytest.raises(UserError, match="at least 10"):
        with store.write() as session:
            users.add_user(session, "bob", "short", "coder")


def test_login_right_and_wrong(store):
    with store.write() as session:
        users.add_user(session, "alice", "correct horse battery", "admin")
    principal = access.login(store, "Alice", "correct horse battery")
    assert principal.is_researcher and principal.is_admin
    with pytest.raises(UserError, match="wrong user name or password"):
        access.login(store, "alice", "wrong password!!")
    with pytest.raises(UserError, match="wrong user name or password"):
        access.login(store, "nobody", "whatever12345")
    with store.read() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.entity == "user_account"))]
    assert actions.count("login_failed") == 2 and "login" in actions


def test_deactivated_user_loses_access(store):
    with store.write() as session:
        users.add_user(session, "alice", "correct horse battery", "coder")
    principal = access.login(store, "alice", "correct horse battery")
    with store.write() as session:
        users.set_active(session, "alice", False)
    with store.read() as session:
        assert access.current_researcher(session, principal.subject_id) is None
    with pytest.raises(UserError):
        access.login(store, "alice", "correct horse battery")


def _respondent(store):
    with store.write() as session:
        study = studies.create_study(session, "S")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        return study.id, studies.add_respondent(session, case, "Ann", "manager").id


def test_token_is_random_hashed_and_resolves(store):
    study_id, respondent_id = _respondent(store)
    with store.write() as session:
        token, secret = access.issue_token(session, study_id, "respondent", "respondent", respondent_id)
    assert len(secret) >= 43  # 256 bits, URL-safe base64
    with store.read() as session:
        stored = session.get(AccessToken, token.id)
        assert stored.token_hash == security.hash_token(secret) and secret not in stored.token_hash
    principal = access.resolve_token(store, secret)
    assert principal.kind == "respondent" and principal.subject_id == respondent_id
    assert not principal.is_researcher
    with pytest.raises(access.AccessDenied):
        access.require_researcher(principal)


@pytest.mark.parametrize("case", ["unknown", "revoked", "expired", "empty", "guessed"])
def test_bad_tokens_are_refused_and_logged(store, case):
    study_id, respondent_id = _respondent(store)
    with store.write() as session:
        token, secret = access.issue_token(session, study_id, "respondent", "respondent", respondent_id)
        if case == "revoked":
            access.revoke_token(session, token.id)
        if case == "expired":
            session.get(AccessToken, token.id).expires_at = dt.datetime(2020, 1, 1)
    attempt = {"unknown": secret[:-2] + "xx", "empty": "", "guessed": "a" * 43}.get(case, secret)
    with pytest.raises(access.AccessDenied, match="not valid"):
        access.resolve_token(store, attempt)
    with store.read() as session:
        refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "refused")).all()
    assert len(refused) == 1
    assert secret not in str(refused[0].detail)


def test_secrets_never_reach_the_audit_log(store):
    study_id, respondent_id = _respondent(store)
    with store.write() as session:
        users.add_user(session, "alice", "correct horse battery", "coder")
        access.issue_token(session, study_id, "respondent", "respondent", respondent_id)
    with store.read() as session:
        for event in session.scalars(select(AuditEvent)):
            for key in ("password_hash", "token_hash"):
                if key in event.detail:
                    assert event.detail[key] == "<redacted>"


def test_first_admin_only_once(store):
    with store.write() as session:
        users.create_first_admin(session, "root", "correct horse battery")
    with pytest.raises(UserError, match="already exists"):
        with store.write() as session:
            users.create_first_admin(session, "root2", "correct horse battery")
    with store.read() as session:
        assert [u.role for u in session.scalars(select(User))] == ["admin"]
