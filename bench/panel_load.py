"""Load test of the expert panel's autosave: many experts saving answers at once against SQLite.

    python bench/panel_load.py                       # 30 experts, shared store, no think time
    python bench/panel_load.py --experts 60 --think-ms 200 --separate-stores

Each simulated expert is a thread with its own link. It walks through the whole questionnaire
(7 cases x 4 ratings, the determinant lists, the order) as the expert page does: every answer is
one autosave (one short write transaction, an upsert) followed by a read of the expert's view
(the page's rerun), and every rating is then changed once more (a second upsert of the same row).
Figures: saves, failed saves (an error the expert would see), LOST saves (acknowledged but not in
the database afterwards with the last value: must be 0), save and view latency p50/p95/p99, and
throughput. No think time by default: a stress test far above a real panel's pace.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from casestudy.panel import members
from casestudy.panel import answers as panel_answers
from casestudy import demo
from casestudy import migrate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from casestudy import access
from casestudy import db as dbmod
from casestudy import study as studies

ITEMS = ("combination", "organization", "team", "therapist")


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def setup(url: str, experts: int) -> list[str]:
    store = dbmod.Store(url)
    migrate.upgrade(store)
    demo.load_demo(store)
    secrets = []
    with store.write("bench") as session:
        study = studies.get_study(session)
        for k in range(experts):
            member = members.add_member(session, study, f"Load Expert {k:03d}", f"load{k:03d}@example.org")
            secrets.append(members.invite(session, study, member, "http://bench")["link"].split("token=")[1])
    store.dispose()
    return secrets


def expert(store_for, secret: str, think: float, results: dict, lock: threading.Lock) -> None:
    store = store_for()
    saves, views, failures, expected = [], [], [], {}
    try:
        principal = access.resolve_token(store, secret)
        with store.read() as session:
            cases = [c.label for c in panel_answers.expert_view(session, principal).cases]
        plan = [(key, case, (hash((secret, key, case)) % 6)) for case in cases for key in ITEMS]
        plan += [(key, case, (score + 1) % 6) for key, case, score in plan]  # every rating changed once
        plan += [("recurring", None, ["leadership", "budget", "training"]), ("recurring_order", None, ["budget", "training", "leadership"]),
                 ("additional", None, ["funding rules"]), ("comment", None, "thanks")]
        for key, case, value in plan:
            started = time.perf_counter()
            try:
                with store.write(principal.actor) as session:
                    panel_answers.save_answer(session, principal, key, value, case)
            except Exception as exc:  # noqa: BLE001 - counted and shown
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            saves.append(time.perf_counter() - started)
            expected[panel_answers.answer_key(key, case)] = value
            started = time.perf_counter()
            with store.read() as session:
                panel_answers.expert_view(session, principal)
            views.append(time.perf_counter() - started)
            if think:
                time.sleep(think)
    finally:
        with lock:
            results["saves"] += saves
            results["views"] += views
            results["failures"] += failures
            results["expected"][secret] = expected
        if store is not results["shared"]:
            store.dispose()


def run(experts: int, think_ms: float, separate: bool, url: str | None) -> dict:
    folder = tempfile.mkdtemp(prefix="panel-load-")
    url = url or f"sqlite:///{Path(folder) / 'panel.sqlite'}"
    secrets = setup(url, experts)
    shared = dbmod.Store(url)
    results = {"saves": [], "views": [], "failures": [], "expected": {}, "shared": shared}
    lock = threading.Lock()
    store_for = (lambda: dbmod.Store(url)) if separate else (lambda: shared)
    threads = [threading.Thread(target=expert, args=(store_for, s, think_ms / 1000, results, lock)) for s in secrets]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    lost = 0
    for secret, expected in results["expected"].items():
        principal = access.resolve_token(shared, secret, touch=False)
        with shared.read() as session:
            stored = panel_answers.expert_view(session, principal).answers
        lost += sum(1 for key, value in expected.items() if stored.get(key) != value)
    shared.dispose()
    saves, views = results["saves"], results["views"]
    return {
        "experts": experts, "store": "one per expert" if separate else "shared", "think_ms": think_ms,
        "saves": len(saves), "failed": len(results["failures"]), "lost": lost, "seconds": elapsed,
        "saves_per_second": len(saves) / elapsed if elapsed else 0.0,
        "save_ms": {p: 1000 * _percentile(saves, p) for p in (50, 95, 99)},
        "save_ms_mean": 1000 * statistics.fmean(saves) if saves else float("nan"),
        "view_ms": {p: 1000 * _percentile(views, p) for p in (50, 95)},
        "failures": sorted(set(results["failures"]))[:5],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, default=30)
    parser.add_argument("--think-ms", type=float, default=0.0, help="pause after each save (0: stress test)")
    parser.add_argument("--separate-stores", action="store_true", help="one Store (engine) per expert instead of one shared")
    parser.add_argument("--url", help="SQLite URL of an empty database (default: a temporary file)")
    args = parser.parse_args(argv)
    r = run(args.experts, args.think_ms, args.separate_stores, args.url)
    print(f"panel autosave load: {r['experts']} experts, store {r['store']}, think {r['think_ms']:.0f} ms")
    print(f"  saves {r['saves']} in {r['seconds']:.1f} s ({r['saves_per_second']:.0f}/s); failed {r['failed']}; LOST {r['lost']}")
    print(f"  save latency ms: p50 {r['save_ms'][50]:.1f}  p95 {r['save_ms'][95]:.1f}  p99 {r['save_ms'][99]:.1f}  mean {r['save_ms_mean']:.1f}")
    print(f"  view (rerun) latency ms: p50 {r['view_ms'][50]:.1f}  p95 {r['view_ms'][95]:.1f}")
    for failure in r["failures"]:
        print(f"  failure: {failure}")
    return 1 if r["lost"] or r["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
