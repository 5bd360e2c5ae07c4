"""A REFI-QDA import does not hold the write lock while it reads and checks the archive, and it
stays all or nothing (``importer.import_qdpx_staged``, used by the CLI and the Exchange page)."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from casestudy.errors import UserError
from casestudy.exchange import importer
from casestudy.models import Coding, Study
from tests.exchange.test_refi_qda import (
    C2,
    S1,
    archive,
    one_source,
    project,
    selection,
    snapshot,
)

TEXT = "The costs were high and the support was thin."


def _data() -> bytes:
    second = selection("BBBBBBBB-0000-0000-0000-000000000002", 26, 45, C2, name="support was thin.")
    source = one_source("ann", TEXT, 4, 21, "costs were high").replace("</TextSource>", second + "</TextSource>")
    assert S1 in source
    return archive(project(source))


def test_a_save_during_the_reading_of_the_archive_does_not_wait_for_the_import(store, monkeypatch):
    real_read = importer._Importer.read
    waits = []

    def read_then_save(self):
        real_read(self)
        started = time.perf_counter()
        with store.write("expert") as session:  # another writer while the import is reading
            session.add(Study(title="saved meanwhile"))
        waits.append(time.perf_counter() - started)

    monkeypatch.setattr(importer._Importer, "read", read_then_save)
    report = importer.import_qdpx_staged(store, "test", _data())
    assert report["codings"] == 2 and report["sources"] == 1
    # Within the store's busy timeout: a read phase holding the write lock would make this save
    # wait the whole timeout (15 s) and fail with "the database is busy".
    assert len(waits) == 1
    with store.read() as session:
        titles = set(session.scalars(select(Study.title)))
        assert "saved meanwhile" in titles and report["title"] in titles
        assert session.scalar(select(func.count(Coding.id)).where(Coding.study_id == report["study_id"])) == 2


def test_a_failing_write_phase_stores_nothing(store, monkeypatch):
    before = snapshot(store)

    def fail(self):
        raise UserError("stopped on purpose")

    monkeypatch.setattr(importer._Importer, "import_notes", fail)
    try:
        importer.import_qdpx_staged(store, "test", _data())
    except UserError as exc:
        assert exc.message == "stopped on purpose"
    else:  # pragma: no cover - the call must raise
        raise AssertionError("the failure was swallowed")
    assert snapshot(store) == before
    monkeypatch.undo()
    report = importer.import_qdpx_staged(store, "test", _data())  # the connection came back clean
    assert report["codings"] == 2
