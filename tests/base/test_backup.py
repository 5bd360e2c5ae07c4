"""Backup and restore: backend-independent archive, round trips SQLite <-> PostgreSQL, refusals."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import shutil
import zipfile

import pytest
from sqlalchemy import JSON, Date, DateTime, Float, LargeBinary, Numeric, String, Time

from casestudy import backup as backups
from casestudy import db as dbmod
from casestudy import study as studies
from casestudy.errors import UserError
from casestudy import demo
from casestudy import migrate

EXPORTS = [("cases", "list"), ("respondents", "list"), ("consent", "list"), ("users", "list")]


def dump(store) -> dict[str, list[dict]]:
    """Every row of every data table, encoded as in the archive."""
    with store.engine.connect() as connection:
        return {
            t.name: [{c: backups.encode(v) for c, v in row._mapping.items()} for row in connection.execute(backups._ordered(t))]
            for t in backups._data_tables(backups._reflect(connection))
        }


def exports(cli, store) -> dict:
    return {" ".join(cmd): json.loads(cli("--db", store.url, *cmd, "--format", "json").out) for cmd in EXPORTS}


def without_restore_event(rows: dict) -> dict:
    rows = dict(rows)
    rows["audit_event"] = [e for e in rows["audit_event"] if e["action"] != "restore"]
    return rows


@pytest.fixture(scope="module")
def sqlite_demo_template(tmp_path_factory):
    """The demo (plus awkward values) in a SQLite file, loaded once; tests copy it."""
    path = tmp_path_factory.mktemp("backup") / "template.sqlite"
    store = dbmod.Store(f"sqlite:///{path}")
    migrate.upgrade(store)
    demo.load_demo(store)
    with store.write("tester") as session:  # awkward values: formulas, newlines, unicode, quotes
        case = studies.get_case(session, studies.get_study(session), "Case A")
        case.outcome_description = '=1+1\r\n"quoted" ü ✓ \\ tab\t'
    store.dispose()
    return path


@pytest.fixture
def sqlite_demo(tmp_path, sqlite_demo_template):
    shutil.copy(sqlite_demo_template, tmp_path / "source.sqlite")
    store = dbmod.Store(f"sqlite:///{tmp_path / 'source.sqlite'}")
    yield store
    store.dispose()


def test_round_trip_sqlite_and_configured_backend(sqlite_demo, db_url, tmp_path, cli):
    """SQLite -> archive -> the test backend (PostgreSQL in the PG run) -> archive -> fresh SQLite."""
    before_rows, before_exports = dump(sqlite_demo), exports(cli, sqlite_demo)
    first = backups.backup(sqlite_demo, tmp_path / "one.zip")
    assert first["alembic_revisions"] and first["app_version"] and first["source_backend"] == "sqlite"
    names = [t["name"] for t in first["tables"]]
    assert names.index("study") < names.index("case") < names.index("respondent") < names.index("consent_record")
    assert {t["name"]: t["rows"] for t in first["tables"]}["case"] == 7

    middle = dbmod.Store(db_url)  # brand-new: no tables at all
    summary = backups.restore(middle, tmp_path / "one.zip")
    assert summary["rows"] == sum(t["rows"] for t in first["tables"])
    assert without_restore_event(dump(middle)) == before_rows
    assert exports(cli, middle) == before_exports

    second = backups.backup(middle, tmp_path / "two.zip")
    same = {t["name"]: t["sha256"] for t in first["tables"] if t["name"] != "audit_event"}
    assert {t["name"]: t["sha256"] for t in second["tables"] if t["name"] != "audit_event"} == same  # byte-identical
    last = dbmod.Store(f"sqlite:///{tmp_path / 'last.sqlite'}")
    backups.restore(last, tmp_path / "two.zip")
    assert without_restore_event(dump(last)) == before_rows
    assert exports(cli, last) == before_exports

    # New rows continue after the restored ids (PostgreSQL sequences were reset).
    with middle.write() as session:
        case = studies.add_case(session, studies.get_study(session), "Unit 99", "Case Z")
    assert case.id == max(r["id"] for r in before_rows["case"]) + 1
    middle.dispose()
    last.dispose()


def test_restore_refuses_non_empty_database_and_force_replaces(sqlite_demo, store, tmp_path, cli):
    backups.backup(sqlite_demo, tmp_path / "b.zip")
    with store.write() as session:
        studies.create_study(session, "Something else")
    result = cli("--db", store.url, "restore", tmp_path / "b.zip")
    assert result.code == 2 and "not empty" in result.err and "--force" in result.err
    result = cli("--db", store.url, "restore", tmp_path / "b.zip", "--force")
    assert result.code == 2 and "--yes" in result.err  # no terminal: confirmation required
    with store.read() as session:
        assert [s.title for s in studies.list_studies(session)] == ["Something else"]
    result = cli("--db", store.url, "restore", tmp_path / "b.zip", "--force", "--yes", "--format", "json")
    assert result.code == 0, result
    assert json.loads(result.out)["replaced_rows"] >= 1
    assert without_restore_event(dump(store)) == dump(sqlite_demo)
    restore_events = [e for e in dump(store)["audit_event"] if e["action"] == "restore"]
    assert len(restore_events) == 1 and restore_events[0]["actor"] == "cli"


def test_cli_backup_and_restore(sqlite_demo, tmp_path, cli):
    result = cli("--db", sqlite_demo.url, "backup", tmp_path / "cli.zip", "--format", "json")
    assert result.code == 0, result
    assert json.loads(result.out)["rows"] > 100
    target = f"sqlite:///{tmp_path / 'target.sqlite'}"
    result = cli("--db", target, "restore", tmp_path / "cli.zip")
    assert result.code == 0, result
    assert exports(cli, dbmod.Store(target)) == exports(cli, sqlite_demo)


def _tamper(source, target, name, change):
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, change(data) if item.filename == name else data)


def _future_revision(manifest: bytes) -> bytes:
    import json

    data = json.loads(manifest)
    data["alembic_revisions"] = ["9999_from_the_future"]
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    "name, change, message",
    [
        ("tables/respondent.jsonl", lambda b: b.replace(b'"manager"', b'"boss"', 1), "damaged"),
        ("tables/case.jsonl", lambda b: b + b'{"id": 1000}\n', "damaged"),
        ("manifest.json", lambda b: _future_revision(b), "does not know"),
        ("manifest.json", lambda b: b"not json", "not a Casestudy backup"),
    ],
)
def test_damaged_or_foreign_archive_changes_nothing(sqlite_demo, db_url, tmp_path, name, change, message):
    backups.backup(sqlite_demo, tmp_path / "good.zip")
    _tamper(tmp_path / "good.zip", tmp_path / "bad.zip", name, change)
    target = dbmod.Store(db_url)
    with pytest.raises(UserError, match=message):
        backups.restore(target, tmp_path / "bad.zip")
    assert dbmod.table_names(target) == []  # all-or-nothing: not even the schema stayed
    target.dispose()


def test_not_an_archive(tmp_path, store):
    (tmp_path / "x.zip").write_text("hello")
    with pytest.raises(UserError, match="not a Casestudy backup"):
        backups.restore(store, tmp_path / "x.zip")
    with pytest.raises(UserError, match="no backup file"):
        backups.restore(store, tmp_path / "missing.zip")
    with pytest.raises(UserError, match="folder"):
        backups.backup(store, tmp_path)


@pytest.mark.parametrize(
    "column_type, value",
    [
        (LargeBinary(), b"\x00\xff\x10binary\r\n"),
        (DateTime(), dt.datetime(2026, 1, 2, 3, 4, 5, 678901)),
        (Date(), dt.date(2024, 2, 29)),
        (Time(), dt.time(23, 59, 1)),
        (Numeric(10, 3), decimal.Decimal("12.345")),
        (Float(), 0.1 + 0.2),
        (JSON(), {"levels": ["a", "2024-01-01"], "n": None}),
        (String(), "2024-01-01"),
    ],
)
def test_values_survive_json_by_column_type(column_type, value):
    archived = json.loads(json.dumps(backups.encode(value)))
    assert backups.decode(column_type, archived) == value


def test_failed_backup_leaves_no_file(sqlite_demo, tmp_path, monkeypatch):
    def boom(*args):
        raise UserError("disk full")

    monkeypatch.setattr(backups, "_write_table", boom)
    with pytest.raises(UserError, match="disk full"):
        backups.backup(sqlite_demo, tmp_path / "half.zip")
    assert list(tmp_path.glob("*.zip")) == [] and list(tmp_path.glob(".backup-*")) == []
