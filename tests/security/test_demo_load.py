"""``demo load`` runs step by step, one short writing transaction per step, and never leaves a
half-loaded demo: a failed step takes back what the load wrote, a load that did not finish (its
process killed) is not the demo and is removed by the next load, and other writers take turns
between the steps (it used to be one transaction of 15-170 s during which nobody could write)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from casestudy import demo
from casestudy.demo import outcomes as demo_outcomes
from casestudy.errors import UserError
from casestudy.models import AuditEvent, Base, Interview, Study
from tests.security import heavy_import
from tests.conftest import ROOT

KEPT = {"audit_event", "user_account"}  # the log of what happened, and the shared demo accounts


def _counts(store) -> dict[str, int]:
    with store.read() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables if t.name not in KEPT}


def _stop(session, study, case):
    raise UserError("stopped on purpose")


def test_a_failed_step_leaves_no_demo_and_an_unfinished_load_is_replaced_by_the_next(store, demo_store, monkeypatch):
    monkeypatch.setattr(demo_outcomes, "_release_summary", _stop)  # in the last step: all but the summaries are in by then
    with pytest.raises(UserError, match="stopped on purpose"):
        demo.load_demo(store)
    assert set(_counts(store).values()) == {0}, "the failed load left rows behind"
    with store.read() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.entity == "study", AuditEvent.action == "delete")) is not None

    # The process dies in that step: nothing takes the partial demo back.
    monkeypatch.setattr(demo, "_remove_after_failure", lambda store: None)
    with pytest.raises(UserError, match="stopped on purpose"):
        demo.load_demo(store)
    with store.read() as session:
        assert not demo.is_loaded(session)
        assert list(session.scalars(select(Study.title))) == [demo.LOADING_TITLE]

    monkeypatch.undo()
    assert demo.load_demo_if_empty(store) is True  # the unfinished load does not count as a study
    with store.read() as session:
        assert demo.is_loaded(session)
        assert list(session.scalars(select(Study.title))) == [demo.DEMO_TITLE]
        assert session.scalar(select(func.count(Interview.id))) == 14
    assert _counts(store) == _counts(demo_store)  # all of the demo, once


def test_an_expert_of_another_study_saves_while_the_demo_loads(store, tmp_path):
    setup = heavy_import.build(store, tmp_path, rows=1, experts=1)
    finished, failures = [], []
    loading = threading.Event()
    loading.set()

    def expert():
        n = 0
        while loading.is_set():
            try:
                heavy_import.save_by_link(store, setup.secrets[0], "team", n % 6, setup.case_labels[n % len(setup.case_labels)])
                finished.append(time.perf_counter())
            except UserError as exc:
                failures.append(exc.message)
            n += 1
            time.sleep(0.05)

    saver = threading.Thread(target=expert)
    saver.start()
    try:
        started = time.perf_counter()
        demo.load_demo(store, force=True)
        done = time.perf_counter()
    finally:
        loading.clear()
        saver.join(timeout=60)
    during = [t for t in finished if started < t < done]
    print(f"{len(during)} saves during the {done - started:.1f} s demo load; {len(failures)} failed")
    assert failures == []
    # One transaction held the write lock for the whole load: no save completed before its end.
    assert len(during) >= len(demo.demo_steps()), f"only {len(during)} saves while the demo loaded"
    with store.read() as session:
        assert demo.is_loaded(session)


def test_one_process_at_a_time_loads_the_demo(store):
    with store.exclusive(demo.LOAD_CLAIM) as mine:
        assert mine
        with store.exclusive(demo.LOAD_CLAIM) as again:
            assert not again  # also a second claim of this very process
        with pytest.raises(UserError, match="being loaded by another process"):
            demo.load_demo(store)
    with store.read() as session:
        assert session.scalar(select(func.count(Study.id))) == 0
    with store.exclusive(demo.LOAD_CLAIM) as mine:
        assert mine  # released with the block


def test_a_load_in_another_process_is_not_replaced(store):
    code = ("import sys\nfrom casestudy import db, demo\nstore = db.Store(sys.argv[1])\n"
            "with store.exclusive(demo.LOAD_CLAIM) as mine:\n    print('held' if mine else 'refused', flush=True)\n    sys.stdin.read()\n")
    other = subprocess.Popen([sys.executable, "-c", code, store.url], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match="being loaded by another process"):
            demo.load_demo(store)
    finally:
        other.communicate(timeout=60)  # closes its stdin: the other process ends and its claim with it
    with store.exclusive(demo.LOAD_CLAIM) as mine:
        assert mine


def test_a_study_titled_like_an_unfinished_demo_by_hand_is_kept(store):
    from casestudy import study as studies

    with store.write("admin") as session:
        studies.create_study(session, demo.LOADING_TITLE)
    with store.write("test") as session:
        assert demo.remove_unfinished(session) == 0  # only a load's own study is removed
    with store.read() as session:
        assert list(session.scalars(select(Study.title))) == [demo.LOADING_TITLE]
