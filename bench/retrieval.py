"""Retrieval and matrix at scale, in-process: one code's segments over many interviews and codings.

    /work/main/.venv/bin/python bench/retrieval.py [--interviews 1000] [--codings 200000] [--words 3700]

Builds a SQLite study with ``--interviews`` transcripts of about ``--words`` words (stored with
bulk inserts, no segmentation: this bench is about reading) and ``--codings`` codings spread
evenly over 40 codes and two coders, then times, in this process (no CLI start-up), the median
of 5 runs of:

* ``coding.retrieval.segments`` for one code (all its segments, with the coded text and 120
  characters of context on each side, as ``retrieve --code`` prints them);
* the same without context;
* ``coding.matrices.case_code_matrix`` (counts) over the whole study.

Units: milliseconds, wall clock (``time.perf_counter``) and this process's CPU time
(``time.process_time``; on a machine busy with other work the wall clock includes waiting for a
core, the CPU time does not). The issue's target for one code is <= 100 ms. It also prints
SQLite's query plans (each step an index search; the only sort is the segments' ORDER BY).

Where the time went (profiled at 200,000 codings): the matrix once read every segment through the
retrieval query (six joins, memo, names, ORDER BY) and re-read each interview's page from the OS
for every coding, as SQLite's default 2 MB page cache is smaller than the transcripts: 7.7 s. It
now reads bare spans with only the joins its filter needs (``retrieval.span_query``) and the page
cache is 32 MB (``db.SQLITE_CACHE_KIB``). This script prints; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casestudy import bulk, db, migrate, study as studies, users  # noqa: E402
from casestudy.codebook import tree  # noqa: E402
from casestudy.coding import matrices, retrieval  # noqa: E402
from casestudy.access import Principal  # noqa: E402
from casestudy.models import Coding, Interview  # noqa: E402

ADMIN = Principal("researcher", 0, "bench", role="admin")  # sees every coder's codings

WORDS = "the team programme patients group therapy manager we they it was were had not very much more about because".split()


def build(url: str, interviews: int, codings: int, words: int) -> tuple[int, int]:
    """The study (id) and the code (id) whose segments are retrieved."""
    rng = random.Random(20261201)
    store = db.Store(url)
    migrate.upgrade(store)
    with store.write("bench") as session:
        study = studies.create_study(session, "retrieval bench")
        coders = [users.add_user(session, f"coder{n}", "bench-coder-password-2026", "coder") for n in (1, 2)]
        codes = [tree.add_code(session, study, f"Code {n:02d}", level=study.levels[n % 3]) for n in range(40)]
        cases = []
        for k in range(interviews // 2):
            case = studies.add_case(session, study, f"Unit {k + 1}", f"Case {k + 1}", f"Organisation {k + 1}")
            cases.append((case, studies.add_respondent(session, case, f"Manager {k + 1}", "manager"),
                          studies.add_respondent(session, case, f"Therapist {k + 1}", "therapist")))
        rows = []
        for index in range(interviews):
            case, manager, therapist = cases[index // 2]
            text = " ".join(rng.choice(WORDS) for _ in range(words))
            rows.append({"study_id": study.id, "case_id": case.id, "respondent_id": (manager, therapist)[index % 2].id,
                         "file_name": f"interview-{index + 1:04d}.txt", "sha256": f"{index:064d}", "encoding": "utf-8",
                         "format": "txt", "text": text, "language": "en"})
        bulk.bulk_insert(session, Interview, rows, study_id=study.id)
        ids = [(i.id, len(i.text)) for i in session.query(Interview.id, Interview.text).filter(Interview.study_id == study.id)]
        coding_rows, taken = [], set()
        for n in range(codings):
            interview_id, length = ids[n % len(ids)]
            start = rng.randrange(0, length - 300)
            while (interview_id, n % len(codes), n % 2, start) in taken:  # one coding per span, code and coder
                start = rng.randrange(0, length - 300)
            taken.add((interview_id, n % len(codes), n % 2, start))
            coding_rows.append({"study_id": study.id, "interview_id": interview_id, "code_id": codes[n % len(codes)].id,
                                "coder_id": coders[n % 2].id, "start": start, "end": start + rng.randint(20, 280),
                                "start_line": 1, "end_line": 1, "origin": "import"})
        bulk.bulk_insert(session, Coding, coding_rows, study_id=study.id)
        return study.id, codes[0].id


def median_ms(fn, runs: int = 5) -> tuple[float, float]:
    """Medians of (wall clock, this process's CPU time) in ms over ``runs`` calls."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(1000 * (time.perf_counter() - started))
        cpu.append(1000 * (time.process_time() - started_cpu))
    return statistics.median(wall), statistics.median(cpu)


def query_plan(session, query) -> list[str]:
    """SQLite's plan for ``query`` (one line per step)."""
    sql = str(query.compile(session.bind, compile_kwargs={"literal_binds": True}))
    return [row[-1] for row in session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=1000)
    parser.add_argument("--codings", type=int, default=200_000)
    parser.add_argument("--words", type=int, default=3700)
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='retrieval-bench-')) / 'bench.sqlite'}"
    started = time.perf_counter()
    study_id, code_id = build(url, args.interviews, args.codings, args.words)
    print(f"built {args.interviews} interviews x {args.words} words and {args.codings:,} codings in {time.perf_counter() - started:.1f} s")
    store = db.Store(url)
    with store.read() as session:
        study = studies.get_study(session, study_id)
        one = retrieval.SegmentFilter(code_ids=[code_id])
        found = len(retrieval.segments(session, study, one, principal=ADMIN))
        with_context = median_ms(lambda: retrieval.segments(session, study, one, principal=ADMIN))
        without = median_ms(lambda: retrieval.segments(session, study, one, with_context=False, principal=ADMIN))
        matrix = median_ms(lambda: matrices.case_code_matrix(session, study, principal=ADMIN))
        plans = {"one code": query_plan(session, retrieval.segment_query(study, one)),
                 "matrix": query_plan(session, retrieval.span_query(study, retrieval.SegmentFilter()))}
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} (2 cores); ms wall clock / ms CPU of this process, medians")
    print(f"  one code, {found:,} segments, with context      {with_context[0]:8.1f} / {with_context[1]:7.1f}   (target <= 100 ms)")
    print(f"  one code, without context                   {without[0]:8.1f} / {without[1]:7.1f}")
    print(f"  case x code matrix (counts), whole study    {matrix[0]:8.1f} / {matrix[1]:7.1f}")
    for name, plan in plans.items():
        print(f"  SQLite plan, {name}: {'; '.join(plan)}")


if __name__ == "__main__":
    main()
