"""What one stage of the chain says about one case: the vocabulary of the study's progress.

Every stage that works per case exports ``stage_status(session, case) -> StageStatus``;
``reports.progress`` asks them in chain order and takes the earliest stage that is not done as
the case's open stage. A stage answers for itself only: it says what is left in its own stage
and who has to act, and never looks at later stages.
"""

from __future__ import annotations

from dataclasses import dataclass

NOT_STARTED = "not started"
OPEN = "open"
DONE = "done"
STATES = (NOT_STARTED, OPEN, DONE)

#: Who has to act next (``StageStatus.waiting_for``).
RESEARCHER = "researcher"
CODERS = "coders"
RESPONDENTS = "respondents"
EXPERTS = "experts"
SECOND_RESEARCHER = "second researcher"  # a sign-off by a researcher who is not the author


@dataclass(frozen=True)
class StageStatus:
    """One stage's state for one case.

    ``state`` is one of :data:`STATES`; ``summary`` is a short status text for the grid
    ("2 transcripts"); ``next_action`` says, for a stage that is not done, what happens next and
    who is waiting, in the stage's words ("member check round 2: waiting for the manager's
    answer"); ``waiting_for`` names who has to act (:data:`RESEARCHER`, :data:`CODERS`,
    :data:`RESPONDENTS`, :data:`EXPERTS`, :data:`SECOND_RESEARCHER`), empty when the stage is done.
    """

    state: str
    summary: str
    next_action: str = ""
    waiting_for: str = ""

    @property
    def done(self) -> bool:
        return self.state == DONE

    @property
    def started(self) -> bool:
        return self.state != NOT_STARTED


def not_started(next_action: str, waiting_for: str = RESEARCHER) -> StageStatus:
    return StageStatus(NOT_STARTED, NOT_STARTED, next_action, waiting_for)


def done(summary: str) -> StageStatus:
    return StageStatus(DONE, summary)


def still_open(summary: str, next_action: str, waiting_for: str = RESEARCHER) -> StageStatus:
    return StageStatus(OPEN, summary, next_action, waiting_for)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 transcript', '2 transcripts' (``nouns`` for an irregular plural)."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def names_and(names: list[str]) -> str:
    """'the manager', 'the manager and the therapist', 'a, b and c'."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
