"""The demo study: synthetic, modelled on the reference study's seven cases, loaded stage by stage.

Facts (programmes, outcomes) follow the reference study's Table 1; every name, organisation and
place is invented. :func:`demo_steps` lists the stages in chain order; each step takes
``(session, study)`` and adds its stage's demo data to the same study. :func:`load_demo` runs
each step in a writing transaction of its own (other writers take turns between steps) and the
study counts as the demo only once the last step is in (:data:`LOADING_TITLE`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from casestudy import audit, config
from casestudy.db import Store
from casestudy.demo.cases import (
    DEMO_CASES,
    DEMO_TITLE,
    add_demo_members,
    ensure_demo_users,
    load_foundation,
)
from casestudy.errors import UserError
from casestudy.models import AuditEvent, Study


def load_demo_codebook(session: Session, study: Study) -> None:
    """The shipped MBT implementation codebook."""
    from casestudy.codebook.exchange import load_shipped

    load_shipped(session, study, "mbt-implementation")


def demo_steps() -> list[Callable[[Session, Study], list | None]]:
    """The demo's stages in chain order (imported here, so plain library use stays light).

    A stage too long for one short transaction returns its parts instead of doing all the work
    (e.g. ``load_demo_codings``: one part per interview), see :func:`load_demo`."""
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


# The demo study's title until its last step is in: a study so titled is a load under way or
# one that did not finish (is_loaded and load_demo_if_empty do not count it as the demo).
LOADING_TITLE = f"{DEMO_TITLE} - loading"
# Store.exclusive claim of the process that loads the demo (one at a time, per database).
LOAD_CLAIM = "demo-load"
ACTOR = "demo"  # of every write of a load (its audit events)


def load_demo(store: Store, force: bool = False, progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Load the demo into an empty database (or beside other studies with ``force``), step by step.

    Each step (each part of a step that returns parts) is a short writing transaction of its
    own, so other writers (an expert of another study saving) take turns between the steps
    (all in one transaction, a load held the write lock 15-170 s). Until the last one is in, the
    study is titled :data:`LOADING_TITLE`; if a step fails it is removed with every row hanging off it, and a
    load that did not finish at all (its process was killed) is removed by the next load. One
    process loads at a time (``Store.exclusive``); another one meanwhile is a UserError.

    The demo accounts (``ensure_demo_users``) become members of the demo study. ``progress``,
    when given, is called as ``progress(done, total, what)`` before each step (a page shows it
    while the load runs) and once more with ``done == total`` at the end.
    """
    steps = demo_steps()
    total = len(steps) + 1

    def report(done: int, what: str) -> None:
        if progress is not None:
            progress(done, total, what)

    with store.exclusive(LOAD_CLAIM) as mine:
        if not mine:
            raise UserError("the demo is being loaded by another process; wait until it is done")
        report(0, "cases, respondents and consent")
        with store.write(ACTOR) as session:
            remove_unfinished(session)
            if session.scalar(select(Study.id).limit(1)) is not None and not force:
                raise UserError("the database already holds a study; use --force to add the demo beside it")
            if is_loaded(session):
                raise UserError("the demo study is already loaded")
            ensure_demo_users(session)
            study = load_foundation(session, LOADING_TITLE)
            add_demo_members(session, study)
            study_id = study.id
        try:
            for done, step in enumerate(steps, start=1):
                report(done, STEP_LABELS.get(step.__name__, step.__name__))
                _run_step(store, step, study_id)
            with store.write(ACTOR) as session:
                if is_loaded(session):
                    raise UserError(f"a study titled {DEMO_TITLE!r} was created while the demo loaded; the demo was removed again")
                study = session.get(Study, study_id)
                study.title = DEMO_TITLE
        except BaseException:
            _remove_after_failure(store)
            raise
        report(total, "done")
        return {"study_id": study.id, "title": study.title, "cases": len(DEMO_CASES), "admin": config.DEMO_ADMIN_USERNAME}


def _run_step(store: Store, step: Callable, study_id: int) -> None:
    """One step in a writing transaction of its own; a step that returns parts (a list of steps)
    has them run after it the same way, in order, each in its own transaction."""
    pending = [step]
    while pending:
        with store.write(ACTOR) as session:
            parts = pending.pop(0)(session, session.get(Study, study_id))
        pending[:0] = parts or []


def remove_unfinished(session: Session) -> int:
    """Delete the demo studies whose load did not finish, with every row hanging off them (the
    schema's ON DELETE CASCADE, in the caller's transaction); returns how many. Only for the
    holder of :data:`LOAD_CLAIM`: anyone else could remove a load under way."""
    made_by_a_load = select(AuditEvent.id).where(AuditEvent.entity == "study", AuditEvent.action == "create",
                                                AuditEvent.entity_id == Study.id, AuditEvent.actor == ACTOR)
    # the title alone could be someone's study, named so by hand
    removed = list(session.scalars(select(Study.id).where(Study.title == LOADING_TITLE, made_by_a_load.exists())))
    for study_id in removed:
        session.execute(delete(Study).where(Study.id == study_id))
        audit.record(session, "study", "delete", study_id, study_id, reason="the demo load did not finish")
    return len(removed)


def _remove_after_failure(store: Store) -> None:
    """A failed load takes back what it wrote; if even that fails, the next load removes it."""
    try:
        with store.write(ACTOR) as session:
            remove_unfinished(session)
    except Exception:  # noqa: BLE001 - the load's own failure is the one to report
        pass


def is_loaded(session: Session) -> bool:
    """Whether the demo study is in the database, completely (the login page then says how to sign in to it)."""
    return session.scalar(select(Study.id).where(Study.title == DEMO_TITLE)) is not None


def load_demo_if_empty(store: Store, progress: Callable[[int, int, str], None] | None = None) -> bool:
    """Load the demo only into a database without any study (a demo load that did not finish
    does not count); True when it was loaded."""
    with store.read() as session:
        if session.scalar(select(Study.id).where(Study.title != LOADING_TITLE).limit(1)) is not None:
            return False
    load_demo(store, progress=progress)
    return True
