"""Benchmark: import N generated .txt transcripts of M words end to end (parse, segment, store).

    /work/main/.venv/bin/python bench/import_transcripts.py [--n 10] [--words 30000] [--language en]

Prints words per second for the whole import (decode, normalise, turns, sentences, SQLite
insert and commit) and per phase, plus peak memory (ru_maxrss and a tracemalloc run).
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from casestudy.interviews import segment as interviews_segment
from casestudy.interviews import store as interviews_store
from casestudy import models
from casestudy import migrate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casestudy.interviews import convert
from casestudy import db
from casestudy import study as studies

VOCABULARY = (
    "the team programme patients group therapy manager we they it was were had not very much more about because "
    "then so and but that this with for on in of to a an is are be mentalizing training supervision budget "
    "drop-out crisis ward director nurses therapists week month year felt thought said really quite difficult "
    "good bad money time staff turnover referral waiting list e.g. Dr. approx. café naïve coördinatie"
).split()


def pseudo_vocabulary(size: int, rng: random.Random) -> list[str]:
    """``size`` invented words (a large vocabulary defeats the tokenizer's cache, like real text)."""
    letters = "aeioubcdfghklmnprstvwz"
    return VOCABULARY + [("".join(rng.choice(letters) for _ in range(rng.randint(2, 11)))) for _ in range(size)]


def transcript(words: int, rng: random.Random, vocabulary: list[str] = VOCABULARY) -> str:
    """Alternating Interviewer/Respondent turns; words drawn Zipf-like (weight 1/rank), as in real text."""
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    cumulative = list(itertools.accumulate(weights))
    lines, count, turn = [], 0, 0
    while count < words:
        speaker = "Interviewer" if turn % 2 == 0 else "Respondent"
        sentences = []
        for _ in range(rng.randint(1, 2) if turn % 2 == 0 else rng.randint(3, 9)):
            n = rng.randint(6, 22)
            words_ = rng.choices(vocabulary, cum_weights=cumulative, k=n)
            words_[0] = words_[0].capitalize()
            sentences.append(" ".join(words_) + rng.choice(".....?!"))
            count += n
        stamp = f"[{turn // 60 // 60:02d}:{turn // 60 % 60:02d}:{turn % 60:02d}] " if turn % 5 == 0 else ""
        lines.append(f"{stamp}{speaker}: {' '.join(sentences)}")
        turn += 1
    return "\n\n".join(lines) + "\n"


def run(n: int, words: int, language: str, trace: bool, vocabulary_size: int = 0) -> dict:
    rng = random.Random(42)
    vocabulary = pseudo_vocabulary(vocabulary_size, rng) if vocabulary_size else VOCABULARY
    files = [(f"t{i:03d}.txt", transcript(words, rng, vocabulary).encode("utf-8")) for i in range(n)]
    total_words = sum(len(data.decode().split()) for _, data in files)
    with tempfile.TemporaryDirectory() as tmp:
        store = db.Store(f"sqlite:///{tmp}/bench.sqlite")
        migrate.upgrade(store)
        with store.write("bench") as session:
            study = studies.create_study(session, "Bench", language=language)
            case = studies.add_case(session, study, "Unit 1", "Case A")
            studies.add_respondent(session, case, "Ann Example", "manager")
        interviews_segment.sentence_pipeline(language)  # load once, outside the timing
        if trace:
            tracemalloc.start()
        phases = {"convert": 0.0, "turns": 0.0, "sentences": 0.0}
        for name, data in files[:3]:  # per phase, on a sample
            t0 = time.perf_counter(); c = convert.convert(name, data)
            t1 = time.perf_counter(); turns = interviews_segment.find_turns(c.text)
            t2 = time.perf_counter(); interviews_segment.find_sentences(c.text, turns, language)
            t3 = time.perf_counter()
            phases["convert"] += t1 - t0; phases["turns"] += t2 - t1; phases["sentences"] += t3 - t2
        sample_words = sum(len(d.decode().split()) for _, d in files[:3])
        start = time.perf_counter()
        with store.write("bench") as session:
            study = studies.get_study(session)
            items = [interviews_store.ImportItem(name, data, "Case A", "Ann Example") for name, data in files]
            imported = interviews_store.import_interviews(session, study, items)
            first_id = imported[0].id
        elapsed = time.perf_counter() - start
        with store.read() as session:
            sentences = interviews_store.interview_records(session, [session.get(models.Interview, first_id)])[0]["sentences"]
        nlp = interviews_segment.sentence_pipeline(language)
        lines = [line for _, data in files for line in data.decode().split("\n") if line]
        bare_start = time.perf_counter()
        for _doc in nlp.pipe(lines):
            pass
        bare = total_words / (time.perf_counter() - bare_start)
        peak = tracemalloc.get_traced_memory()[1] if trace else None
        if trace:
            tracemalloc.stop()
        store.dispose()
    return {
        "files": n, "words": total_words, "seconds": elapsed, "words_per_s": total_words / elapsed,
        "phase_words_per_s": {k: sample_words / v for k, v in phases.items()},
        "sentences_first_file": sentences, "bare_spacy_words_per_s": bare, "tracemalloc_peak_mb": peak / 1e6 if peak else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--words", type=int, default=30000)
    parser.add_argument("--language", default="en")
    parser.add_argument("--vocabulary", type=int, default=20000, help="invented words added to the small base vocabulary")
    args = parser.parse_args()
    for size, what in ((0, "small vocabulary (~90 words)"), (args.vocabulary, f"large vocabulary ({args.vocabulary:,} words)")):
        result = run(args.n, args.words, args.language, trace=False, vocabulary_size=size)
        print(f"[{what}] {result['files']} transcripts, {result['words']:,} words, {result['seconds']:.2f} s end to end "
              f"-> {result['words_per_s']:,.0f} words/s (target >= 300,000)")
        print("  per phase on 3 files, cold caches (words/s): " + ", ".join(f"{k} {v:,.0f}" for k, v in result["phase_words_per_s"].items()))
        print(f"  sentences in the first file: {result['sentences_first_file']:,}; "
              f"bare spaCy sentencizer (nlp.pipe per line, doc only) on the same text: {result['bare_spacy_words_per_s']:,.0f} words/s")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    rng = random.Random(7)
    text = transcript(60000, rng, pseudo_vocabulary(args.vocabulary, rng))[:300000]
    parsed = interviews_segment.parse_transcript("reader.txt", text.encode("utf-8"), args.language)
    start = time.perf_counter()
    html = interviews_store.transcript_html(parsed.text, parsed.turns)
    page = interviews_store.transcript_html(parsed.text, parsed.turns, 1, 2000)
    print(f"reader HTML for {len(parsed.text):,} characters ({len(interviews_segment.line_index(parsed.text)):,} lines): "
          f"{len(html) / 1e6:.1f} MB in {(time.perf_counter() - start) * 1000:.0f} ms (one 2,000-line page: {len(page) / 1e6:.2f} MB)")
    traced = run(min(args.n, 3), args.words, args.language, trace=True)
    print(f"tracemalloc peak during the import: {traced['tracemalloc_peak_mb']:.1f} MB "
          f"(traced run: {traced['words_per_s']:,.0f} words/s, slowed by tracing)")


if __name__ == "__main__":
    main()
