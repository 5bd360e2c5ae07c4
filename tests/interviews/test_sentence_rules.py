"""Sentence boundaries decided from spaCy's shipped tokenizer rules equal spaCy's own, on the demo
and the generated bench corpora, and the plain corpus is segmented without importing spaCy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from casestudy.interviews import convert, segment

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "casestudy" / "demo" / "data"
sys.path.insert(0, str(ROOT / "bench"))
import peer


def _spacy_only(language: str) -> segment._Sentencizer:
    """The same sentencizer with the shortcut off: every chunk goes through spaCy's tokenizer."""
    nlp = segment.sentence_pipeline(language)
    sentencizer = segment._Sentencizer(segment._tokenizer_rules(segment.sentence_rules(nlp)), lambda: nlp.tokenizer)
    sentencizer._plain_tokens = lambda chunk: None
    return sentencizer


def _sentences(text: str, language: str, sentencizer=None) -> list[tuple[int, int, int]]:
    turns = segment.find_turns(text)
    if sentencizer is None:
        return [(s.start, s.end, s.turn_ordinal) for s in segment.find_sentences(text, turns, language)]
    original = segment._blank_sentencizer
    segment._blank_sentencizer = lambda language: sentencizer
    try:
        return [(s.start, s.end, s.turn_ordinal) for s in segment.find_sentences(text, turns, language)]
    finally:
        segment._blank_sentencizer = original


def _corpora(tmp_path: Path) -> dict[str, str]:
    texts = {path.name: convert.normalise(path.read_text(encoding="utf-8")) for path in sorted(DEMO.glob("*.txt"))}
    rows = peer.make_corpus(tmp_path, 20, 3700)
    for row in rows:
        for extension in ("txt", "vtt"):
            parsed = segment.parse_transcript(f"{row['name']}.{extension}", (tmp_path / f"{row['name']}.{extension}").read_bytes(), "en")
            texts[f"{row['name']}.{extension}"] = parsed.text
    return texts


def test_the_shipped_rules_are_those_of_the_installed_spacy():
    import spacy

    shipped = json.loads(segment.SENTENCE_RULES_FILE.read_text(encoding="utf-8"))
    assert shipped["spacy"] == spacy.__version__, (
        "spaCy was upgraded: regenerate the rules with "
        "python -c 'from casestudy.interviews import segment; segment.write_sentence_rules()'")
    for language in segment.SHIPPED_RULE_LANGUAGES:
        assert shipped["languages"][language] == segment.sentence_rules(segment.sentence_pipeline(language)), language
        assert segment._shipped_rules(language) is not None and segment._shipped_rules(language).exact


@pytest.mark.parametrize("language", segment.SHIPPED_RULE_LANGUAGES)
def test_boundaries_equal_spacy_on_the_demo_and_generated_corpora(tmp_path, language):
    reference = _spacy_only(language)
    for name, text in _corpora(tmp_path).items():
        assert _sentences(text, language) == _sentences(text, language, reference), (name, language)


def _read(tokens, pending: bool) -> tuple[list[int], bool]:
    """What ``_Sentencizer.starts`` takes from a chunk's tokens: sentence starts and the pending mark."""
    starts = []
    for offset, is_punct, in_punct in tokens:
        if pending and not is_punct and not in_punct:
            starts.append(offset)
            pending = False
        elif in_punct:
            pending = True
    return starts, pending


@pytest.mark.parametrize("language", segment.SHIPPED_RULE_LANGUAGES)
def test_the_shortcut_reads_like_spacys_tokens_for_every_chunk_it_decides(tmp_path, language):
    """Every chunk of the corpora, plus special cases and hard forms with each sentence mark."""
    sentencizer = segment._blank_sentencizer(language)
    nlp = segment.sentence_pipeline(language)
    chunks = {chunk for text in _corpora(tmp_path).values() for chunk in text.split()}
    marks = sorted(sentencizer.punct)
    hard = ["A", "a", "OK", "Dr", "etc", "Aint", "Cant", "ie", "eg", "bijv", "oa", "Mevr", "U", "x", "XD", "café", "naïve",
            "Ⅻ", "ǅ", "3", "3.5", "e.g", "drop-out", "U.S", "a.m", "http://x.org/a", "x@y", "2)", "A1", "°F", "1st", "'s", "n't"]
    chunks |= {word + mark for word in hard for mark in marks}
    chunks |= {word + tail for word in hard for tail in ("", ".)", ".\"", "..", "?!", ":)")}
    chunks |= {key + mark for key in nlp.tokenizer.rules for mark in (".", "!", "?", "")}
    decided = 0
    for chunk in sorted(c for c in chunks if c and not any(ch.isspace() for ch in c)):
        plain = sentencizer._plain_tokens(chunk)
        if plain is None:
            continue
        decided += 1
        tokens = [(t.idx, t.is_punct, t.text in sentencizer.punct) for t in nlp.tokenizer(chunk)]
        for pending in (False, True):
            assert _read(plain, pending) == _read(tokens, pending), (chunk, pending)
    assert decided > 1000  # the shortcut does decide most chunks


def test_a_plain_corpus_is_segmented_without_importing_spacy(tmp_path):
    peer.make_corpus(tmp_path, 3, 2000)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from casestudy.interviews import segment\n"
        "for path in sorted(Path(sys.argv[1]).glob('*.vtt')):\n"
        "    parsed = segment.parse_transcript(path.name, path.read_bytes(), 'en')\n"
        "    assert len(parsed.sentences) > 50\n"
        "print('spacy' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=True)
    assert result.stdout.strip() == "False"


def test_rules_of_another_spacy_version_are_not_used(monkeypatch, tmp_path):
    import importlib.metadata

    segment._shipped_rules.cache_clear()
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.1")
    try:
        assert segment._shipped_rules("en") is None
    finally:
        segment._shipped_rules.cache_clear()
