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
from tests.security import heavy_import
from tests.security.test_bulk_lock import SAVE_BOUND_S

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


def test_expert_saves_complete_within_a_second_during_a_large_refi_import(store, tmp_path):
    """The administrator's ``import qdpx`` of a project with 20,000 codings in its own process, an
    expert saving back to back meanwhile (as tests/security/test_bulk_lock.py for ``codings
    import``). Before the writes were planned in the read phase, the import held the write lock
    3.5-4 s at 20,000 codings (offsets checked per selection, every row sent from Python) and the
    save waiting behind it took as long; now it holds it about 0.3-0.4 s."""
    archive_path = heavy_import.refi_archive(tmp_path / "archive", rows=20_000)
    setup = heavy_import.build(store, tmp_path, rows=1, experts=1)
    run = heavy_import.saves_during_cli(store, setup, "import", "qdpx", str(archive_path), "--title", "Large import",
                                        what="the REFI import")
    assert run.returncode == 0, run.err
    with store.read() as session:
        study_id = session.scalar(select(Study.id).where(Study.title == "Large import"))
        assert session.scalar(select(func.count(Coding.id)).where(Coding.study_id == study_id)) == 20_000
    assert run.failures == []
    assert run.saved >= 20, f"only {run.saved} saves while the import ran"  # the saves covered the import's run
    assert run.latencies[-1] < SAVE_BOUND_S, f"slowest save {run.latencies[-1]:.2f} s"
