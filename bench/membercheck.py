"""Member-check workload: versions, word diffs, autosave round trips, dashboard, history export.

Run: python bench/membercheck.py [--words 6000] [--versions 20] [--saves 200]
Prints one line per figure (milliseconds unless stated). A long reconstruction is ~700 words;
the default text is about ten times that to show the head room.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from casestudy.reconstruction import documents
from casestudy.reconstruction import narrative
from casestudy.reconstruction import membercheck as reconstruction_membercheck
from casestudy import demo
from casestudy import migrate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casestudy import access
from casestudy import study as studies
from casestudy.db import Store  # noqa: E402

from casestudy.demo.reconstruction import NARRATIVES

# A realistic vocabulary (with its frequent small words) from the demo narratives.
WORDS = [w for n in NARRATIVES for w in n.text.split() if not w.startswith("#")]


def _text(rng: random.Random, words: int, paragraph_words: int = 90) -> str:
    paragraphs = []
    for _ in range(max(1, words // paragraph_words)):
        paragraphs.append(" ".join(rng.choice(WORDS) for _ in range(paragraph_words)).capitalize() + ".")
    return "\n\n".join(paragraphs) + "\n"


def _mutate(rng: random.Random, text: str, share: float = 0.05) -> str:
    tokens = text.split(" ")
    for index in rng.sample(range(len(tokens)), int(len(tokens) * share)):
        tokens[index] = rng.choice(WORDS)
    return " ".join(tokens)


def timed(label: str, fn, repeat: int = 1, unit: str = "ms") -> None:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    elapsed = (time.perf_counter() - start) / repeat * 1000
    print(f"{label:<55} {elapsed:10.2f} {unit}" + (f" (mean of {repeat})" if repeat > 1 else ""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=6000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--saves", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.sqlite")
        migrate.upgrade(store)
        with store.write("bench") as session:
            study = studies.create_study(session, "Bench")
            case = studies.add_case(session, study, "Unit 1", "Case A")
            for name, role in (("M", "manager"), ("T", "therapist")):
                respondent = studies.add_respondent(session, case, name, role)
                studies.record_consent(session, respondent, "member_check", studies.dt.date(2024, 1, 1))
            case_id = case.id
        texts = [_text(rng, args.words)]
        for _ in range(args.versions - 1):
            texts.append(_mutate(rng, texts[-1]))
        print(f"text: {narrative.word_count(texts[0])} words, {len(narrative.paragraphs(texts[0]))} paragraphs; {args.versions} versions")

        counter = iter(texts)

        def save_one():
            with store.write("bench") as session:
                narrative.save_version(session, session.get(studies.Case, case_id), next(counter), "bench")

        timed("save version (one write transaction)", save_one, repeat=args.versions)
        timed("word diff of two versions (difflib, plain + html)",
              lambda: (lambda ops: (narrative.diff_plain(ops), narrative.diff_html(ops)))(narrative.diff_ops(texts[0], texts[-1])), repeat=5)

        with store.write("bench") as session:
            reconstruction_membercheck.send_to_member_check(session, session.get(studies.Case, case_id), "bench")
            respondent_id = session.get(studies.Case, case_id).respondents[0].id
        principal = access.Principal(access.RESPONDENT, respondent_id, "r", study_id=1)
        paragraph_count = len(narrative.paragraphs(texts[-1]))
        saves = iter(range(args.saves))

        def autosave():
            n = next(saves)
            with store.write(principal.actor) as session:
                reconstruction_membercheck.save_comment(session, principal, n % paragraph_count, f"comment {n} " + "word " * 30)

        timed("autosave one paragraph comment (write round trip)", autosave, repeat=args.saves)

        def view():
            with store.read() as session:
                reconstruction_membercheck.review_for(session, principal)

        timed("respondent view (read, strip references)", view, repeat=20)

        def board():
            with store.read() as session:
                reconstruction_membercheck.dashboard(session, session.get(studies.Case, case_id))

        timed(f"researcher dashboard ({min(args.saves, paragraph_count)} comments)", board, repeat=10)
        with store.write("bench") as session:
            case = session.get(studies.Case, case_id)
            timed("history export, Markdown (all versions + diffs)", lambda: documents.history_markdown(session, case))
            timed("history export, DOCX", lambda: documents.history_docx(session, case))
            timed("version DOCX for offline review", lambda: documents.version_docx(session, case))
        store.dispose()


        demo_store = Store(f"sqlite:///{tmp}/demo.sqlite")
        migrate.upgrade(demo_store)
        timed("demo load (foundation + 7 reconstructions and rounds)", lambda: demo.load_demo(demo_store))
        demo_store.dispose()


if __name__ == "__main__":
    main()
