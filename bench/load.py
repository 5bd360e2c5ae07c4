"""Load test: many experts and coders writing at once, on SQLite and on PostgreSQL.

    python bench/load.py                      # both backends, 30 experts + 5 coders, 20 s each
    python bench/load.py --backend sqlite --seconds 10
    python bench/load.py --bulk-rows 50000    # and a 50,000-row `codings import` starts with the load
    python bench/load.py --bulk-rows 50000 --refi   # ... a REFI-QDA import of a project with 50,000 codings instead
    python bench/load.py --pg-url postgresql+psycopg://user:pw@host/db   # an existing server
                                                                          # (its public schema is wiped!)

Without --pg-url (or $CASESTUDY_PG_URL) the PostgreSQL run starts a throwaway cluster with
Debian's pg_virtualenv (scripts/with-postgres, fsync on so commits are real). The simulated users
are spread over several processes (like several Streamlit processes behind a proxy), each user a
thread that saves as fast as it can (no think time: a stress test; --think-ms 1000 gives a
busy but human pace). An expert's save is the expert page's real path: the link's token checked
(``access.resolve_token``, as on every rerun), then ``panel.answers.save_answer`` in one short
writing transaction (tests/security/heavy_import.save_by_link). With ``--bulk-rows N`` the
administrator's ``python -m casestudy codings import`` of N codings runs in its own process from
the start of the measurement (as beside the server); its duration and outcome are reported.
With ``--refi`` that import is ``python -m casestudy exchange import qdpx`` of the same study
exported with its N codings (made in a scratch SQLite database first, not measured).

Figures per backend and per workload: saves per second, p50/p95/p99 latency of a save (ms),
conflicts (refused with the newer version shown, as intended), failed saves (an error shown to
the user), and LOST saves (reported as saved but not in the database afterwards, or
overwritten: must be 0). The machine's load average is printed with each run.

Measured 2026-12-02 on two cores with nothing else running (load average 1.0-2.2 from the load
itself), 15 s per run, 30 experts + 5 coders in 4 processes, no think time; the expert's real save
path, p50 / p95 / max ms and saves per second; 0 failed and 0 lost in every run:

| run | SQLite | PostgreSQL 15 |
|---|---|---|
| load alone | 52 / 914 / 2,221 ms, 168/s | 280 / 523 / 1,027 ms, 99/s |
| with a 50,000-row `codings import` (3.1 s / 4.6 s) | 57 / 1,075 / 2,554 ms, 152/s | 320 / 599 / 1,204 ms, 83/s |
| with a 20,000-coding REFI-QDA import (4.9 s / 7.1 s) | 62 / 717 / 3,463 ms, 159/s | 317 / 882 / 1,647 ms, 73/s |

The tails are the queue of 35 writers with no pause between saves (each waits for the others'
short transactions), not the import: its phase under the write lock is 0.015 s (codings) and
0.3-0.4 s (REFI, from 3.7-3.8 s before the read phase planned its writes).

Workloads are pluggable: add a ``Workload`` to ``WORKLOADS`` (role "expert" or "coder") with
``setup`` (once, ``(store, heavy)`` -> picklable params), ``action`` (one save; returns a receipt or
raises UserError) and ``verify`` (returns the number of lost saves).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from casestudy import db as dbmod  # noqa: E402
from casestudy import demo, migrate  # noqa: E402
from casestudy.coding import spans  # noqa: E402
from casestudy.errors import UserError  # noqa: E402
from casestudy.models import Case, ProgrammeComponent  # noqa: E402
from tests.security import heavy_import  # noqa: E402


@dataclass(frozen=True)
class Workload:
    name: str
    role: str  # "expert" or "coder"
    setup: Callable  # (store) -> params
    action: Callable  # (store, params, user, seq) -> receipt (picklable)
    verify: Callable  # (store, params, receipts) -> lost count


# --- expert: answer saves through the link, as the expert page saves them ---------------------
def setup_experts(store, heavy):
    return {"secrets": list(heavy.secrets), "labels": list(heavy.case_labels)}


def expert_answer(store, params, user, seq):
    label = params["labels"][seq % len(params["labels"])]
    value = (user + seq) % 6
    heavy_import.save_by_link(store, params["secrets"][user % len(params["secrets"])], "team", value, label)
    return [user, seq, label, value]


def verify_answers(store, params, receipts):
    """The last saved value of every (expert, case) is the one stored; anything else is lost."""
    from casestudy import access
    from casestudy.panel import answers as panel_answers

    last = {}
    for user, seq, label, value in receipts:
        if (user, label) not in last or last[(user, label)][0] < seq:
            last[(user, label)] = (seq, value)
    lost = 0
    with store.read() as session:
        for (user, label), (_, value) in last.items():
            principal = access.resolve_token(store, params["secrets"][user % len(params["secrets"])], touch=False)
            stored = panel_answers.expert_view(session, principal).answers.get(panel_answers.answer_key("team", label))
            lost += stored != value
    return lost


# --- coder: coding burst (real codings: three codes on one span, in one transaction) ---------
def setup_codings(store, heavy):
    from casestudy.codebook import tree as codebook
    from casestudy import study as studies
    from casestudy.models import Interview

    with store.read() as session:
        study = studies.get_study(session)
        interviews = [(i.id, len(i.text)) for i in session.scalars(select(Interview).where(Interview.study_id == study.id).order_by(Interview.id))]
        codes = [c.id for c in codebook.all_codes(session, study) if c.codable and c.status == "active"]
    return {"interviews": interviews, "codes": codes}


def coder_codings(store, params, user, seq):
    from casestudy.models import Code, Interview

    interview_id, length = params["interviews"][(user * 7 + seq) % len(params["interviews"])]
    start = (user * 7919 + seq * 104729) % max(1, length - 200)
    end = start + 40 + (seq % 120)
    codes = [params["codes"][(user + seq + k * 5) % len(params["codes"])] for k in range(3)]
    with store.write(f"coder{user % 2 + 1}") as session:
        coder = spans.get_coder(session, f"coder{user % 2 + 1}")
        spans.apply_codes(session, session.get(Interview, interview_id), [session.get(Code, c) for c in codes], coder, start, end)
    return [interview_id, start, end, coder.id, codes]


def verify_codings(store, params, receipts):
    from casestudy.models import Coding

    lost = 0
    with store.read() as session:
        for interview_id, start, end, coder_id, codes in receipts:
            found = set(session.scalars(select(Coding.code_id).where(
                Coding.interview_id == interview_id, Coding.start == start, Coding.end == end, Coding.coder_id == coder_id)))
            lost += 0 if set(codes) <= found else 1
    return lost


# --- coder: editing shared entries with optimistic locking (conflicts expected) --------------
COUNTER = "bench-counter="


def setup_counters(store, heavy):
    with store.write("bench") as session:
        ids = []
        for model in (Case, ProgrammeComponent):
            for row in session.scalars(select(model).order_by(model.id)):
                setattr(row, _field(model.__name__)[1], f"{COUNTER}0")
                ids.append((model.__name__, row.id))
    return {"rows": ids}


def _field(model_name):
    return (Case, "outcome_description") if model_name == "Case" else (ProgrammeComponent, "dosage")


def coder_edit(store, params, user, seq):
    """Open an entry, then save it +1: the read and the save are separate, as in the app."""
    model_name, row_id = params["rows"][(user + seq) % len(params["rows"])]
    model, field = _field(model_name)
    with store.read() as session:
        row = session.get(model, row_id)
        version, value = row.version, int(getattr(row, field).removeprefix(COUNTER))
    with store.write(f"coder{user}") as session:
        dbmod.apply_edit(session, model, row_id, version, **{field: f"{COUNTER}{value + 1}"})
    return [model_name, row_id]


def verify_counters(store, params, receipts):
    saved = Counter(tuple(r) for r in receipts)
    lost = 0
    with store.read() as session:
        for model_name, row_id in params["rows"]:
            model, field = _field(model_name)
            value = int(getattr(session.get(model, row_id), field).removeprefix(COUNTER))
            lost += abs(saved[(model_name, row_id)] - value)
    return lost


WORKLOADS: list[Workload] = [
    Workload("expert answer save (link check + save_answer)", "expert", setup_experts, expert_answer, verify_answers),
    Workload("coder edit (versioned)", "coder", setup_counters, coder_edit, verify_counters),
    Workload("coder coding burst (3 real codings)", "coder", setup_codings, coder_codings, verify_codings),
]


# --- the harness -------------------------------------------------------------------------------
def _user_loop(store, users, params, deadline, results, lock, think_ms=0.0):
    import random

    local = []
    role, user = users
    mine = [(i, w) for i, w in enumerate(WORKLOADS) if w.role == role]
    seq = 0
    while time.monotonic() < deadline:
        index, workload = mine[seq % len(mine)]
        started = time.perf_counter()
        try:
            receipt = workload.action(store, params[index], user, seq)
            outcome = "ok"
        except dbmod.EditConflict:
            receipt, outcome = None, "conflict"
        except UserError as exc:
            receipt, outcome = str(exc), "failed"
        except Exception as exc:  # noqa: BLE001 - counted, reported
            receipt, outcome = f"{type(exc).__name__}: {exc}", "failed"
        local.append((index, outcome, time.perf_counter() - started, receipt))
        seq += 1
        if think_ms:
            time.sleep(random.uniform(0, 2 * think_ms) / 1000)
    with lock:
        results.extend(local)


def _process_main(url, users, params, seconds, queue, think_ms):
    store = dbmod.Store(url)
    results, lock = [], threading.Lock()
    start_at = time.monotonic()
    deadline = start_at + seconds
    threads = [threading.Thread(target=_user_loop, args=(store, u, params, deadline, results, lock, think_ms)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.dispose()
    queue.put(results)


def _bulk_import(url, heavy, into: dict, started: float, refi: Path | None = None) -> None:
    """The administrator's ``codings import`` of the prepared file (or ``exchange import qdpx`` of
    ``refi``), in its own process."""
    command = [sys.executable, "-m", "casestudy", "--db", url, "--study", str(heavy.study_id), "codings", "import", str(heavy.csv_path)]
    if refi is not None:
        command = [sys.executable, "-m", "casestudy", "--db", url, "import", "qdpx", str(refi), "--title", "REFI bench import"]
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    said = (result.stdout or result.stderr).strip()
    into.update(kind="REFI-QDA import" if refi else "codings import", rows=heavy.rows, exit=result.returncode, seconds=round(time.monotonic() - started, 1),
                said=said.splitlines()[-1][:200] if said else "")


def run(url: str, experts: int, coders: int, seconds: float, processes: int, think_ms: float = 0.0, bulk_rows: int = 0,
        refi: bool = False) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="casestudy-load-csv-"))
    archive = heavy_import.refi_archive(folder, bulk_rows, max(1, experts)) if refi and bulk_rows else None
    store = dbmod.Store(url)
    migrate.upgrade(store)
    demo.load_demo(store)
    heavy = heavy_import.build(store, folder, rows=max(1, bulk_rows), experts=max(1, experts))
    params = [w.setup(store, heavy) for w in WORKLOADS]
    store.dispose()
    users = [("expert", i) for i in range(experts)] + [("coder", i) for i in range(coders)]
    groups = [users[i::processes] for i in range(processes)]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_process_main, args=(url, g, params, seconds, queue, think_ms)) for g in groups if g]
    started = time.monotonic()
    for w in workers:
        w.start()
    bulk: dict = {}
    importer = None
    if bulk_rows:
        importer = threading.Thread(target=_bulk_import, args=(url, heavy, bulk, started, archive))
        importer.start()
    results = [item for _ in workers for item in queue.get()]
    for w in workers:
        w.join()
    elapsed = time.monotonic() - started
    if importer is not None:
        importer.join()
    shutil.rmtree(folder, ignore_errors=True)
    load_average = [round(x, 2) for x in os.getloadavg()]
    store = dbmod.Store(url)
    per_workload = {}
    lost_total = 0
    for index, workload in enumerate(WORKLOADS):
        mine = [r for r in results if r[0] == index]
        receipts = [r[3] for r in mine if r[1] == "ok"]
        lost = workload.verify(store, params[index], receipts)
        lost_total += lost
        outcomes = Counter(r[1] for r in mine)
        mine_ms = sorted(r[2] * 1000 for r in mine)
        per_workload[workload.name] = {"saved": outcomes["ok"], "saves_per_s": round(outcomes["ok"] / elapsed, 1),
                                       "p50_ms": _pct(mine_ms, 50), "p95_ms": _pct(mine_ms, 95), "p99_ms": _pct(mine_ms, 99),
                                       "max_ms": round(mine_ms[-1], 1) if mine_ms else None,
                                       "conflicts": outcomes["conflict"], "failed": outcomes["failed"], "lost": lost}
    store.dispose()
    latencies = sorted(r[2] * 1000 for r in results)
    outcomes = Counter(r[1] for r in results)
    failures = Counter(r[3].split(":")[0][:80] for r in results if r[1] == "failed")

    def pct(p):
        return _pct(latencies, p)

    return {
        "backend": url.split(":")[0],
        "users": f"{experts} experts + {coders} coders in {len([g for g in groups if g])} processes"
        + (f", think time ~{think_ms:g} ms" if think_ms else ", no think time"),
        "seconds": round(elapsed, 1),
        "saves": outcomes["ok"],
        "saves_per_s": round(outcomes["ok"] / elapsed, 1),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "conflicts": outcomes["conflict"],
        "failed": outcomes["failed"],
        "lost": lost_total,
        "failure_kinds": dict(failures),
        "workloads": per_workload,
        "bulk_import": bulk or None,
        "load_average_1_5_15_min": load_average,
    }


def _pct(ordered: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list (ms, one decimal)."""
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1) if ordered else None


def _print(report: dict) -> None:
    print(f"\n== {report['backend']}: {report['users']}, {report['seconds']} s")
    print(
        f"   {report['saves']} saves, {report['saves_per_s']} saves/s; latency p50 {report['p50_ms']} ms, "
        f"p95 {report['p95_ms']} ms, p99 {report['p99_ms']} ms"
    )
    print(f"   conflicts (refused, newer version shown): {report['conflicts']}; failed: {report['failed']}; LOST: {report['lost']}")
    for name, figures in report["workloads"].items():
        print(f"   - {name}: {figures}")
    if report["bulk_import"]:
        print(f"   bulk import alongside: {report['bulk_import']}")
    print(f"   load average (1, 5, 15 min) at the end: {report['load_average_1_5_15_min']}")
    if report["failure_kinds"]:
        print(f"   failures: {report['failure_kinds']}")
    print("   JSON " + json.dumps(report))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["both", "sqlite", "postgresql"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("CASESTUDY_PG_URL"))
    parser.add_argument("--experts", type=int, default=30)
    parser.add_argument("--coders", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--think-ms", type=float, default=0.0, help="mean pause between a user's saves (0: stress)")
    parser.add_argument("--bulk-rows", type=int, default=0, help="run a codings import of this many rows alongside (0: none)")
    parser.add_argument("--refi", action="store_true", help="with --bulk-rows: a REFI-QDA import of a project with that many codings")
    args = parser.parse_args(argv)
    reports = []
    if args.backend in ("both", "sqlite"):
        folder = tempfile.mkdtemp(prefix="casestudy-load-")
        try:
            reports.append(run(f"sqlite:///{folder}/load.sqlite", args.experts, args.coders, args.seconds, args.processes, args.think_ms,
                               args.bulk_rows, args.refi))
            _print(reports[-1])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if args.backend in ("both", "postgresql"):
        if args.pg_url:
            from tests.conftest import _reset_postgres  # the test suite's schema wipe

            _reset_postgres(args.pg_url)
            reports.append(run(args.pg_url, args.experts, args.coders, args.seconds, args.processes, args.think_ms, args.bulk_rows, args.refi))
            _print(reports[-1])
        else:
            command = [str(ROOT / "scripts" / "with-postgres"), sys.executable, __file__, "--backend", "postgresql",
                       "--experts", str(args.experts), "--coders", str(args.coders), "--seconds", str(args.seconds),
                       "--processes", str(args.processes), "--think-ms", str(args.think_ms), "--bulk-rows", str(args.bulk_rows)]
            command += ["--refi"] if args.refi else []
            env = {**os.environ, "PG_OPTIONS": "-o fsync=on -o synchronous_commit=on"}
            code = subprocess.call(command, env=env)
            if code:
                return code
    return 1 if any(r["lost"] for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
