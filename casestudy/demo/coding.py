"""Demo codings: two coders code the demo transcripts, with realistic (imperfect) agreement.

A keyword rule proposes a code for a sentence; coder1 follows every rule, coder2 follows most of
them, misses some and now and then chooses a neighbouring code, so the agreement statistics,
matrices and retrieval have something to show. The rules only seed the demo: real coding is
done by people on the coding page.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterator

from sqlalchemy.orm import Session

from casestudy.codebook import tree as codebook
from casestudy.coding import elicitation, spans
from casestudy.interviews import store
from casestudy.models import Interview, Study

RULES = [
    (r"\bbudget|money|financ|costs?\b|expens", "Organization/Organisational commitment and support/Financial support and budget"),
    (r"\bboard\b|higher management|support from (the )?(top|management)", "Organization/Organisational commitment and support"),
    (r"\breferr|intake", "Organization/Referral and intake"),
    (r"\bleader|leadership|co-lead", "Organization and team/Roles and leadership/Leadership"),
    (r"\btraining|supervision|course", "Organization and team/Staff recruitment and selection/Training and supervision"),
    (r"\brecruit|hired|hiring|vacanc|selected", "Organization and team/Staff recruitment and selection"),
    (r"\bsplit|conflict|fight|tension|rivalr", "Organization and team/Balanced mentalizing team/Team conflict and splits"),
    (r"\bcrisis|crises|incident", "Team/Crisis management"),
    (r"\bdrop[- ]?out|dropped out", "Team/Commitment and drop-out"),
    (r"\bmission\b", "Organization/Organisational commitment and support/Fit with the institution's mission"),
    (r"\bexperience[d]?\b|competen", "Therapist/Therapist competence and experience"),
    (r"\bmentaliz|reflective|not-knowing", "Therapist/Mentalizing stance"),
]
ALTERNATIVE = {  # coder2's occasional different reading of the same passage
    "Organization and team/Roles and leadership/Leadership": "Organization/Department management",
    "Team/Crisis management": "Team/Commitment and drop-out",
}


def load_demo_codings(session: Session, study: Study) -> list[Callable[[Session, Study], None]]:
    """Demo step (after the transcripts and the codebook): its parts, one interview's codings
    each, then the hand marks; ``demo.load_demo`` runs each in a writing transaction of its own
    (all at once the step held the write lock 5-30 s)."""
    counter = itertools.count(1)  # runs on over the interviews: coder2's misses and other readings
    parts: list[Callable[[Session, Study], None]] = [
        functools.partial(_code_interview, interview_id=interview.id, counter=counter) for interview in store.list_interviews(session, study)]
    return parts + [_mark_by_hand]


def _code_interview(session: Session, study: Study, interview_id: int, counter: Iterator[int]) -> None:
    """The two coders' codings of one interview (see the module docstring)."""
    coders = [spans.get_coder(session, "coder1"), spans.get_coder(session, "coder2")]
    codes = {path: codebook.get_code(session, study, path) for _, path in RULES}
    codes.update({p: codebook.get_code(session, study, p) for p in ALTERNATIVE.values()})
    compiled = [(re.compile(pattern, re.IGNORECASE), path) for pattern, path in RULES]
    interview = session.get(Interview, interview_id)
    turns = store.turns_of(session, interview)
    interviewer_turns = {t.ordinal for t in turns if t.role == "interviewer"}
    for sentence in store.sentences_of(session, interview):
        if sentence.turn_ordinal in interviewer_turns:
            continue
        text = interview.text[sentence.start : sentence.end]
        for pattern, path in compiled:
            if not pattern.search(text):
                continue
            number = next(counter)
            spans.apply_codes(session, interview, [codes[path]], coders[0], sentence.start, sentence.end)
            if number % 5 == 0:
                continue  # coder2 missed this one
            second = ALTERNATIVE.get(path, path) if number % 7 == 0 else path
            spans.apply_codes(session, interview, [codes[second]], coders[1], sentence.start, sentence.end)
            break


# A researcher's correction of the suggestion: this turn lies in the probe stage, but the question
# before it is an open one of no probe ("Was there a moment when you thought it could still be
# turned around?"), and Case A's manager answered on her own account.
HAND_MARKS = (("case-a-manager.txt", "could still be turned around", "spontaneous"),)


def _mark_by_hand(session: Session, study: Study) -> None:
    """Set the elicitation of the turns in :data:`HAND_MARKS` by hand (the turn after the quoted one)."""
    by_file = {i.file_name: i for i in store.list_interviews(session, study)}
    for file_name, words, value in HAND_MARKS:
        interview = by_file[file_name]
        turns = store.turns_of(session, interview)
        asked = next(t.ordinal for t in turns if t.role == "interviewer" and words in interview.text[t.text_start : t.end])
        if elicitation.codings_in_turn(session, interview, asked + 1):
            elicitation.set_turn_elicitation(session, study, interview, asked + 1, value, by=None)
