"""The foundation CLI: thin wrappers, one-line errors with exit 2, machine-readable output."""

from __future__ import annotations

import csv
import io
import json


def test_init_cases_respondents_consent_roundtrip(cli, db_url):
    assert cli("--db", db_url, "init", "--title", "My study", "--language", "nl").code == 0
    r = cli("--db", db_url, "cases", "add", "--internal", "Unit 1", "--public", "Case A", "--outcome", "mixed", "--component", "PH:2", "--component", "IOP:1::never started")
    assert r.code == 0, r
    assert cli("--db", db_url, "respondents", "add", "--case", "case a", "--name", "Ann", "--role", "manager").code == 0
    assert cli("--db", db_url, "consent", "record", "--case", "Case A", "--respondent", "Ann", "--scope", "interview", "--date", "2024-01-02").code == 0
    cases = json.loads(cli("--db", db_url, "cases", "list", "--format", "json").out)
    assert cases[0]["programme"] == "PH (2 groups), IOP (1 group)" and cases[0]["outcome_class"] == "mixed"
    respondents = json.loads(cli("--db", db_url, "--format", "json", "respondents", "list").out)
    assert respondents[0]["consent"]["interview"] == "given" and respondents[0]["perspective"] == "top-down"
    rows = list(csv.DictReader(io.StringIO(cli("--db", db_url, "consent", "list", "--format", "csv").out)))
    assert rows == [{"case": "Case A", "respondent": "Ann", "scope": "interview", "given_on": "2024-01-02", "withdrawn_on": "", "note": ""}]


def test_user_errors_exit_2_with_one_line(cli, db_url):
    cli("--db", db_url, "init", "--title", "S")
    for argv, expected in [
        (["cases", "add", "--internal", "U", "--public", "C", "--outcome", "great"], "unknown outcome class"),
        (["respondents", "add", "--case", "Case Q", "--name", "X", "--role", "manager"], "unknown case 'Case Q'"),
        (["consent", "record", "--case", "x", "--respondent", "y", "--scope", "interview", "--date", "2024-13-01"], "invalid date"),
        (["users", "add", "bob", "--password", "short"], "at least 10"),
        (["cases", "add", "--internal", "U", "--public", "C", "--component", "PH:two"], "the number of groups as a whole number"),
    ]:
        result = cli("--db", db_url, *argv)
        assert result.code == 2, (argv, result)
        assert result.err.startswith("error: ") and expected in result.err and result.err.count("\n") == 1
        assert "Traceback" not in result.err


def test_bad_database_url_and_usage_errors(cli):
    result = cli("--db", "nonsense://", "cases", "list")
    assert result.code == 2 and result.err.startswith("error: cannot use database URL")
    result = cli("cases", "frobnicate")
    assert result.code == 2 and "error:" in result.err


def test_no_study_yet(cli, db_url):
    result = cli("--db", db_url, "cases", "list")
    assert result.code == 2 and "there is no study yet" in result.err


def test_users_and_passwords(cli, db_url, monkeypatch):
    monkeypatch.setenv("CASESTUDY_PASSWORD", "a long enough secret")
    assert cli("--db", db_url, "users", "add", "alice", "--role", "admin").code == 0
    assert cli("--db", db_url, "users", "add", "alice").err.startswith("error: a user named 'alice' already exists")
    users = json.loads(cli("--db", db_url, "users", "list", "--format", "json").out)
    assert [(u["username"], u["role"], u["active"]) for u in users] == [("alice", "admin", True)]
    assert "password_hash" not in users[0]
    assert cli("--db", db_url, "users", "passwd", "alice", "--password", "another long secret").code == 0


def test_demo_load_and_tokens(cli, db_url):
    loaded = json.loads(cli("--db", db_url, "demo", "load", "--format", "json").out)
    assert loaded["cases"] == 7
    assert cli("--db", db_url, "demo", "load").code == 2
    assert "demo not loaded" in cli("--db", db_url, "demo", "load", "--if-empty").out
    issued = json.loads(cli("--db", db_url, "tokens", "issue", "--case", "Case B", "--respondent", "Ans Kuipers", "--format", "json").out)
    assert "?token=" in issued["link"]
    assert cli("--db", db_url, "tokens", "revoke", str(issued["token_id"])).code == 0
    audit = json.loads(cli("--db", db_url, "audit", "list", "--entity", "access_token", "--format", "json").out)
    assert [e["action"] for e in audit][:2] == ["update", "create"]


def test_db_upgrade_command(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    result = cli("--db", url, "db", "upgrade")
    assert result.code == 0 and "database at revision" in result.out
    assert "0001_foundation" in cli("--db", url, "db", "current").out or cli("--db", url, "db", "current").out.strip()
