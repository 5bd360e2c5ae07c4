"""Transcripts without a database: line numbers, speaker turns, sentences and parsing.

Offsets are code points into the normalised text (``\\n`` newlines, NFC), spans half-open
``[start, end)``. Sentences come from spaCy blank pipelines (a rule-based sentencizer per
language; trained models are optional extras), loaded only when a transcript is segmented.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

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
#: spaCy's tokenizer rules and sentencizer characters for the blank pipelines of these languages,
#: written by :func:`write_sentence_rules` for the spaCy version it names (a test compares them
#: with the installed spaCy). With them an import decides plain chunks such as ``enough.``
#: without importing spaCy, which costs about 1 CPU second (pydantic schemas, thinc, numpy).
SENTENCE_RULES_FILE = Path(__file__).with_name("sentence_rules.json")
SHIPPED_RULE_LANGUAGES = ("en", "nl")
TRAINED_PIPELINES = {"en": ("en_core_web_sm",), "nl": ("nl_core_news_sm",)}


def _trained_pipeline(language: str) -> str | None:
    """The installed trained spaCy pipeline for ``language`` (as ``spacy.util.is_package`` finds it), if any."""
    import importlib.metadata

    for name in TRAINED_PIPELINES.get(language, ()):
        try:
            importlib.metadata.distribution(name)
            return name
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


@functools.lru_cache(maxsize=8)
def sentence_pipeline(language: str):
    """spaCy pipeline for ``language``: a trained one if installed, else blank + sentencizer."""
    import spacy

    language = (language or "en").lower()
    trained = _trained_pipeline(language)
    if trained is not None:
        return spacy.load(trained, exclude=["ner", "lemmatizer", "tagger", "attribute_ruler"])
    try:
        nlp = spacy.blank(language)
    except (ImportError, OSError, KeyError) as exc:
        raise UserError(f"unknown language code {language!r} for sentence splitting ({exc})")
    nlp.add_pipe("sentencizer")
    return nlp


def sentence_rules(nlp) -> dict:
    """What :class:`_Sentencizer` needs of a blank pipeline with a sentencizer, as JSON data."""
    from spacy.attrs import ORTH

    tokenizer = nlp.tokenizer

    def pattern(bound):
        compiled = getattr(bound, "__self__", None)
        return None if compiled is None else {"pattern": compiled.pattern, "flags": compiled.flags}

    return {
        "punct_chars": sorted(nlp.get_pipe("sentencizer").punct_chars),
        "prefix": pattern(tokenizer.prefix_search), "suffix": pattern(tokenizer.suffix_search),
        "infix": pattern(tokenizer.infix_finditer), "url": pattern(tokenizer.url_match),
        "token_match": tokenizer.token_match is not None,
        "specials": sorted(tokenizer.rules),
        "single_token_specials": sorted(key for key, tokens in tokenizer.rules.items() if len(tokens) == 1 and tokens[0].get(ORTH) == key),
    }


def write_sentence_rules(path: Path = SENTENCE_RULES_FILE) -> None:
    """Write the rules of the installed spaCy's blank pipelines (run after upgrading spaCy)."""
    import json

    import spacy

    data = {"spacy": spacy.__version__, "languages": {lang: sentence_rules(sentence_pipeline(lang)) for lang in SHIPPED_RULE_LANGUAGES}}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class _TokenizerRules:
    """The rules of spaCy's tokenizer that :meth:`_Sentencizer._plain_tokens` follows (from :func:`sentence_rules`)."""

    punct: frozenset[str]
    prefix_search: object
    suffix_search: object
    infix_finditer: object
    url_match: object
    exact_specials: frozenset[str]  # the special-case strings
    specials: frozenset[str]  # the same, also with their whitespace removed (what a run of tokens may spell)
    single_token_specials: frozenset[str]  # special cases that stay one token, unchanged
    exact: bool  # False: the rules leave the shortcut unproven (a token_match, multi-character marks)


def _compiled(spec: dict | None, method: str):
    return None if spec is None else getattr(re.compile(spec["pattern"], spec["flags"]), method)


def _tokenizer_rules(data: dict) -> _TokenizerRules:
    specials = frozenset(data["specials"]) | frozenset("".join(k.split()) for k in data["specials"])
    punct = frozenset(data["punct_chars"])
    return _TokenizerRules(punct, _compiled(data["prefix"], "search"), _compiled(data["suffix"], "search"),
                           _compiled(data["infix"], "finditer"), _compiled(data["url"], "match"), frozenset(data["specials"]), specials,
                           frozenset(data["single_token_specials"]),
                           exact=not data["token_match"] and all(len(c) == 1 for c in punct))


@functools.lru_cache(maxsize=8)
def _shipped_rules(language: str) -> _TokenizerRules | None:
    """The shipped rules for ``language`` if they are those of the installed spaCy, else None."""
    import importlib.metadata
    import json

    if language not in SHIPPED_RULE_LANGUAGES or not SENTENCE_RULES_FILE.exists():
        return None
    data = json.loads(SENTENCE_RULES_FILE.read_text(encoding="utf-8"))
    try:
        installed = importlib.metadata.version("spacy")
    except importlib.metadata.PackageNotFoundError:
        return None
    if data.get("spacy") != installed or language not in data.get("languages", {}):
        return None
    return _tokenizer_rules(data["languages"][language])


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

    Most chunks are decided without the tokenizer, by the tokenizer's own rules shipped with the
    package (:meth:`_plain_tokens`), so that spaCy is imported only when a chunk needs it
    (``tokenizer`` is called then, once).
    """

    def __init__(self, rules: _TokenizerRules, tokenizer):
        self.rules = rules
        self._load_tokenizer = tokenizer
        self._tokenizer = None
        self.punct = rules.punct
        self.mark_chars = frozenset(c for c in self.punct if len(c) == 1)
        self.punct_char = self._mark_pattern(self.mark_chars)
        self.chunk = re.compile(r"\S+")
        self.space = re.compile(r"\s")
        self.memo: dict[str, tuple[tuple[int, bool, bool], ...]] = {}

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def _mark_pattern(chars: frozenset[str]) -> re.Pattern:
        return re.compile("[" + re.escape("".join(sorted(chars))) + "]")

    def marks_in(self, text: str) -> re.Pattern | None:
        """A pattern of the sentence marks that occur in ``text`` (None: it has none).

        Searching for the few marks a text holds is an order of magnitude faster than for all
        128 of spaCy's (a character class that large is a slow scan); the set costs one pass.
        """
        present = self.mark_chars.intersection(text)
        return self._mark_pattern(frozenset(present)) if present else None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = self._load_tokenizer()
        return self._tokenizer

    def tokens(self, chunk: str) -> tuple[tuple[int, bool, bool], ...]:
        """(offset, is_punct, in punct_chars) of the tokens of one whitespace-free chunk, as the rule
        reads them (a chunk without a sentence mark that starts with a letter or digit: one token)."""
        found = self.memo.get(chunk)
        if found is None:
            if len(self.memo) > 200_000:
                self.memo.clear()
            found = self._plain_tokens(chunk)
            if found is None:
                found = tuple((t.idx, t.is_punct, t.text in self.punct) for t in self.tokenizer(chunk))
            self.memo[chunk] = found
        return found

    def _plain_tokens(self, chunk: str) -> tuple[tuple[int, bool, bool], ...] | None:
        """The tokens of ``chunk`` as the rule reads them, when they follow from the tokenizer's
        rules alone; None when the tokenizer must decide.

        * No sentence mark, first character a letter or digit: the first token starts at 0 and is
          no punctuation, and no token is a mark, whatever the split (the rule reads no more).
        * Otherwise the steps of ``Tokenizer.__call__`` for one chunk, done with its own rules
          (:func:`_split_affixes`, then the infixes of the rest), when no special case other than
          a one-token one is involved: a run of tokens that spells a special case would be
          re-split by ``_apply_special_cases``, so then the tokenizer decides.
        """
        rules = self.rules
        if not rules.exact or not chunk:
            return None
        if self.punct_char.search(chunk) is None:
            return ((0, False, False),) if chunk[0].isalnum() else None
        if chunk in rules.exact_specials:
            return ((0, _is_punct(chunk), chunk in self.punct),) if chunk in rules.single_token_specials else None
        prefixes, rest, suffixes = _split_affixes(chunk, rules)
        texts = list(prefixes)
        if rest:
            if rest in rules.exact_specials:
                if rest not in rules.single_token_specials:
                    return None
                texts.append(rest)
            elif rules.url_match is not None and rules.url_match(rest):
                texts.append(rest)
            else:
                texts += [text for _, text in _infix_split(rest, rules.infix_finditer)]
        texts += reversed(suffixes)
        # A run of tokens spelling a special case is re-split, unless it is one token that the
        # special case keeps as it is (``etc.`` in ``etc.)``).
        for first in range(len(texts)):
            for stop in range(first + 1, len(texts) + 1):
                spelled = "".join(texts[first:stop])
                if spelled in rules.specials and not (stop == first + 1 and spelled in rules.single_token_specials):
                    return None
        tokens, offset = [], 0
        for text in texts:
            tokens.append((offset, _is_punct(text), text in self.punct))
            offset += len(text)
        return tuple(tokens)

    def starts(self, text: str, start: int, end: int, marks: re.Pattern | None = None) -> list[int]:
        """Sentence starts after ``start`` within ``text[start:end]`` (one line, one turn).

        ``marks``: :meth:`marks_in` of ``text``, when the caller scans many pieces of one text.
        """
        marks = marks or self.punct_char
        result: list[int] = []
        position, pending = start, False
        while True:
            if pending:
                match = self.chunk.search(text, position, end)
                if match is None:
                    return result
                base, stop = match.span()
            else:
                match = marks.search(text, position, end)
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


def _split_affixes(string: str, rules: _TokenizerRules) -> tuple[list[str], str, list[str]]:
    """(prefixes, rest, suffixes) as ``Tokenizer._split_affixes`` finds them (spaCy 3; no token_match)."""
    prefixes: list[str] = []
    suffixes: list[str] = []
    specials = rules.exact_specials
    last_size = 0
    while string and len(string) != last_size:
        if string in specials:
            break
        last_size = len(string)
        found = rules.prefix_search(string) if rules.prefix_search is not None else None
        pre_len = found.end() - found.start() if found is not None else 0
        if pre_len:
            prefix, minus_pre = string[:pre_len], string[pre_len:]
            if minus_pre and minus_pre in specials:
                prefixes.append(prefix)
                string = minus_pre
                break
        found = rules.suffix_search(string[pre_len:]) if rules.suffix_search is not None else None
        suf_len = found.end() - found.start() if found is not None else 0
        if suf_len:
            suffix, minus_suf = string[-suf_len:], string[:-suf_len]
            if minus_suf and minus_suf in specials:
                suffixes.append(suffix)
                string = minus_suf
                break
        if pre_len and suf_len and pre_len + suf_len <= len(string):
            string = string[pre_len:-suf_len]
            prefixes.append(prefix)
            suffixes.append(suffix)
        elif pre_len:
            string = minus_pre
            prefixes.append(prefix)
        elif suf_len:
            string = minus_suf
            suffixes.append(suffix)
    return prefixes, string, suffixes


def _infix_split(text: str, infix_finditer) -> list[tuple[int, str]]:
    """(offset, text) of the tokens ``Tokenizer._attach_tokens`` makes of ``text`` at its infixes."""
    pieces, start = [], 0
    for match in (infix_finditer(text) if infix_finditer is not None else ()):
        infix_start, infix_end = match.span()
        if infix_start == 0:  # spaCy skips an infix at the very start
            continue
        if infix_start != start:
            pieces.append((start, text[start:infix_start]))
        if infix_start != infix_end:
            pieces.append((infix_start, text[infix_start:infix_end]))
        start = infix_end
    if text[start:]:
        pieces.append((start, text[start:]))
    return pieces


def _is_punct(text: str) -> bool:
    """spaCy's ``is_punct`` lexical attribute: every character is punctuation (category P*)."""
    return all(unicodedata.category(char).startswith("P") for char in text)


@functools.lru_cache(maxsize=8)
def _blank_sentencizer(language: str) -> _Sentencizer | None:
    """The sentencizer of ``language``'s blank pipeline (None: a trained pipeline is installed).

    With shipped rules (:data:`SENTENCE_RULES_FILE`) spaCy is imported only when a chunk needs
    its tokenizer; otherwise the pipeline is loaded here (an unknown language is a UserError).
    """
    language = (language or "en").lower()
    if _trained_pipeline(language) is not None:
        return None
    rules = _shipped_rules(language)
    if rules is not None:
        return _Sentencizer(rules, lambda: sentence_pipeline(language).tokenizer)
    nlp = sentence_pipeline(language)
    if "sentencizer" not in nlp.pipe_names:
        return None
    return _Sentencizer(_tokenizer_rules(sentence_rules(nlp)), lambda: nlp.tokenizer)


def find_sentences(text: str, turns: list[TurnSpan], language: str) -> list[SentenceSpan]:
    """Sentences inside each turn's words: spaCy's sentencizer for ``language``, whitespace trimmed.

    A sentence never crosses a line break or a turn. With the blank pipeline the boundaries
    come from :class:`_Sentencizer` (same result as ``doc.sents``, several times faster); a
    trained pipeline, when installed, uses its own ``doc.sents``.
    """
    sentencizer = _blank_sentencizer(language)
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
    if sentencizer is not None:
        marks = sentencizer.marks_in(text)
        for index, (start, end, _turn) in enumerate(pieces if marks is not None else ()):
            starts = sentencizer.starts(text, start, end, marks)
            if starts:
                splits[index] = starts
    else:
        nlp = sentence_pipeline(language)
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
