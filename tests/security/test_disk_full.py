"""A full disk during a write or a backup is one clear message, never a traceback or a path."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from casestudy import backup as backups
from casestudy import db as dbmod
from casestudy import study as studies
from casestudy.errors import UserError


def test_a_full_disk_during_a_write_is_one_message(store, monkeypatch):
    def full(*args, **kwargs):
        raise OperationalError("INSERT ...", {}, sqlite3.OperationalError("database or disk is full"))

    with pytest.raises(UserError) as caught:
        with store.write("tester") as session:
            monkeypatch.setattr(session, "flush", full)
            studies.create_study(session, "S")
    assert caught.value.message == dbmod.DISK_FULL_MESSAGE
    for postgres_message in ("could not extend file \"base/1/2\": No space left on device",):
        with pytest.raises(UserError, match="the disk is full"):
            with dbmod.translate_db_errors(store.url):
                raise OperationalError("INSERT ...", {}, Exception(postgres_message))


def test_a_full_disk_during_a_backup_is_one_message_and_leaves_no_file(store, tmp_path, monkeypatch):
    with store.write("tester") as session:
        studies.create_study(session, "S")

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backups, "_write_table", full)
    with pytest.raises(UserError) as caught:
        backups.backup(store, tmp_path / "study.casestudy.zip")
    assert caught.value.message == "the disk is full: the backup was not written; free some space and try again"
    assert list(tmp_path.glob("*.zip")) == [] and list(tmp_path.glob(".backup-*")) == []
