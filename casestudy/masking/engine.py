"""The masking engine: an identity register applied to text, as pure functions.

A register entry (term, replacement, kind, variants, options) expands into *forms*: the term and
its variants, possessive / genitive forms ('s, ’s, s, '), Dutch and English adjective or demonym
endings for places and organisations (Amsterdamse, Utrechter, Groninger...), and for persons the
usual name forms (first + last, initial + last, last name with or without its particles, first
name, with titles such as dr. / mevrouw / meneer). All forms of all entries are compiled into ONE
regular expression (a character trie) that runs over a normalised copy of the text (lower case,
diacritics removed, same length so offsets map one to one where possible); multi-word forms
accept line breaks, repeated spaces and hyphens between their words. Matches are whole words
only: a term never matches inside a longer word, but does match as part of a hyphenated compound
("Dijkhuis-team"). E-mail addresses, phone numbers and URLs are always replaced.

Every match is returned as a :class:`Replacement` with start/end offsets (code points) in the
ORIGINAL text, so a review screen can highlight it; the masked text is built from that list.
Overlaps are resolved deterministically: the longest span wins, then the earliest, then the
register order. Near misses (one edit away from a term of six letters or more) and capitalised
words that are neither in the register nor common vocabulary are reported as
:class:`Candidate` s for review and never changed.

The masked text is rendered as prose (:func:`render`: a capital at a sentence start, no doubled
article, a role word before its own replacement collapses). :func:`linkage_scan` finds what one
case's text gives away about other cases (their labels, their register terms, proper names the
texts share).
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from casestudy.errors import UserError
from casestudy.masking.constants import (  # noqa: F401  (re-exported)
    ACCEPTABLE_LINKAGE_KINDS,
    KINDS,
    LINKAGE_KINDS,
    OPTION_DEFAULTS,
)

CONTACT_REPLACEMENTS = {"email": "[email]", "phone": "[phone]", "url": "[url]"}

PARTICLES = {
    "de", "den", "der", "van", "von", "vom", "te", "ter", "ten", "het", "'t", "la", "le", "du", "da", "di",
    "del", "della", "dos", "das", "op", "in", "uit", "vd", "v.d.", "zu", "al", "el", "bin", "ibn",
}
TITLES = (
    "dr.", "dr", "drs.", "drs", "prof.", "prof", "mr.", "mr", "mrs.", "mrs", "ms.", "ms", "miss", "mevrouw",
    "mevr.", "mevr", "mw.", "mw", "meneer", "mnr.", "mnr", "dhr.", "dhr", "de heer", "ir.", "ir", "ing.",
    "dokter", "professor", "sir", "madam",
)
# Endings that turn a place or organisation name into an adjective or demonym.
ENDINGS = ("se", "s", "er", "ers", "ian", "ians", "ean", "eans", "an", "ans", "ese", "ish", "aar", "aars", "naar", "naars")
DOUBLED_ENDINGS = ("er", "ers", "se")  # Amsterdam -> Amsterdammer(s)
DROP_EN_ENDINGS = ("er", "ers", "s", "se")  # Groningen -> Groninger, Leiden -> Leidse
DROP_E_ENDINGS = ("an", "ans", "ean", "eans", "ian", "ians")  # Europe -> European
POSSESSIVES = ("'s", "s", "'")

# Words that are also surnames or first names; such a name part matched ALONE must be
# capitalised (so "the post" stays while "Post said" is masked).
SHARED_WORDS = {
    "post", "wit", "laan", "bos", "brand", "berg", "veen", "smit", "groot", "klein", "jong", "boer", "mens",
    "hart", "kok", "zwart", "lange", "black", "white", "green", "brown", "young", "rose", "iris", "hope",
    "grace", "may", "june", "will", "mark", "bill", "frank", "dean", "page", "ward", "hall", "king", "wood",
    "mulder", "visser", "bakker", "smith", "baker", "cook", "hunter", "mason", "victor", "faith", "joy",
    "sander", "daan", "hans", "ans", "post", "april", "august", "summer", "winter", "lieke", "wolters",
}
# Capitalised words that are never candidates (besides spaCy's stop words for English and Dutch).
COMMON_CAPITALISED = {
    "i", "mbt", "ph", "iop", "bpd", "ggz", "ok", "case", "unit", "team", "dr", "mr", "mrs", "ms", "prof",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "januari", "februari", "maart", "mei", "juni", "juli", "augustus", "oktober", "maandag", "dinsdag",
    "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag", "dutch", "english", "nederland", "netherlands",
    "interviewer", "respondent", "manager", "therapist", "yes", "no", "ja", "nee", "well", "so", "and",
    "but", "then", "okay", "right", "mentalization", "mentalisation", "based", "treatment", "therapy",
    "programme", "program", "patients", "patient", "staff", "board", "director", "psychiatrist",
    "psychologist", "covid", "corona", "eu", "uk", "usa", "q", "a", "hmm", "uh", "um",
}

SEP = "\x00"  # between words of a form: whitespace (one or more) or a hyphen
OSEP = "\x01"  # after an initial's dot: optional whitespace
_SEP_RE = r"(?:\s*[-\u2010\u2011\u2013]\s*|\s+)"
_SINGLE_SEP_RE = re.compile(r"[\s\-\u2010\u2011\u2013]+")
_INITIALS_RE = re.compile(r"(?:\w\.\x00?)+")
_WORD_SPLIT_RE = re.compile(r"[\s\-\u2010\u2011\u2013]+")

_EMAIL_RE = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_TLD_RE = re.compile(r"\.(?:nl|com|org|net|eu|be|de|uk|info|io|edu|gov)(?![\w])", re.IGNORECASE)
_DOMAIN_BEFORE_RE = re.compile(r"(?<![\w@.])[\w-]+(?:\.[\w-]+)*$")
_DOMAIN_PATH_RE = re.compile(r"/[^\s<>\"']*")
# Phone numbers: a run of digits and separators found fast, then checked strictly.
_PHONE_RUN_RE = re.compile(r"[+(\d][\d ().\-]{7,24}\d")
_PHONE_RE = re.compile(r"(?:\+\d{1,3}[ .\-]?)?(?:\(0?\d{1,4}\)[ .\-]?)?\d{1,4}(?:[ .\-]?\d{2,4}){1,5}")
_DATE_RE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}")


# --- data -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    term: str
    replacement: str
    kind: str = "other"
    variants: tuple[str, ...] = ()
    options: tuple[tuple[str, bool], ...] = ()  # overrides of OPTION_DEFAULTS

    def option(self, name: str) -> bool:
        return dict(self.options).get(name, OPTION_DEFAULTS[name])


def make_entry(term: str, replacement: str, kind: str = "other", variants: Iterable[str] = (), options: dict | None = None) -> Entry:
    """A checked register entry; empty terms, unknown kinds and unknown options are user errors."""
    term = " ".join((term or "").split())
    kind = (kind or "").strip().lower()
    if not term:
        raise UserError("a register entry needs a term")
    if kind not in KINDS:
        raise UserError(f"unknown kind {kind!r} for {term!r}; choose one of: {', '.join(KINDS)}")
    unknown = set(options or {}) - set(OPTION_DEFAULTS)
    if unknown:
        raise UserError(f"unknown masking option(s) {', '.join(sorted(unknown))}; known: {', '.join(OPTION_DEFAULTS)}")
    clean_variants = tuple(dict.fromkeys(" ".join(v.split()) for v in variants if v and v.strip()))
    return Entry(term, (replacement or "").strip(), kind, clean_variants, tuple(sorted((k, bool(v)) for k, v in (options or {}).items())))


@dataclass(frozen=True)
class Replacement:
    start: int
    end: int
    text: str  # the original text of the span
    replacement: str
    term: str  # the register term (or email / phone / url)
    kind: str
    rule: str  # term, variant, name form, ending, email, phone, url

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("start", "end", "text", "replacement", "term", "kind", "rule")}


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    text: str
    reason: str  # "near miss" or "capitalised"
    suggestion: str = ""  # the register term it is close to

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("start", "end", "text", "reason", "suggestion")}


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    line: int
    column: int
    text: str
    term: str


@dataclass
class MaskResult:
    source: str
    masked: str
    replacements: list[Replacement]
    candidates: list[Candidate] = field(default_factory=list)


# --- normalisation --------------------------------------------------------------------
_EXTRA_FOLD = {"ø": "o", "ł": "l", "đ": "d", "ı": "i", "’": "'", "‘": "'", "\u2010": "-", "\u2011": "-", "ß": "ß"}


@functools.lru_cache(maxsize=None)
def _fold_char(ch: str) -> str:
    lowered = ch.lower()
    if lowered in _EXTRA_FOLD:
        return _EXTRA_FOLD[lowered]
    folded = "".join(c for c in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(c))
    return _EXTRA_FOLD.get(folded, folded)


def fold(text: str) -> str:
    """Lower case without diacritics (may change the length; use :func:`normalise` for offsets)."""
    return "".join(_fold_char(ch) for ch in text) if not text.isascii() else text.lower()


def strip_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def normalise(text: str) -> tuple[str, list[int] | None]:
    """The folded text and, when lengths differ, the original offset of every folded character.

    ASCII text, and text whose characters each fold to one character, keep their length (the
    common case, done with C-speed ``lower`` and one ``replace`` per distinct accented
    character); the offset map is then None.
    """
    if text.isascii():
        return text.lower(), None
    lowered = text.lower()
    if len(lowered) == len(text):
        changes = {}
        for ch in set(lowered):
            if not ch.isascii():
                folded = _fold_char(ch)
                if len(folded) != 1:
                    break
                if folded != ch:
                    changes[ch] = folded
        else:
            for ch, folded in changes.items():
                lowered = lowered.replace(ch, folded)
            return lowered, None
    pieces, offsets = [], []
    for index, ch in enumerate(text):
        folded = _fold_char(ch)
        pieces.append(folded)
        offsets.extend([index] * len(folded))
    offsets.append(len(text))
    return "".join(pieces), offsets


@functools.lru_cache(maxsize=1)
def _ascii_lower_table() -> dict[int, str]:
    return {ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _words(text: str) -> list[str]:
    return [w for w in _WORD_SPLIT_RE.split(text.strip()) if w]


# --- forms ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Form:
    entry: int  # index into the register
    display: str  # the expected words, original spelling, single-spaced
    rule: str
    cased: bool = False  # must start with a capital in the text (shared-word name parts)
    possessive: bool = False  # the form carries a possessive suffix


def _key(words: Sequence[str], seps: Sequence[str] | None = None) -> str:
    """The folded lookup key of a sequence of words (separators as SEP / OSEP)."""
    if seps is None:
        return SEP.join(fold(w) for w in words)
    out = fold(words[0])
    for sep, word in zip(seps, words[1:]):
        out += sep + fold(word)
    return out


def _name_forms(term: str, entry: Entry) -> list[tuple[list[str], list[str] | None, str, bool]]:
    """(words, separators, rule, cased) for the usual forms of a person's full name.

    The surname starts at the first particle after the first given name ("Femke van der Laan",
    "Anna Maria de Vries"), otherwise it is the last word ("Anna Maria Jansen").
    """
    words = _words(term)
    if len(words) < 2 or words[0].lower() in PARTICLES:
        return []  # one word, or a surname with its particles ("De Groot"): no given name to derive forms from
    at = next((i for i in range(1, len(words) - 1) if words[i].lower() in PARTICLES), len(words) - 1)
    given, last = words[:at], words[at:]
    i = 0
    while i < len(last) - 1 and last[i].lower() in PARTICLES:
        i += 1
    particles, core = last[:i], last[i:]
    shared = _shared()

    def cased(parts: list[str]) -> bool:
        return len(parts) == 1 and fold(parts[0]) in shared

    forms: list[tuple[list[str], list[str] | None, str, bool]] = []
    initials_sets = [[given[0][0]]]
    if len(given) > 1:
        initials_sets.append([g[0] for g in given])
    for initials in initials_sets:
        dotted = [f"{c}." for c in initials]
        forms.append((dotted + last, [OSEP] * len(dotted) + [SEP] * (len(last) - 1), "name form", False))
        forms.append((initials + last, None, "name form", False))
    if len(given) > 1:
        forms.append(([given[0]] + last, None, "name form", False))
    forms.append((last, None, "name form", cased(last)))
    if particles:
        forms.append((core, None, "name form", cased(core)))
    forms.append(([given[0]], None, "name form", cased([given[0]])))
    return forms


@functools.lru_cache(maxsize=1)
def _shared() -> frozenset[str]:
    return frozenset(SHARED_WORDS | _stop_words())


@functools.lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    try:
        from spacy.lang.en.stop_words import STOP_WORDS as EN
        from spacy.lang.nl.stop_words import STOP_WORDS as NL
    except ImportError:  # pragma: no cover - spaCy is a pinned dependency
        return frozenset()
    return frozenset(fold(w) for w in EN | NL)


def _ending_forms(words: list[str]) -> list[list[str]]:
    last = words[-1]
    stem = last.lower()
    forms = []
    for ending in ENDINGS:
        forms.append(words[:-1] + [last + ending])
    if len(stem) >= 3 and stem[-1] not in "aeiouy" and stem[-2] in "aeiouy" and stem[-3] not in "aeiouy":
        for ending in DOUBLED_ENDINGS:
            forms.append(words[:-1] + [last + last[-1] + ending])
    if stem.endswith("en") and len(stem) > 4:
        for ending in DROP_EN_ENDINGS:
            forms.append(words[:-1] + [last[:-2] + ending])
    if stem.endswith("e") and len(stem) > 3:
        for ending in DROP_E_ENDINGS:
            forms.append(words[:-1] + [last[:-1] + ending])
    return forms


def entry_forms(entry: Entry, index: int = 0) -> dict[str, list[_Form]]:
    """Lookup key -> forms for one entry (before possessive suffixes are added)."""
    out: dict[str, list[_Form]] = {}

    def add(words, seps, rule, cased=False):
        if not words or not all(words):
            return
        key = _key(words, seps)
        out.setdefault(key, []).append(_Form(index, " ".join(words), rule, cased))

    for number, text in enumerate((entry.term, *entry.variants)):
        words = _words(text)
        rule = "term" if number == 0 else "variant"
        add(words, None, rule)
        if entry.kind == "person" and entry.option("name_forms"):
            for f_words, f_seps, f_rule, cased in _name_forms(text, entry):
                add(f_words, f_seps, f_rule, cased)
        if entry.kind in ("place", "organisation") and entry.option("endings"):
            for f_words in _ending_forms(words):
                add(f_words, None, "ending")
    return out


# --- the compiled register ------------------------------------------------------------
def _trie_regex(keys: Iterable[str]) -> str:
    """One regex alternation for many literal keys, shaped as a character trie."""
    trie: dict = {}
    for key in keys:
        node = trie
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = {}

    def atom(ch: str) -> str:
        if ch == SEP:
            return _SEP_RE
        if ch == OSEP:
            return r"\s*"
        return re.escape(ch)

    def build(node: dict) -> str:
        ends = "" in node
        branches = [atom(ch) + build(child) for ch, child in sorted(node.items()) if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return "(?:" + body + ")?" if len(branches) > 1 or len(body) > 1 else body + "?"
        return body

    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        return build(trie)
    finally:
        sys.setrecursionlimit(limit)


class Register:
    """A compiled identity register: find, mask and scan texts."""

    def __init__(self, entries: Sequence[Entry], contacts: bool = True):
        self.entries = list(entries)
        self.contacts = contacts
        self.forms: dict[str, list[_Form]] = {}
        for index, entry in enumerate(self.entries):
            for key, forms in entry_forms(entry, index).items():
                self.forms.setdefault(key, []).extend(forms)
                if entry.option("possessive"):
                    for suffix in POSSESSIVES:
                        if suffix == "'" and not key.endswith(("s", "x", "z")):
                            continue
                        for form in forms:
                            self.forms.setdefault(key + suffix, []).append(
                                _Form(form.entry, form.display, form.rule, form.cased, True)
                            )
        # Within one key: exact terms first, then variants, name forms, endings; then register order.
        order = {"term": 0, "variant": 1, "name form": 2, "ending": 3}
        for forms in self.forms.values():
            forms.sort(key=lambda f: (f.possessive, order[f.rule], f.entry))
        cores = [k for k in self.forms if not any(k.endswith(s) and k[: -len(s)] in self.forms for s in POSSESSIVES)]
        titles = sorted({_key(_words(t)) for t in TITLES}, key=len, reverse=True)
        title_re = "|".join(_trie_regex([t]) for t in titles)
        if cores:
            self.pattern = re.compile(
                rf"(?<!\w)(?P<title>(?:{title_re}){_SEP_RE})?(?P<core>{_trie_regex(cores)})(?P<suffix>'s|s|')?(?!\w)"
            )
        else:
            self.pattern = None
        self._near: dict[str, str] | None = None

    # --- matching -------------------------------------------------------------------
    def _accept(self, form: _Form, original: str, start: int, end: int, text: str) -> bool:
        entry = self.entries[form.entry]
        if form.cased and not original[:1].isupper():
            return False
        ci, di = entry.option("case_insensitive"), entry.option("diacritics_insensitive")
        if not (ci and di):
            got = " ".join(_words(original))
            want = form.display
            if ci:
                got, want = got.lower(), want.lower()
            if di:
                got, want = strip_marks(got), strip_marks(want)
            if not got.startswith(want):
                return False
        if not entry.option("multiword") and ("\n" in original or "  " in original or "\t" in original):
            return False
        if not entry.option("compounds"):
            if start > 0 and text[start - 1] in "-\u2010\u2011" or end < len(text) and text[end : end + 1] in ("-", "\u2010", "\u2011"):
                return False
        return True

    def _lookup(self, key: str) -> list[_Form] | None:
        forms = self.forms.get(key)
        if forms is None and "." in key[:2]:
            # Initials' optional spaces: "m.verhoef", "m. verhoef", "a.m. de vries" use OSEP keys.
            initials = _INITIALS_RE.match(key)
            if initials:
                prefix = "".join(ch + "." + OSEP for ch in initials.group() if ch.isalnum())
                forms = self.forms.get(prefix + key[initials.end() :])
        return forms

    def register_matches(self, text: str) -> list[Replacement]:
        """Register terms (all forms) in ``text``, non-overlapping, in text order."""
        if self.pattern is None or not text:
            return []
        folded, offsets = normalise(text)
        out = []
        for match in self.pattern.finditer(folded):
            core_start = match.start("core")
            core = _SINGLE_SEP_RE.sub(SEP, match.group("core"))
            suffix = match.group("suffix") or ""
            if suffix == "'" and core_start > 0 and folded[core_start - 1] == "'":
                suffix = ""  # 'Dijkhuis': a closing quote, not a possessive
            forms = self._lookup(core + suffix) if suffix else None
            match_end = match.end() if suffix else match.end("core")
            if forms is None and suffix:
                # e.g. a closing quote after a name: 'Verhoef' -> the name without the quote
                forms = self._lookup(core)
                match_end = match.end("core")
                if forms is None or folded[match_end : match_end + 1].isalnum():
                    continue
            if forms is None and not suffix:
                forms = self._lookup(core)
                if forms is None or folded[match_end : match_end + 1].isalnum():
                    continue
            start = offsets[core_start] if offsets else core_start
            end = offsets[match_end] if offsets else match_end
            title = match.group("title")
            original = text[start:end]
            for form in forms:
                if not self._accept(form, original, start, end, text):
                    continue
                entry = self.entries[form.entry]
                span_start = start
                if title and entry.kind == "person" and entry.option("titles"):
                    span_start = offsets[match.start()] if offsets else match.start()
                out.append(Replacement(span_start, end, text[span_start:end], entry.replacement, entry.term, entry.kind, form.rule))
                break
        return out

    def contact_matches(self, text: str) -> list[Replacement]:
        return contact_matches(text)

    def find(self, text: str) -> list[Replacement]:
        """Every replacement for ``text``: register matches and contacts, overlaps resolved."""
        spans = self.register_matches(text)
        if self.contacts:
            spans += self.contact_matches(text)
        return resolve_overlaps(spans)

    def mask(self, text: str, candidates: bool = True, language: str = "en") -> MaskResult:
        replacements = self.find(text)
        found = self.candidates(text, replacements, language) if candidates else []
        return MaskResult(text, apply(text, replacements), replacements, found)

    def scan(self, text: str) -> list[Finding]:
        """Leak scan: every occurrence of a register term, variant or derived form."""
        return [
            Finding(r.start, r.end, *line_col(text, r.start), r.text, r.term) for r in self.register_matches(text)
        ]

    # --- candidates -----------------------------------------------------------------
    def _near_words(self) -> dict[str, str]:
        if self._near is None:
            near: dict[str, str] = {}
            for entry in self.entries:
                if not entry.option("near_miss"):
                    continue
                for text in (entry.term, *entry.variants):
                    for word in _words(text):
                        if len(word) >= 6 and word.isalpha():
                            near.setdefault(fold(word), entry.term)
            self._near = near
        return self._near

    def candidates(self, text: str, replacements: Sequence[Replacement] = (), language: str = "en") -> list[Candidate]:
        """Near misses and unknown capitalised words, outside the replaced spans (never changed)."""
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        covered = sorted((r.start, r.end) for r in replacements)
        doc = _tokenizer(language)(text)
        near = self._near_words()
        choices = list(near)
        lower_words = {fold(t.text) for t in doc if t.is_alpha and t.text[:1].islower()}
        known = _stop_words() | COMMON_CAPITALISED
        register_words = {fold(w) for e in self.entries for t in (e.term, *e.variants) for w in _words(t)}
        cache: dict[str, str | None] = {}
        out: list[Candidate] = []
        sentence_start = True
        import bisect

        for token in doc:
            start, end = token.idx, token.idx + len(token.text)
            word = token.text
            at_start = sentence_start
            sentence_start = word in (".", "!", "?", ":", "\n") or "\n" in word or token.is_space and "\n" in word
            if not token.is_alpha or len(word) < 2:
                continue
            i = bisect.bisect_right(covered, (start, float("inf"))) - 1
            if i >= 0 and covered[i][1] > start:
                continue
            folded = fold(word)
            if choices and len(folded) >= 5 and folded not in near:
                if folded not in cache:
                    hit = process.extractOne(folded, choices, scorer=Levenshtein.distance, score_cutoff=1)
                    cache[folded] = near[hit[0]] if hit else None
                if cache[folded]:
                    out.append(Candidate(start, end, word, "near miss", cache[folded]))
                    continue
            if (
                word[:1].isupper()
                and folded not in known
                and folded not in lower_words
                and folded not in register_words
                and not at_start  # sentence-initial capitals say nothing; mid-sentence ones do
            ):
                out.append(Candidate(start, end, word, "capitalised"))
        return out


@functools.lru_cache(maxsize=4)
def _tokenizer(language: str):
    import spacy

    try:
        nlp = spacy.blank(language or "en")
    except Exception:  # noqa: BLE001 - unknown language code: the multi-language tokenizer
        nlp = spacy.blank("xx")
    return nlp.tokenizer


def contact_matches(text: str) -> list[Replacement]:
    """E-mail addresses, URLs (with scheme, www. or a common top-level domain) and phone numbers."""
    out = []

    def add(start: int, end: int, kind: str) -> None:
        out.append(Replacement(start, end, text[start:end], CONTACT_REPLACEMENTS[kind], kind, kind, kind))

    if "@" in text:
        for m in _EMAIL_RE.finditer(text):
            add(m.start(), m.end(), "email")
    for m in _URL_RE.finditer(text):
        value = m.group().rstrip(".,;:!?)]'\"")
        add(m.start(), m.start() + len(value), "url")
    for m in _TLD_RE.finditer(text):
        before = _DOMAIN_BEFORE_RE.search(text, max(0, m.start() - 200), m.start())
        if before is None or before.start() == m.start() or "@" in text[max(0, before.start() - 1) : before.start()]:
            continue
        end = m.end()
        path = _DOMAIN_PATH_RE.match(text, end)
        if path:
            end += len(path.group().rstrip(".,;:!?)]'\""))
        add(before.start(), end, "url")
    for m in _PHONE_RUN_RE.finditer(text):
        start = m.start()
        if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "+_"):
            continue
        strict = _PHONE_RE.match(text, start, m.end())
        if strict is None:
            continue
        end = strict.end()
        if end < len(text) and (text[end].isalnum() or text[end] == "_"):
            continue
        value = strict.group()
        digits = sum(ch.isdigit() for ch in value)
        groups = re.findall(r"\d+", value)
        years = all(len(g) == 4 and g[:2] in ("19", "20") for g in groups)
        if 9 <= digits <= 15 and not years and not _DATE_RE.fullmatch(value):
            add(start, end, "phone")
    return out


def resolve_overlaps(spans: Iterable[Replacement]) -> list[Replacement]:
    """Non-overlapping spans: the longest wins, then the earliest; returned in text order."""
    chosen: list[Replacement] = []
    taken: list[tuple[int, int]] = []
    import bisect

    for span in sorted(spans, key=lambda s: (-(s.end - s.start), s.start, s.term)):
        i = bisect.bisect_left(taken, (span.start, span.end))
        if i > 0 and taken[i - 1][1] > span.start or i < len(taken) and taken[i][0] < span.end:
            continue
        taken.insert(i, (span.start, span.end))
        chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def apply(text: str, replacements: Sequence[Replacement | dict]) -> str:
    """The masked text: each span replaced and the result made to read as prose (see :func:`render`)."""
    return render(text, replacements)[0]


# Articles that must not be doubled when a replacement starting with one follows the same word.
ARTICLES = ("the", "a", "an", "de", "het", "een")
# Words ending in a full stop that do not end a sentence.
ABBREVIATIONS = {"e.g", "i.e", "eg", "ie", "vs", "cf", "bijv", "o.a", "d.w.z", "m.b.t", "t.a.v", "i.v.m", "ca", "nr", "no"} | {
    t.rstrip(".") for t in TITLES
}
_OPENERS = "\"'\u201c\u2018\u00ab([{*_ \t"
_TRAILING_WORD_RE = re.compile(r"([^\W\d_][\w'\u2019-]*)([ \t]+)$")


@dataclass(frozen=True)
class Segment:
    """One piece of a masked text: ``masked[masked_start:masked_end]`` stands for
    ``source[source_start:source_end]``; ``index`` is the replacement's number, None for kept text."""

    masked_start: int
    masked_end: int
    source_start: int
    source_end: int
    index: int | None


def _replacement_words(replacement: str) -> tuple[str, list[str]]:
    """The replacement's leading article (folded, or "") and its other words (folded), brackets ignored."""
    words = [fold(w) for w in re.findall(r"[^\W\d_][\w'-]*", replacement)]
    if words and words[0] in ARTICLES:
        return words[0], words[1:]
    return "", words


def at_sentence_start(before: str) -> bool:
    """Whether text following ``before`` starts a sentence (start of text, after . ! ? or a blank line)."""
    stripped = before.rstrip(_OPENERS)
    if not stripped.strip():
        return True
    gap = before[len(stripped.rstrip()) :]
    if re.search(r"\n[ \t]*\n", gap) or re.search(r"(?:^|\n)[ \t]*(?:#+|[-*+]|\d+[.)])[ \t]*$", before):
        return True  # a new paragraph, a heading or a list item
    stripped = stripped.rstrip()
    if stripped[-1:] in "!?":
        return True
    if stripped[-1:] == ".":
        word = re.search(r"([\w.]*)\.$", stripped).group(1)
        return fold(word) not in ABBREVIATIONS and not re.fullmatch(r"[^\W\d_]", word)  # "dr." "J." do not end one
    return False


def _capitalise(replacement: str) -> str:
    for i, ch in enumerate(replacement):
        if ch.isalpha():
            return replacement[:i] + ch.upper() + replacement[i + 1 :]
        if ch.isdigit():
            break
    return replacement


def _drop_article(replacement: str, article: str) -> str:
    """The replacement without its leading article (kept inside a leading bracket: "[the x]" -> "[x]")."""
    match = re.match(r"([\[(\"']*)" + re.escape(article) + r"\s+", replacement, re.IGNORECASE)
    return replacement if match is None else match.group(1) + replacement[match.end() :]


def render(text: str, replacements: Sequence[Replacement | dict]) -> tuple[str, list[Segment]]:
    """The masked text and its segments, each replacement adjusted to read as written prose.

    Three rules, applied to each replacement in its context:

    * a role word (or words) right before a replacement that ends with the same words is
      dropped: "psychiatrist Jansen" -> "[psychiatrist]", not "psychiatrist [psychiatrist]";
    * a replacement that starts with the article the text has right before it loses its own:
      "the Lindenhof team" with "the institution" -> "the institution team", likewise de / het /
      een / a / an;
    * a replacement at the start of a sentence gets a capital (inside its bracket): "[manager]
      said" at a sentence start -> "[Manager] said", "the institution" -> "The institution".

    The stored replacements keep what the researcher wrote; only the rendering adapts.
    """
    pieces: list[str] = []
    segments: list[Segment] = []
    length = position = 0
    order = sorted(range(len(replacements)), key=lambda i: _get(replacements[i], "start"))
    for i in order:
        r = replacements[i]
        start, end = _get(r, "start"), _get(r, "end")
        if start < position:
            raise ValueError("overlapping replacements")
        kept = text[position:start]
        value = _get(r, "replacement")
        article, words = _replacement_words(value)
        # A role before its own replacement: drop the role words from the kept text.
        if words:
            for k in range(len(words), 0, -1):
                match = re.search(r"(?<![\w'-])" + r"[ \t]+".join([r"([^\W\d_][\w'-]*)"] * k) + r"[ \t]+$", kept)
                if match and [fold(g) for g in match.groups()] == words[-k:]:
                    kept, start = kept[: match.start()], start - (len(kept) - match.start())
                    break
        before = "".join(pieces) + kept
        trailing = _TRAILING_WORD_RE.search(kept)
        if article and trailing and fold(trailing.group(1)) == article:
            value = _drop_article(value, article)
        elif value and at_sentence_start(before):
            value = _capitalise(value)
        if kept:
            segments.append(Segment(length, length + len(kept), position, start, None))
            pieces.append(kept)
            length += len(kept)
        segments.append(Segment(length, length + len(value), start, end, i))
        pieces.append(value)
        length += len(value)
        position = end
    if position < len(text) or not segments:
        segments.append(Segment(length, length + len(text) - position, position, len(text), None))
        pieces.append(text[position:])
    return "".join(pieces), segments


def _get(item, name):
    return item[name] if isinstance(item, dict) else getattr(item, name)


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (code points) of an offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


# --- register CSV ---------------------------------------------------------------------
REGISTER_COLUMNS = ("term", "replacement", "kind", "variants")


def parse_register_csv(text: str, source: str = "register") -> list[Entry]:
    """Entries from CSV text with the header term,replacement,kind[,variants]."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise UserError(f"{source}: malformed CSV ({exc})")
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise UserError(f"{source}: empty register; expected the header term,replacement,kind[,variants]")
    header = [h.strip().lower() for h in rows[0]]
    if header[:3] != ["term", "replacement", "kind"] or any(h not in REGISTER_COLUMNS and h != "options" for h in header):
        raise UserError(f"{source}: the header must be term,replacement,kind with an optional variants column (found {','.join(rows[0])})")
    entries = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) > len(header):
            raise UserError(f"{source}, line {number}: {len(row)} fields where the header has {len(header)}")
        record = dict(zip(header, row + [""] * (len(header) - len(row))))
        if not record["term"].strip():
            raise UserError(f"{source}, line {number}: empty term")
        options = _parse_options(record.get("options", ""), source, number)
        try:
            entries.append(
                make_entry(record["term"], record["replacement"], record["kind"], (record.get("variants") or "").split(";"), options)
            )
        except UserError as exc:
            raise UserError(f"{source}, line {number}: {exc.message}")
    check_register(entries)
    return entries


def _parse_options(text: str, source: str, number: int) -> dict:
    """Options as 'name=off;name=on' (only the ones that differ from the defaults)."""
    options = {}
    for part in (p.strip() for p in (text or "").split(";")):
        if not part:
            continue
        name, _, value = part.partition("=")
        value = value.strip().lower()
        if value not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
            raise UserError(f"{source}, line {number}: option {part!r} must be name=on or name=off")
        options[name.strip()] = value in ("on", "true", "1", "yes")
    return options


def options_text(entry: Entry) -> str:
    return ";".join(f"{k}={'on' if v else 'off'}" for k, v in entry.options if OPTION_DEFAULTS.get(k) != v)


def register_csv(entries: Sequence[Entry]) -> str:
    from casestudy.tabular import csv_text

    with_options = any(options_text(e) for e in entries)
    columns = list(REGISTER_COLUMNS) + (["options"] if with_options else [])
    rows = []
    for e in entries:
        row = [e.term, e.replacement, e.kind, ";".join(e.variants)]
        rows.append(row + ([options_text(e)] if with_options else []))
    return csv_text(columns, rows)


def read_register(path: str) -> list[Entry]:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the register {path}: {getattr(exc, 'strerror', None) or exc}")
    return parse_register_csv(text, path)


def check_register(entries: Sequence[Entry]) -> None:
    """A replacement must not itself contain a register term (it would leak in every text)."""
    if not entries:
        return
    compiled = Register(entries, contacts=False)
    for entry in entries:
        hits = compiled.register_matches(entry.replacement)
        if hits:
            raise UserError(f"the replacement {entry.replacement!r} of {entry.term!r} contains the register term {hits[0].term!r}")


@functools.lru_cache(maxsize=64)
def compile_register(entries: tuple[Entry, ...], contacts: bool = True) -> Register:
    return Register(entries, contacts)


def mask_text(text: str, entries: Sequence[Entry], candidates: bool = True, language: str = "en") -> MaskResult:
    return compile_register(tuple(entries)).mask(text, candidates, language)


def leak_scan(text: str, entries: Sequence[Entry]) -> list[Finding]:
    return compile_register(tuple(entries)).scan(text)
