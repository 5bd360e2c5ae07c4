"""Masking throughput: a 1,000-entry register over (by default) 10 million words.

    python bench/mask.py [--words 10000000] [--entries 1000] [--seed 7]

The generated text embeds register terms in many forms (full names, initial + last name, titles,
particles, possessives, hyphenated compounds, Dutch endings, multi-word terms broken over lines,
upper case, diacritics) among filler words. Prints the compile time, the masking time and words
per second (target >= 300,000), then runs the leak scan on the masked output (must be 0).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casestudy.masking import engine as masking

FILLER = (
    "the team said that we had a lot of patients in the programme and the manager wanted more budget "
    "de therapeut vond dat het goed ging met de groep maar er was veel verloop in het team "
    "training supervision leadership support within the organisation was important for success"
).split()
SYLLABLES = ["bra", "kel", "voort", "dijk", "huis", "mer", "sen", "hol", "ter", "wijn", "gaar", "den", "stee", "loo",
             "vin", "kra", "mon", "zee", "rot", "bur", "lin", "dor", "pel", "tuin", "hoek", "brug", "gra", "vel"]


def invented(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def make_register(rng: random.Random, size: int) -> list[masking.Entry]:
    entries, seen = [], set()
    kinds = ["person"] * 5 + ["organisation"] * 2 + ["place"] * 2 + ["programme"]
    while len(entries) < size:
        kind = kinds[len(entries) % len(kinds)]
        if kind == "person":
            particle = rng.choice(["", "", "", "van ", "de ", "van der "])
            term = f"{invented(rng, 2)} {particle}{invented(rng, 3)}"
            replacement = "[person]"
        elif kind == "organisation":
            term = f"{rng.choice(['Stichting', 'Zorggroep', 'GGZ'])} {invented(rng, 3)}-{rng.choice(['Noord', 'Oost', 'West', 'Zuid'])}"
            replacement = "the institution"
        elif kind == "place":
            term = invented(rng, 3)
            replacement = "[place]"
        else:
            term = f"Project {invented(rng, 3)}"
            replacement = "[programme]"
        if masking.fold(term) in seen:
            continue
        seen.add(masking.fold(term))
        entries.append(masking.make_entry(term, replacement, kind))
    return entries


def form_of(rng: random.Random, entry: masking.Entry) -> str:
    words = entry.term.split()
    choice = rng.randrange(8)
    if entry.kind == "person":
        first, last = words[0], " ".join(words[1:])
        return [entry.term, f"Dr. {last}", f"{first[0]}. {last}", f"{last}'s", f"mevrouw {last}", entry.term.upper(),
                f"{first}\n{last}", f"{last}-team"][choice]
    if entry.kind == "place":
        return [entry.term, entry.term + "se", entry.term + "er", entry.term + "'s", entry.term.lower(), entry.term + "-regio",
                entry.term.replace("e", "é", 1), entry.term + "s"][choice]
    return [entry.term, entry.term.replace(" ", "\n"), entry.term.replace(" ", "   "), entry.term + "'s", entry.term.upper(),
            entry.term + "-team", entry.term.lower(), entry.term][choice]


def make_text(rng: random.Random, entries: list[masking.Entry], words: int, every: int = 40) -> tuple[str, int]:
    chunks, embedded, count = [], 0, 0
    block = 10_000
    while count < words:
        n = min(block, words - count)
        filler = rng.choices(FILLER, k=n)
        for i in range(0, n, every):
            filler[i] = form_of(rng, rng.choice(entries))
            embedded += 1
        chunks.append(" ".join(filler))
        count += n
    return ".\n".join(chunks), embedded


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=10_000_000)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    entries = make_register(rng, args.entries)
    text, embedded = make_text(rng, entries, args.words)
    words = len(text.split())
    print(f"register: {len(entries)} entries; text: {words:,} words, {len(text):,} characters, {embedded:,} embedded terms")

    started = time.perf_counter()
    register = masking.Register(entries)
    compiled = time.perf_counter() - started
    print(f"compile: {compiled:.2f} s ({len(register.forms):,} lookup forms)")

    started = time.perf_counter()
    replacements = register.find(text)
    masked = masking.apply(text, replacements)
    elapsed = time.perf_counter() - started
    print(f"mask: {elapsed:.2f} s, {len(replacements):,} replacements, {words / elapsed:,.0f} words/s (target >= 300,000)")

    started = time.perf_counter()
    leaks = register.scan(masked)
    scanned = time.perf_counter() - started
    print(f"leak scan of the masked text: {len(leaks)} finding(s) in {scanned:.2f} s ({words / scanned:,.0f} words/s)")
    for leak in leaks[:5]:
        print(f"  line {leak.line}:{leak.column}: {leak.text!r} ({leak.term})")
    missed = embedded - sum(1 for r in replacements if r.rule not in ("email", "phone", "url"))
    print(f"embedded terms not replaced: {max(missed, 0)}")
    return 1 if leaks else 0


if __name__ == "__main__":
    raise SystemExit(main())
