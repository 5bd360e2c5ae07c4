"""Revision 0015_interview_guide on a database with data: no coding, turn or sentence is lost on
the way up or down (SQLite cannot rebuild the interview table with its children in place)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from casestudy import migrate
from casestudy import study as studies
from casestudy.interviews import store as interviews_store
from casestudy.models import Base, Coding, Interview, Sentence, SpeakerTurn
from tests.base.test_db import without_unnamed_sqlite_fks

TABLES = (Interview, Coding, SpeakerTurn, Sentence)


def counts(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {model.__tablename__: connection.execute(select(func.count()).select_from(model.__table__)).scalar() for model in TABLES}


def run(store, action, target: str) -> None:
    cfg = migrate.alembic_config(store)
    with migrate.migration_connection(store) as connection:
        cfg.attributes["connection"] = connection
        action(cfg, target)


def test_down_and_up_keep_every_row_but_documents(demo_store):
    with demo_store.write("setup") as session:
        interviews_store.import_interviews(session, studies.get_study(session), [interviews_store.ImportItem(
            "minutes.txt", b"Board minutes: the budget is cut.\n", "Case A", "", kind="document", document_type="minutes")])
    before = counts(demo_store)
    assert before["coding"] > 600 and before["interview"] == 15
    run(demo_store, command.downgrade, "0014_join_round3")
    down = counts(demo_store)
    assert {**down, "interview": down["interview"] + 1, "speaker_turn": before["speaker_turn"], "sentence": before["sentence"]} == before
    run(demo_store, command.upgrade, "heads")
    assert counts(demo_store)["coding"] == before["coding"]
    with demo_store.engine.connect() as connection:
        assert without_unnamed_sqlite_fks(compare_metadata(MigrationContext.configure(connection), Base.metadata), demo_store) == []
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    with demo_store.read() as session:
        assert session.scalar(select(func.count()).select_from(Coding).where(Coding.elicitation == "")) == before["coding"]
