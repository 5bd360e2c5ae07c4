"""Transcripts without a database: line numbers, speaker turns, sentences and parsing.

Offsets are code points into the normalised text (``\\n`` newlines, NFC), spans half-open
``[start, end)``. Sentences come from spaCy blank pipelines (a rule-based sentencizer per
language; trained models are optional extras), loaded only when a transcript is segmented.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter
from dataclasses import dataclass, field

from casestudy.errors import UserError
from casestudy.interviews import convert
from casestudy.models import SPEAKER_ROLES

# --- line numbers -----------------------------------------------------------------------


class LineIndex:
    """Line starts of a text; ``line_of(offset)`` is the 1-based line holding that offset."""

    __slots__ = ("starts", "length")

    def __init__(self, text: str):
        starts = [0]
        find = text.find
        position = find("\n")
        while position != -1:
            starts.append(position + 1)
            position = find("\n", position + 1)
        self.starts = starts
        self.length = len(text)

    def line_of(self, offset: int) -> int:
        if offset < 0 or offset > self.length:
            raise ValueError(f"offset {offset} outside the text (0..{self.length})")
        return bisect.bisect_right(self.starts, offset)

    def span(self, line: int) -> tuple[int, int]:
        """``[start, end)`` of a 1-based line, without its newline."""
        start = self.starts[line - 1]
        end = self.starts[line] - 1 if line < len(self.starts) else self.length
        return start, end

    def __len__(self) -> int:
        return len(self.starts)


@functools.lru_cache(maxsize=16)
def line_index(text: str) -> LineIndex:
    """A cached :class:`LineIndex` for ``text`` (cheap to call repeatedly with the same text)."""
    return LineIndex(text)


def line_number_at(text: str, offset: int) -> int:
    """The 1-based line number (as printed in an exported transcript) of code-point ``offset``."""
    return line_index(text).line_of(offset)


# --- speaker turns ----------------------------------------------------------------------
_TS = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_LABEL_LINE = re.compile(
    rf"^[ \t]*(?:[\[(]?(?P<ts>{_TS})[\])]?[ \t]*(?:[-–][ \t]*)?)?"
    rf"(?:\*\*)?(?P<label>[^\W\d_][\w.'’ -]{{0,39}}?)"
    rf"(?:[ \t]*[\[(](?P<ts2>{_TS})[\])])?(?:\*\*)?[ \t]*:(?:\*\*)?(?=[ \t]|$)",
    re.MULTILINE,
)
INTERVIEWER_LABELS = {"i", "int", "interviewer", "interviewster", "interviewer 1", "interviewer 2", "q", "vraag",
                      "onderzoeker", "researcher", "moderator", "iv", "o"}
RESPONDENT_LABELS = {"r", "resp", "respondent", "a", "answer", "antwoord", "participant", "p", "geïnterviewde",
                     "deelnemer", "b"}


@dataclass
class TurnSpan:
    ordinal: int
    speaker: str
    start: int
    end: int
    text_start: int
    time: str = ""
    role: str = "other"


@dataclass
class SentenceSpan:
    ordinal: int
    start: int
    end: int
    turn_ordinal: int | None


def find_turns(text: str, cues: list[convert.Cue] | None = None) -> list[TurnSpan]:
    """Speaker turns: from the format's own cues, else from label lines (``[00:12:03] Name: ...``)."""
    if cues:
        turns = _turns_from_cues(text, cues)
        if turns is not None:
            return turns
    turns: list[TurnSpan] = []
    matches = [m for m in _LABEL_LINE.finditer(text) if len(m["label"].split()) <= 4]
    first = matches[0].start() if matches else len(text)
    if text[:first].strip():
        turns.append(_make_turn(text, 0, 0, first, "", ""))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        turns.append(_make_turn(text, len(turns), match.start(), end, match["label"].strip(), match["ts"] or match["ts2"] or "", match.end()))
    return turns


def _make_turn(text: str, ordinal: int, start: int, end: int, speaker: str, time: str, text_start: int | None = None) -> TurnSpan:
    while end > start and text[end - 1].isspace():
        end -= 1
    body = start if text_start is None else text_start
    while body < end and text[body].isspace():
        body += 1
    if text_start is None:  # unlabelled text: the turn is its words
        start = body
    return TurnSpan(ordinal, speaker, start, end, min(body, end), time)


def _turns_from_cues(text: str, cues: list[convert.Cue]) -> list[TurnSpan] | None:
    turns, offset = [], 0
    for ordinal, cue in enumerate(cues):
        line = f"{cue.speaker}: {cue.text}" if cue.speaker else cue.text
        if text[offset : offset + len(line)] != line:
            return None  # normalisation changed the text: fall back to label lines
        label_length = len(cue.speaker) + 2 if cue.speaker else 0
        turns.append(TurnSpan(ordinal, cue.speaker, offset, offset + len(line), offset + label_length, cue.time))
        offset += len(line) + 1
    return turns


def guess_speaker_roles(turns: list[TurnSpan], text: str, respondent_name: str = "", interviewer_name: str = "") -> dict[str, str]:
    """Default mapping label -> role: known labels and names first, then the wordiest speaker answers."""
    words: Counter[str] = Counter()
    for turn in turns:
        if turn.speaker:
            words[turn.speaker] += len(text[turn.text_start : turn.end].split())
    names = lambda full: {full.lower(), *(full.lower().split()[:1])} if full.strip() else set()  # noqa: E731
    roles: dict[str, str] = {}
    for label in words:
        key = label.lower().strip(" .")
        if key in INTERVIEWER_LABELS or key in names(interviewer_name) or key.startswith("interviewer"):
            roles[label] = "interviewer"
        elif key in RESPONDENT_LABELS or key in names(respondent_name) or key.startswith("respondent"):
            roles[label] = "respondent"
    open_labels = [label for label, _ in words.most_common() if label not in roles]
    if open_labels and "respondent" not in roles.values():
        roles[open_labels.pop(0)] = "respondent"
    if open_labels and "interviewer" not in roles.values():
        roles[open_labels.pop(0)] = "interviewer"
    for label in open_labels:
        roles[label] = "other"
    return roles


# --- sentences ----------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def sentence_pipeline(language: str):
    """spaCy pipeline for ``language``: a trained one if installed, else blank + sentencizer."""
    import spacy

    language = (language or "en").lower()
    for name in {"en": ("en_core_web_sm",), "nl": ("nl_core_news_sm",)}.get(language, ()):
        if spacy.util.is_package(name):
            return spacy.load(name, exclude=["ner", "lemmatizer", "tagger", "attribute_ruler"])
    try:
        nlp = spacy.blank(language)
    except (ImportError, OSError, KeyError) as exc:
        raise UserError(f"unknown language code {language!r} for sentence splitting ({exc})")
    nlp.add_pipe("sentencizer")
    return nlp


class _Sentencizer:
    """spaCy's sentencizer rule, applied by tokenising only the chunks that matter.

    spaCy splits text at whitespace and tokenises every chunk on its own; the sentencizer then
    starts a sentence at the first token after a token in ``punct_chars`` that is neither in
    ``punct_chars`` nor punctuation (``is_punct``: closing quotes and brackets stay). So only
    chunks containing a character of ``punct_chars`` can open a boundary, and only the chunks
    right after one can hold the start (or the whitespace token before it: any whitespace run
    other than one plain space is a token). Those few chunks go through the spaCy tokenizer
    (memoised per chunk); all others are skipped. Boundaries equal ``doc.sents`` of the blank
    pipeline after whitespace trimming (tests compare both), with one known exception: spaCy
    also matches special cases across whitespace for the whole doc, so in contrived text such
    as ``": x.Y"`` (emoticon ``:x`` blocking abbreviation ``x.``) it may split a chunk differently.
    """

    def __init__(self, nlp):
        self.tokenizer = nlp.tokenizer
        self.punct = frozenset(nlp.get_pipe("sentencizer").punct_chars)
        chars = "".join(sorted(c for c in self.punct if len(c) == 1))
        self.punct_char = re.compile("[" + re.escape(chars) + "]")
        self.chunk = re.compile(r"\S+")
        self.space = re.compile(r"\s")
        self.memo: dict[str, tuple[tuple[int, bool, bool], ...]] = {}

    def tokens(self, chunk: str) -> tuple[tuple[int, bool, bool], ...]:
        """(offset, is_punct, in punct_chars) of the tokens of one whitespace-free chunk."""
        found = self.memo.get(chunk)
        if found is None:
            if len(self.memo) > 200_000:
                self.memo.clear()
            found = tuple((t.idx, t.is_punct, t.text in self.punct) for t in self.tokenizer(chunk))
            self.memo[chunk] = found
        return found

    def starts(self, text: str, start: int, end: int) -> list[int]:
        """Sentence starts after ``start`` within ``text[start:end]`` (one line, one turn)."""
        result: list[int] = []
        position, pending = start, False
        while True:
            if pending:
                match = self.chunk.search(text, position, end)
                if match is None:
                    return result
                base, stop = match.span()
            else:
                match = self.punct_char.search(text, position, end)
                if match is None:
                    return result
                base = match.start()
                while base > position and not text[base - 1].isspace():
                    base -= 1
                space = self.space.search(text, match.end(), end)
                stop = end if space is None else space.start()
            if pending and text[position:base] != " " and base > position:
                # spaCy keeps one plain space with the token before; any other whitespace run is
                # a token of its own, which is not punctuation, so the sentence starts there.
                result.append(position + (text[position] == " "))
                pending = False
            for offset, is_punct, in_punct in self.tokens(text[base:stop]):
                if pending and not is_punct and not in_punct:
                    result.append(base + offset)
                    pending = False
                elif in_punct:
                    pending = True
            position = stop


@functools.lru_cache(maxsize=8)
def _sentencizer(nlp) -> _Sentencizer:
    return _Sentencizer(nlp)


def find_sentences(text: str, turns: list[TurnSpan], language: str) -> list[SentenceSpan]:
    """Sentences inside each turn's words: spaCy's sentencizer for ``language``, whitespace trimmed.

    A sentence never crosses a line break or a turn. With the blank pipeline the boundaries
    come from :class:`_Sentencizer` (same result as ``doc.sents``, several times faster); a
    trained pipeline, when installed, uses its own ``doc.sents``.
    """
    nlp = sentence_pipeline(language)
    pieces: list[tuple[int, int, int]] = []  # (start, end, turn ordinal) of non-blank lines
    for turn in turns:
        position = turn.text_start
        while position < turn.end:
            newline = text.find("\n", position, turn.end)
            stop = turn.end if newline == -1 else newline
            start, end = position, stop
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end > start:
                pieces.append((start, end, turn.ordinal))
            position = stop + 1
    splits: dict[int, list[int]] = {}  # piece index -> sentence starts after its first
    if "sentencizer" in nlp.pipe_names:
        sentencizer = _sentencizer(nlp)
        for index, (start, end, _turn) in enumerate(pieces):
            starts = sentencizer.starts(text, start, end)
            if starts:
                splits[index] = starts
    else:
        for index, doc in enumerate(nlp.pipe(text[s:e] for s, e, _ in pieces)):
            splits[index] = [pieces[index][0] + sent.start_char for sent in doc.sents][1:]
    spans: list[SentenceSpan] = []
    for index, (start, end, turn) in enumerate(pieces):
        bounds = [start, *splits.get(index, ()), end]
        for s, e in zip(bounds, bounds[1:]):
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                spans.append(SentenceSpan(len(spans), s, e, turn))
    return spans


# --- parsing (no database) ------------------------------------------------------------
@dataclass
class ParsedTranscript:
    """Everything an import stores, for preview before saving."""

    file_name: str
    format: str
    encoding: str
    sha256: str
    text: str
    turns: list[TurnSpan]
    sentences: list[SentenceSpan]
    speaker_roles: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def speakers(self) -> list[str]:
        return list(self.speaker_roles)

    def apply_roles(self, roles: dict[str, str]) -> None:
        for label, role in roles.items():
            if label not in self.speaker_roles:
                raise UserError(f"{self.file_name}: no speaker labelled {label!r}; found: {', '.join(self.speaker_roles) or 'none'}")
            self.speaker_roles[label] = check_speaker_role(role)
        for turn in self.turns:
            turn.role = self.speaker_roles.get(turn.speaker, "other")


def check_speaker_role(role: str) -> str:
    role = role.strip().lower()
    if role not in SPEAKER_ROLES:
        raise UserError(f"unknown speaker role {role!r}; choose one of: {', '.join(SPEAKER_ROLES)}")
    return role


def parse_transcript(file_name: str, data: bytes, language: str = "en", respondent_name: str = "", interviewer_name: str = "") -> ParsedTranscript:
    """Read, normalise and segment one file (turns, speaker roles, sentences, warnings)."""
    converted = convert.convert(file_name, data)
    text = converted.text
    turns = find_turns(text, converted.turns)
    roles = guess_speaker_roles(turns, text, respondent_name, interviewer_name)
    for turn in turns:
        turn.role = roles.get(turn.speaker, "other")
    warnings = list(converted.warnings)
    if converted.encoding not in ("utf-8", "utf-8 (BOM)") and converted.format in ("txt", "md", "vtt", "srt"):
        warnings.append(f"read as {converted.encoding}; check accented characters")
    if not roles:
        warnings.append("no speaker labels found (lines like 'Interviewer: ...'); the text is one unlabelled turn")
    elif "interviewer" not in roles.values() or "respondent" not in roles.values():
        warnings.append(f"speakers found: {', '.join(roles)}; check the interviewer/respondent mapping")
    if len(roles) > 4:
        warnings.append(f"{len(roles)} speaker labels found; some may be words followed by a colon ({', '.join(list(roles)[:8])})")
    sentences = find_sentences(text, turns, language)
    return ParsedTranscript(file_name, converted.format, converted.encoding, converted.sha256, text, turns, sentences, roles, warnings)
