"""Coding workloads: the workbench on a long transcript, retrieval at scale, segment export.

Prints figures; asserts nothing about time. Usage: python bench/coding.py [--quick]
1. A 300,000-character transcript with 2,000 codings: server time of opening the coding page
   (an AppTest rerun, i.e. the whole page script) and of applying a code (library + rerun).
2. 1,000 interviews and 200,000 codings: retrieval of all segments of one code.
3. Export of 12,000 coded segments to CSV.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from casestudy.coding import retrieval as coding_retrieval
from casestudy.coding import spans
from casestudy import migrate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import os  # noqa: E402


from sqlalchemy import insert, select  # noqa: E402

from casestudy import access
from casestudy.codebook import tree as codebook
from casestudy import db
from casestudy import study as studies
from casestudy import users
from casestudy.models import Code, Coding, Interview, Sentence  # noqa: E402

ADMIN = access.Principal("researcher", 0, "bench", role="admin")  # sees every coder's codings

WORDS = "the team manager said that support training budget leadership referral group patient therapist model".split()


def timed(fn, repeat=5):
    samples = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return result, statistics.median(samples), max(samples)


def make_text(chars: int, rng: random.Random) -> str:
    out, size, line = [], 0, 0
    while size < chars:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 16))).capitalize() + "."
        prefix = f"R{line % 2}: " if line % 3 == 0 else ""
        piece = prefix + sentence + ("\n" if rng.random() < 0.3 else " ")
        out.append(piece)
        size += len(piece)
        line += 1
    return "".join(out)[:chars]


def setup_study(store, rng):
    with store.write("bench") as session:
        study = studies.create_study(session, "Bench")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        respondent = studies.add_respondent(session, case, "Ann", "manager")
        users.add_user(session, "coder1", "a long password", "coder")
        codes = [codebook.add_code(session, study, f"Code {i:02d}", ["organization", "team", "therapist"][i % 3]) for i in range(30)]
        return study.id, case.id, respondent.id, [c.id for c in codes]


def insert_interview(session, study_id, case_id, respondent_id, text, name):
    result = session.execute(insert(Interview).values(
        study_id=study_id, case_id=case_id, respondent_id=respondent_id, file_name=name, sha256=name.ljust(64, "0")[:64],
        encoding="utf-8", format="txt", text=text, language="en", speaker_roles={}, warnings=[], version=1,
    ))
    return result.inserted_primary_key[0]


def workbench(store, rng, ids):
    study_id, case_id, respondent_id, code_ids = ids
    text = make_text(300_000, rng)
    with store.write("bench") as session:
        interview_id = insert_interview(session, study_id, case_id, respondent_id, text, "long.txt")
        coder_id = users.get_user(session, "coder1").id
        rows, seen = [], set()
        while len(rows) < 2000:
            start = rng.randrange(0, len(text) - 400)
            end = start + rng.randint(20, 400)
            if (start, end) in seen:
                continue
            seen.add((start, end))
            rows.append({"study_id": study_id, "interview_id": interview_id, "code_id": rng.choice(code_ids), "coder_id": coder_id,
                         "start": start, "end": end, "start_line": 1, "end_line": 1, "memo": "", "origin": "import", "version": 1})
        session.execute(insert(Coding), rows)
        # Sentences for quick mode: one per '.'
        sentences, start = [], 0
        for index, ch in enumerate(text):
            if ch == ".":
                sentences.append({"interview_id": interview_id, "ordinal": len(sentences), "start": start, "end": index + 1, "turn_ordinal": None})
                start = index + 2
        session.execute(insert(Sentence), sentences)
    from streamlit.testing.v1 import AppTest

    os.environ["CASESTUDY_DATABASE_URL"] = store.url
    with store.read() as session:
        principal = access.researcher(users.get_user(session, "coder1"))
    at = AppTest.from_file(str(ROOT / "tests" / "apps" / "single_page.py"), default_timeout=120)
    at.session_state["_page_module"] = "casestudy.ui.pages.coding"
    at.session_state["_principal"] = principal
    at.run()  # warm-up (imports)
    _, open_median, open_max = timed(lambda: at.run(), repeat=5)
    print(f"workbench: 300,000 characters, 2,000 codings, {len(sentences):,} sentences")
    print(f"  open coding page (server rerun): median {open_median:.0f} ms, max {open_max:.0f} ms")

    def apply_once():
        with store.write("coder1") as session:
            study = session.get(studies.Study, study_id)
            interview = session.get(Interview, interview_id)
            start = rng.randrange(0, len(text) - 100)
            spans.apply_codes(session, interview, [session.get(Code, rng.choice(code_ids))], users.get_user(session, "coder1"), start, start + 50)
        at.run()

    _, apply_median, apply_max = timed(apply_once, repeat=5)
    print(f"  apply a code (write + rerun): median {apply_median:.0f} ms, max {apply_max:.0f} ms")


def retrieval(store, rng, ids, interviews_n=1000, codings_n=200_000):
    study_id, case_id, respondent_id, code_ids = ids
    with store.write("bench") as session:
        coder_id = users.get_user(session, "coder1").id
        interview_ids = [insert_interview(session, study_id, case_id, respondent_id, make_text(3000, rng), f"i{n}.txt") for n in range(interviews_n)]
        rows, seen = [], set()
        while len(rows) < codings_n:
            start = rng.randrange(0, 2900)
            row = (rng.choice(interview_ids), rng.choice(code_ids), start, start + rng.randint(10, 100))
            if row in seen:
                continue
            seen.add(row)
            rows.append({"study_id": study_id, "interview_id": row[0], "code_id": row[1], "coder_id": coder_id,
                         "start": row[2], "end": row[3], "start_line": 1, "end_line": 1, "memo": "", "origin": "import", "version": 1})
        session.execute(insert(Coding), rows)
    with store.read() as session:
        study = session.get(studies.Study, study_id)
        target = code_ids[0]
        found, median, worst = timed(lambda: coding_retrieval.segments(session, study, coding_retrieval.SegmentFilter(code_ids=[target]), with_context=False, principal=ADMIN))
        print(f"retrieval: {interviews_n:,} interviews, {codings_n:,} codings; one code -> {len(found):,} segments: median {median:.0f} ms, max {worst:.0f} ms")
        _, cmedian, _ = timed(lambda: coding_retrieval.segments(session, study, coding_retrieval.SegmentFilter(code_ids=[target]), with_context=True, principal=ADMIN), repeat=3)
        print(f"  with 120-character context on both sides: median {cmedian:.0f} ms")
        subset = session.scalars(select(Interview.id).where(Interview.study_id == study_id).limit(65)).all()
        flt = coding_retrieval.SegmentFilter(interview_ids=list(subset))
        count = len(coding_retrieval.segments(session, study, flt, with_context=False, principal=ADMIN))
        _, emedian, eworst = timed(lambda: coding_retrieval.export_segments(session, study, "csv", flt, principal=ADMIN))
        print(f"export: {count:,} coded segments to CSV: median {emedian:.0f} ms, max {eworst:.0f} ms")


def main() -> None:
    quick = "--quick" in sys.argv
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        store = db.Store(f"sqlite:///{folder}/bench.sqlite")
        migrate.upgrade(store)
        ids = setup_study(store, rng)
        workbench(store, rng, ids)
        retrieval(store, rng, ids, 100 if quick else 1000, 20_000 if quick else 200_000)


if __name__ == "__main__":
    main()
