"""The demo study: synthetic, modelled on the reference study's seven cases, loaded stage by stage.

Facts (programmes, outcomes) follow the reference study's Table 1; every name, organisation and
place is invented. :func:`demo_steps` lists the stages in chain order; each step takes
``(session, study)`` and adds its stage's demo data to the same study, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import config
from casestudy.db import Store
from casestudy.demo.cases import (
    DEMO_CASES,
    DEMO_TITLE,
    add_demo_members,
    ensure_demo_users,
    load_foundation,
)
from casestudy.errors import UserError
from casestudy.models import Study


def load_demo_codebook(session: Session, study: Study) -> None:
    """The shipped MBT implementation codebook."""
    from casestudy.codebook.exchange import load_shipped

    load_shipped(session, study, "mbt-implementation")


def demo_steps() -> list[Callable[[Session, Study], None]]:
    """The demo's stages in chain order (imported here, so plain library use stays light)."""
    from casestudy.demo.coding import load_demo_codings
    from casestudy.demo.focus import load_demo_focus_group
    from casestudy.demo.interviews import load_demo_interviews
    from casestudy.demo.masking import load_demo_register, release_agreed_demo
    from casestudy.demo.outcomes import load_demo_outcomes
    from casestudy.demo.panel import load_demo_delphi, load_demo_panel
    from casestudy.demo.reconstruction import load_demo_membercheck

    return [
        load_demo_interviews,  # the 14 transcripts in demo/data/
        load_demo_codebook,  # the shipped MBT implementation codebook
        load_demo_codings,  # two coders' codings of the transcripts
        load_demo_register,  # identity register for the demo names
        load_demo_membercheck,  # reconstructions and member-check rounds
        release_agreed_demo,  # masked, released agreed reconstructions
        load_demo_panel,  # questionnaire, 20 experts (12 submitted)
        load_demo_delphi,  # a second Delphi round: feedback, revisions with reasons
        load_demo_focus_group,  # Chapter 8: Case B's two periods, seven participants, consensus
        load_demo_outcomes,  # outcome descriptors, sustainment, determinants mapped to codes, recommendations, summaries
    ]


# What each step adds, as the progress of a load shows it.
STEP_LABELS = {
    "load_demo_interviews": "the 14 transcripts in demo/data/",
    "load_demo_codebook": "the shipped MBT implementation codebook",
    "load_demo_codings": "two coders' codings of the transcripts",
    "load_demo_register": "the identity register for the demo names",
    "load_demo_membercheck": "reconstructions and member-check rounds",
    "release_agreed_demo": "masked, released agreed reconstructions",
    "load_demo_panel": "the questionnaire and 20 experts (12 submitted)",
    "load_demo_delphi": "Delphi round 2: the panel's feedback and revisions with reasons",
    "load_demo_outcomes": "outcomes, determinants mapped to codes, recommendations and case summaries",
}


def load_demo(store: Store, force: bool = False, progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Load the demo into an empty database (or beside other studies with ``force``), in one transaction.

    The demo accounts (``ensure_demo_users``) become members of the demo study. ``progress``,
    when given, is called as ``progress(done, total, what)`` before each step (a page shows it
    while the load runs) and once more with ``done == total`` at the end.
    """
    steps = demo_steps()
    total = len(steps) + 1

    def report(done: int, what: str) -> None:
        if progress is not None:
            progress(done, total, what)

    with store.write("demo") as session:
        has_study = session.scalar(select(Study.id).limit(1)) is not None
        if has_study and not force:
            raise UserError("the database already holds a study; use --force to add the demo beside it")
        if session.scalar(select(Study.id).where(Study.title == DEMO_TITLE)) is not None:
            raise UserError("the demo study is already loaded")
        report(0, "cases, respondents and consent")
        ensure_demo_users(session)
        study = load_foundation(session)
        add_demo_members(session, study)
        for done, step in enumerate(steps, start=1):
            report(done, STEP_LABELS.get(step.__name__, step.__name__))
            step(session, study)
        report(total, "done")
        return {"study_id": study.id, "title": study.title, "cases": len(DEMO_CASES), "admin": config.DEMO_ADMIN_USERNAME}


def is_loaded(session: Session) -> bool:
    """Whether the demo study is in the database (the login page then says how to sign in to it)."""
    return session.scalar(select(Study.id).where(Study.title == DEMO_TITLE)) is not None


def load_demo_if_empty(store: Store, progress: Callable[[int, int, str], None] | None = None) -> bool:
    """Load the demo only into a database without any study; True when it was loaded."""
    with store.read() as session:
        if session.scalar(select(Study.id).limit(1)) is not None:
            return False
    load_demo(store, progress=progress)
    return True
