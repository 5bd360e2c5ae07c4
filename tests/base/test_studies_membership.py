"""Several studies in one database: membership, the guard, archive, the last owner, the upgrade."""

from __future__ import annotations

import json
import sqlite3

import alembic.command
import pytest
from sqlalchemy import select

from casestudy import access, migrate, users
from casestudy import db as dbmod
from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.models import AuditEvent, StudyMember

from tests.conftest import POSTGRES_URL

PASSWORD = "a long enough password"


@pytest.fixture
def two_studies(store):
    """Study A (ann owns it, cody codes it) and study B (bea owns it); vic views A; root is the admin."""
    with store.write() as session:
        ann, bea, cody, vic = (users.add_user(session, name, PASSWORD, role) for name, role in
                               (("ann", "coder"), ("bea", "coder"), ("cody", "coder"), ("vic", "viewer")))
        users.add_user(session, "root", PASSWORD, "admin")
        a = studies.create_study(session, "Study A", owner=ann)
        b = studies.create_study(session, "Study B", owner=bea)
        studies.add_member(session, a, "cody")
        studies.add_member(session, a, vic)
        studies.add_case(session, b, "Unit 9", "Case Z")
        return {"a": a.id, "b": b.id, **{u.username: u.id for u in users.list_users(session)}}


def _principal(store, username):
    with store.read() as session:
        return access.researcher(users.get_user(session, username))


def _refusals(store):
    with store.read() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.entity == "access", AuditEvent.action == "refused")).all()


def test_members_see_only_their_studies_admin_sees_all(store, two_studies):
    with store.read() as session:
        titles = lambda user: [s.title for s in studies.list_studies(session, for_user=two_studies[user])]  # noqa: E731
        assert titles("cody") == ["Study A"]
        assert titles("bea") == ["Study B"]
        assert titles("root") == ["Study A", "Study B"]
        assert studies.study_role(session, two_studies["a"], two_studies["cody"]) == "coder"
        assert studies.study_role(session, two_studies["a"], two_studies["vic"]) == "viewer"  # the global role
        assert studies.study_role(session, two_studies["b"], two_studies["cody"]) is None


def test_coder_of_one_study_is_refused_on_another_and_it_is_logged(store, two_studies):
    cody = _principal(store, "cody")
    with store.read() as session:
        scoped = access.require_study_role(cody, session.get(studies.Study, two_studies["a"]), "coder")
        assert (scoped.study_id, scoped.study_role, scoped.can_edit) == (two_studies["a"], "coder", True)
        with pytest.raises(access.AccessDenied, match="not a member of this study") as refused:
            access.require_study_role(cody, session.get(studies.Study, two_studies["b"]), "viewer")
    access.log_refusal(store, refused.value.principal, "test", refused.value.what)
    [event] = _refusals(store)
    assert (event.actor, event.study_id) == ("cody", two_studies["b"])
    assert "not a member" in event.detail["reason"]


def test_roles_rank_viewer_coder_owner_and_admin_passes(store, two_studies):
    with store.read() as session:
        a = session.get(studies.Study, two_studies["a"])
        vic = access.require_study_role(_principal(store, "vic"), a, "viewer")
        assert not vic.can_edit
        with pytest.raises(access.AccessDenied, match="viewer of this study; this needs the role coder"):
            access.require_study_role(_principal(store, "vic"), a, "coder")
        with pytest.raises(access.AccessDenied, match="needs the role owner"):
            access.require_study_owner(_principal(store, "cody"), a)
        assert access.require_study_owner(_principal(store, "ann"), a).study_role == "owner"
        assert access.require_study_owner(_principal(store, "root"), a).can_edit  # admin, not a member
        with pytest.raises(access.AccessDenied):
            access.require_study_role(None, a)


def test_the_last_owner_stays(store, two_studies):
    with store.write() as session:
        a = session.get(studies.Study, two_studies["a"])
        with pytest.raises(UserError, match="ann is the last owner"):
            studies.remove_member(session, a, "ann")
        with pytest.raises(UserError, match="last owner"):
            studies.set_member_role(session, a, "ann", "coder")
        studies.set_member_role(session, a, "cody", "owner")
        studies.set_member_role(session, a, "ann", "coder")  # now cody owns it
        studies.remove_member(session, a, "ann")
        assert [(m.user.username, m.role) for m in studies.list_members(session, a)] == [("cody", "owner"), ("vic", "viewer")]
        with pytest.raises(UserError, match="already a member"):
            studies.add_member(session, a, "vic")
        with pytest.raises(UserError, match="unknown study role"):
            studies.add_member(session, a, "bea", "boss")
        with pytest.raises(UserError, match="not a member"):
            studies.remove_member(session, a, "bea")


def test_rename_and_archive(store, two_studies):
    with store.write() as session:
        a = session.get(studies.Study, two_studies["a"])
        with pytest.raises(UserError, match="already exists"):
            studies.rename_study(session, a, "study b")
        with pytest.raises(UserError, match="needs a title"):
            studies.rename_study(session, a, "  ")
        studies.rename_study(session, a, "Study A, renamed")
        studies.archive_study(session, a)
        with pytest.raises(UserError, match="already archived"):
            studies.archive_study(session, a)
    with store.read() as session:
        assert [s.title for s in studies.list_studies(session)] == ["Study B"]
        assert [s.title for s in studies.list_studies(session, include_archived=True)] == ["Study A, renamed", "Study B"]
        assert studies.list_studies(session, for_user=two_studies["cody"]) == []
        with pytest.raises(UserError, match="is archived; unarchive it first"):
            studies.get_study(session, two_studies["a"], include_archived=False)
    with store.write() as session:
        studies.unarchive_study(session, session.get(studies.Study, two_studies["a"]))
    with store.read() as session:
        assert [s.title for s in studies.list_studies(session, for_user=two_studies["cody"])] == ["Study A, renamed"]


def test_cli_scopes_every_command_by_membership(cli, store, two_studies):
    db = store.url
    # cody codes study A: its cases; study B is refused (exit 2, one line) and the refusal logged.
    assert cli("--db", db, "--user", "cody", "--study", "Study A", "cases", "list").code == 0
    refused = cli("--db", db, "--user", "cody", "--study", "Study B", "cases", "list", "--format", "json")
    assert refused.code == 2 and refused.err == "error: you are not a member of this study; ask its owner or the administrator to add you\n"
    assert "Case Z" not in refused.out
    [event] = _refusals(store)
    assert (event.actor, event.study_id, event.detail["where"]) == ("cody", two_studies["b"], "cli cases")
    # Without --study, cody works on the first study he belongs to; a viewer cannot write.
    assert cli("--db", db, "--user", "cody", "cases", "add", "--internal", "Unit 1", "--public", "Case A").code == 0
    viewer = cli("--db", db, "--user", "vic", "cases", "add", "--internal", "Unit 2", "--public", "Case B")
    assert viewer.code == 2 and "viewer of this study" in viewer.err
    listed = json.loads(cli("--db", db, "--user", "cody", "study", "list", "--format", "json").out)
    assert [(s["title"], s["your_role"]) for s in listed] == [("Study A", "coder")]
    # Owner-level commands.
    assert cli("--db", db, "--user", "cody", "study", "add-member", "Study A", "bea").code == 2
    added = cli("--db", db, "--user", "ann", "study", "add-member", "Study A", "bea", "--role", "viewer", "--format", "json")
    assert json.loads(added.out)["role"] == "viewer"
    members = json.loads(cli("--db", db, "study", "members", "Study A", "--format", "json").out)
    assert [(m["username"], m["role"]) for m in members] == [("ann", "owner"), ("cody", "coder"), ("bea", "viewer"), ("vic", "viewer")]
    last = cli("--db", db, "study", "remove-member", "Study A", "ann")
    assert last.code == 2 and "last owner" in last.err
    assert cli("--db", db, "study", "set-role", "Study A", "cody", "owner").code == 0
    # Archived and unknown studies: error, exit 2.
    assert cli("--db", db, "--user", "ann", "study", "archive", "Study A").code == 0
    archived = cli("--db", db, "--study", "Study A", "cases", "list")
    assert archived.code == 2 and "is archived" in archived.err
    unknown = cli("--db", db, "--study", "Study Q", "codebook", "show")
    assert unknown.code == 2 and unknown.err.startswith("error: no study 'Study Q'")
    assert json.loads(cli("--db", db, "study", "unarchive", "Study A", "--format", "json").out)["archived"] is False
    renamed = cli("--db", db, "study", "rename", "1", "Alpha", "--format", "json")
    assert json.loads(renamed.out)["title"] == "Alpha"


def test_cli_commands_naming_rows_by_id_check_the_rows_study(cli, store, two_studies):
    with store.write() as session:
        b = session.get(studies.Study, two_studies["b"])
        respondent = studies.add_respondent(session, studies.get_case(session, b, "Case Z"), "Zed", "manager")
        token, _, _ = access.issue_respondent_link(session, respondent)
    refused = cli("--db", store.url, "--user", "cody", "tokens", "revoke", token.id)
    assert refused.code == 2 and "not a member" in refused.err
    assert cli("--db", store.url, "--user", "bea", "tokens", "revoke", token.id).code == 0  # bea owns study B
    accounts = cli("--db", store.url, "--user", "ann", "users", "list")
    assert accounts.code == 2 and "only an administrator" in accounts.err
    assert cli("--db", store.url, "--user", "root", "users", "list").code == 0
    assert [e.detail["where"] for e in _refusals(store)] == ["cli tokens", "cli users"]


def test_cli_study_create_with_a_shipped_codebook(cli, store):
    with store.write() as session:
        users.add_user(session, "ann", PASSWORD, "coder")
        users.add_user(session, "vic", PASSWORD, "viewer")
    mismatch = cli("--db", store.url, "study", "create", "Mine", "--levels", "org,team", "--codebook", "empty-three-level")
    assert mismatch.code == 2 and "unknown level 'organization'" in mismatch.err  # and no study was left behind
    created = cli("--db", store.url, "--user", "ann", "study", "create", "Mine", "--language", "NL",
                  "--codebook", "empty-three-level", "--format", "json")
    record = json.loads(created.out)
    assert (record["owner"], record["language"], record["levels"], record["codes"]) == ("ann", "nl", ["organization", "team", "therapist"], 3)
    assert cli("--db", store.url, "--user", "vic", "study", "create", "Viewer's").code == 2
    bad = cli("--db", store.url, "study", "create", "Other", "--codebook", "nope")
    assert bad.code == 2 and "no shipped codebook 'nope'" in bad.err
    with store.read() as session:
        assert [s.title for s in studies.list_studies(session)] == ["Mine"]  # nothing half-written


def test_demo_accounts_are_members_of_the_demo_study(demo_store):
    with demo_store.read() as session:
        study = studies.get_study(session)
        assert {(m.user.username, m.role) for m in studies.list_members(session, study)} == {
            ("admin", "owner"), ("coder1", "coder"), ("coder2", "coder")}


@pytest.mark.skipif(bool(POSTGRES_URL), reason="builds a SQLite file at the previous revision")
def test_a_single_study_database_upgrades_in_place(tmp_path):
    """A database at 0009 (one study, an admin, a coder, a viewer) gains memberships for everyone."""
    path = tmp_path / "old.sqlite"
    store = dbmod.Store(f"sqlite:///{path}")
    cfg = migrate.alembic_config(store)
    with store.writer_engine().begin() as connection:
        cfg.attributes["connection"] = connection
        alembic.command.upgrade(cfg, "0009_join_stages")
    old = sqlite3.connect(path)
    old.executescript("""
        INSERT INTO study (id, title, language, levels, description, created_at, version)
            VALUES (1, 'Old study', 'nl', '["organization", "team", "therapist"]', '', '2026-01-01 00:00:00', 1);
        INSERT INTO user_account (id, username, display_name, role, password_hash, active, created_at, version) VALUES
            (1, 'boss', 'Boss', 'admin', 'x', 1, '2026-01-01 00:00:00', 1),
            (2, 'cora', 'Cora', 'coder', 'x', 1, '2026-01-01 00:00:00', 1),
            (3, 'vera', 'Vera', 'viewer', 'x', 0, '2026-01-01 00:00:00', 1);
    """)
    old.commit()
    old.close()
    assert migrate.current_revisions(store) == ["0009_join_stages"]
    assert migrate.upgrade(store) is not None  # backed up, then upgraded
    assert "0010_study_membership" in migrate.current_revisions(store) or migrate.schema_is_current(store)
    with store.read() as session:
        rows = session.execute(select(StudyMember.study_id, StudyMember.user_id, StudyMember.role).order_by(StudyMember.user_id)).all()
        assert [tuple(r) for r in rows] == [(1, 1, "owner"), (1, 2, "coder"), (1, 3, "viewer")]
        study = studies.get_study(session)
        assert study.archived_at is None and study.title == "Old study"
        assert [s.title for s in studies.list_studies(session, for_user=2)] == ["Old study"]
    store.dispose()
