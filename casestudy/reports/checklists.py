"""Reporting checklists (COREQ, SRQR) filled from what the study holds, completed by hand.

The items are package data (``reports/checklists/<name>.yaml``, in Casestudy's own words). An
item with a ``fill`` is filled by the function of that name in :data:`FILLERS`, from one
:class:`StudyFacts` gathered for the study: it gives the value, where it comes from and what is
still missing. The researchers' own text for an item (:func:`save_answer`) is stored and
editable, and is the item's answer when given. Everything a checklist shows is fit for a
publication: respondents and organisations appear as counts and roles, cases by their public
labels, never by name.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import casestudy
from casestudy import access, ethics, shipped, signoffs, status
from casestudy import study as studies
from casestudy.access import Principal
from casestudy.db import check_version
from casestudy.errors import UserError
from casestudy.interviews import guide as interview_guide
from casestudy.models import (
    CHECKLISTS,
    ChecklistAnswer,
    Code,
    Coding,
    Interview,
    MaskedText,
    MemberCheckRound,
    Memo,
    ParagraphComment,
    ReviewResponse,
    Signoff,
    Study,
    User,
    utcnow,
)
from casestudy.panel import results as panel_results
from casestudy.reconstruction import narrative
from casestudy.reports import render

FOLDER = Path(__file__).with_name("checklists")
MAX_ANSWER_CHARS = 5_000
SATURATION = re.compile(r"saturat|verzadig", re.IGNORECASE)  # memos about saturation (English, Dutch)
GUIDE_MISSING = "no interview guide is recorded in the study; describe the guide (questions, probes, piloting) here"

FILLED, PARTIAL, BY_HAND, MISSING = "filled", "partly filled", "by hand", "missing"


@dataclass(frozen=True)
class ChecklistDefinition:
    name: str
    title: str
    reference: str
    items: tuple[dict, ...]


@functools.cache
def definition(name: str) -> ChecklistDefinition:
    """The shipped checklist ``name`` (UserError naming the available ones otherwise)."""
    import yaml

    name = (name or "").strip().lower()
    if name not in CHECKLISTS:
        raise UserError(f"unknown checklist {name!r}; choose one of: {', '.join(CHECKLISTS)}")
    data = yaml.safe_load(shipped.shipped_file(FOLDER, name, "checklist").read_text(encoding="utf-8"))
    return ChecklistDefinition(data["name"], data["title"], data["reference"], tuple(data["items"]))


# --- what the study holds -----------------------------------------------------------------
@dataclass
class StudyFacts:
    """What the checklists can say about one study, gathered once (counts, roles, public labels)."""

    title: str
    description: str
    levels: list[str]
    cases: list[str] = field(default_factory=list)  # public labels
    programme_types: list[str] = field(default_factory=list)
    respondents: int = 0
    roles: Counter = field(default_factory=Counter)
    perspectives: Counter = field(default_factory=Counter)
    withdrawn: int = 0  # respondents who withdrew a consent
    interviews: int = 0
    interviews_per_respondent: Counter = field(default_factory=Counter)  # respondent id -> interviews
    interviewers: list[str] = field(default_factory=list)
    observers: list[str] = field(default_factory=list)
    observed: int = 0  # interviews with an observer recorded
    durations: list[int] = field(default_factory=list)
    recorded: int = 0  # interviews with an audio reference
    noted: int = 0  # interviews with notes
    first_date: object = None
    last_date: object = None
    has_guide: bool = False
    guide_summary: str = ""  # e.g. "version 1: 9 open questions and 14 probes over 4 topics"
    coders: list[str] = field(default_factory=list)
    codings: int = 0
    codes: int = 0
    codes_by_level: Counter = field(default_factory=Counter)
    codes_by_origin: Counter = field(default_factory=Counter)
    saturation_memos: int = 0
    cases_sent: int = 0
    cases_agreed: int = 0
    answers: int = 0
    comments: int = 0
    quote_references: int = 0
    coding_references: int = 0
    released: int = 0
    required_signoffs: list[str] = field(default_factory=list)
    signoffs: int = 0
    ethics: ethics.Ethics | None = None


def study_facts(session: Session, study: Study) -> StudyFacts:
    """Gather :class:`StudyFacts` for the study (researchers' data, reduced to what may be published)."""
    facts = StudyFacts(study.title, study.description or "", list(study.levels))
    cases = studies.list_cases(session, study)
    facts.cases = [c.public_label for c in cases]
    facts.programme_types = sorted({comp.type for c in cases for comp in c.components if comp.type})
    for case in cases:
        for respondent in case.respondents:
            facts.respondents += 1
            facts.roles[respondent.role] += 1
            facts.perspectives[respondent.perspective] += 1
            facts.withdrawn += "withdrawn" in studies.consent_state(respondent).values()
    rows = session.execute(
        select(Interview.respondent_id, Interview.interviewer, Interview.observer, Interview.duration_minutes,
               Interview.audio_ref, Interview.notes, Interview.date).where(Interview.study_id == study.id)
    ).all()
    facts.interviews = len(rows)
    facts.interviews_per_respondent = Counter(r.respondent_id for r in rows)
    facts.interviewers = sorted({r.interviewer.strip() for r in rows if r.interviewer.strip()})
    facts.observers = sorted({r.observer.strip() for r in rows if r.observer.strip()})
    facts.observed = sum(1 for r in rows if r.observer.strip())
    facts.durations = sorted(r.duration_minutes for r in rows if r.duration_minutes)
    facts.recorded = sum(1 for r in rows if r.audio_ref.strip())
    facts.noted = sum(1 for r in rows if r.notes.strip())
    dates = sorted(r.date for r in rows if r.date)
    facts.first_date, facts.last_date = (dates[0], dates[-1]) if dates else (None, None)
    stored_guide = interview_guide.newest_guide(session, study)
    if stored_guide is not None:
        guide = interview_guide.guide_of(stored_guide)
        questions = sum(1 for item in guide.items() if item.kind == "open")
        facts.has_guide = True
        facts.guide_summary = (f"version {stored_guide.number}: {questions} open questions and {len(guide.items()) - questions} "
                               f"probes over {len(guide.topics)} topics")
    facts.coders = list(session.scalars(
        select(User.username).join(Coding, Coding.coder_id == User.id).where(Coding.study_id == study.id).distinct().order_by(User.username)))
    facts.codings = session.scalar(select(func.count(Coding.id)).where(Coding.study_id == study.id)) or 0
    for level, origin in session.execute(
        select(Code.level, Code.origin).where(Code.study_id == study.id, Code.codable, Code.status == "active")
    ):
        facts.codes += 1
        facts.codes_by_level[level] += 1
        facts.codes_by_origin[origin] += 1
    facts.saturation_memos = sum(1 for m in session.scalars(select(Memo).where(Memo.study_id == study.id))
                                 if SATURATION.search(f"{m.title} {m.text}"))
    case_ids = [c.id for c in cases]
    if case_ids:
        facts.cases_sent = session.scalar(select(func.count(func.distinct(MemberCheckRound.case_id)))
                                          .where(MemberCheckRound.case_id.in_(case_ids))) or 0
        responses = select(ReviewResponse.id).join(MemberCheckRound).where(MemberCheckRound.case_id.in_(case_ids))
        facts.answers = session.scalar(select(func.count()).select_from(
            responses.where(ReviewResponse.submitted_at.is_not(None)).subquery())) or 0
        facts.comments = session.scalar(select(func.count(ParagraphComment.id)).where(
            ParagraphComment.response_id.in_(responses), ParagraphComment.text != "")) or 0
    for case in cases:
        version = narrative.latest_version(session, case)
        if version is None:
            continue
        facts.cases_agreed += version.status == "agreed"
        facts.quote_references += version.text.count("[[quote:")
        facts.coding_references += version.text.count("[[coding:")
    facts.released = session.scalar(select(func.count(MaskedText.id)).where(
        MaskedText.study_id == study.id, MaskedText.status == "released")) or 0
    facts.required_signoffs = signoffs.required_kinds(session, study)
    facts.signoffs = session.scalar(select(func.count(Signoff.id)).where(Signoff.study_id == study.id)) or 0
    facts.ethics = ethics.get_ethics(session, study)
    return facts


# --- fillers: (value, source, missing) ------------------------------------------------------
Fill = tuple[str, str, str]
INTERVIEWS = "the interviews' records"


def _counts(counter: Counter) -> str:
    """'2 manager, 4 therapist': each value with its count, in alphabetical order."""
    return ", ".join(f"{n} {key}" for key, n in sorted(counter.items()))


def _interviewers(f: StudyFacts) -> Fill:
    if not f.interviews:
        return "", "", "no interviews imported yet"
    if not f.interviewers:
        return "", INTERVIEWS, f"no interviewer recorded for the {f.interviews} interviews"
    return f"interviews conducted by {', '.join(f.interviewers)}", INTERVIEWS, "their credentials and relation to the authors"


def _observers(f: StudyFacts) -> Fill:
    if not f.interviews:
        return "", "", "no interviews imported yet"
    if not f.observers:
        return "", INTERVIEWS, "no observer recorded for any interview; say whether anyone else was present"
    return (f"an observer ({', '.join(f.observers)}) attended {f.observed} of {f.interviews} interviews", INTERVIEWS,
            "" if f.observed == f.interviews else f"{f.interviews - f.observed} interviews have no observer recorded")


def _orientation(f: StudyFacts) -> Fill:
    return (f"multiple-case study of {len(f.cases)} cases, analysed on the levels {', '.join(f.levels)}",
            "the study's cases and levels", "the theory or paradigm behind it")


def _sampling(f: StudyFacts) -> Fill:
    if not f.respondents:
        return "", "", "no respondents recorded yet"
    return (f"per case respondents of different roles ({_counts(f.roles)}) and perspectives ({_counts(f.perspectives)})",
            "the cases' respondents", "how the cases and respondents were chosen")


def _sample_size(f: StudyFacts) -> Fill:
    if not f.respondents:
        return "", "", "no respondents recorded yet"
    return f"{f.respondents} respondents in {len(f.cases)} cases ({_counts(f.roles)})", "the cases' respondents", ""


def _non_participation(f: StudyFacts) -> Fill:
    if not f.respondents:
        return "", "", "no respondents recorded yet"
    not_interviewed = f.respondents - len(f.interviews_per_respondent)
    value = f"{f.withdrawn} of {f.respondents} respondents withdrew a consent; {not_interviewed} have no interview"
    return value, "consent records and interviews", "who declined before the study and why"


def _setting(f: StudyFacts) -> Fill:
    if not f.cases:
        return "", "", "no cases recorded yet"
    programmes = f"; programmes: {', '.join(f.programme_types)}" if f.programme_types else ""
    return f"{len(f.cases)} cases ({', '.join(f.cases)}){programmes}", "the cases and their programme components", \
        "where the interviews took place"


def _sample_description(f: StudyFacts) -> Fill:
    if not f.respondents:
        return "", "", "no respondents recorded yet"
    dates = f"; interviews from {f.first_date} to {f.last_date}" if f.first_date else ""
    return (f"roles: {_counts(f.roles)}; perspectives: {_counts(f.perspectives)}{dates}", "respondents and interviews",
            "" if f.first_date else "the interview dates")


def _interview_guide(f: StudyFacts) -> Fill:
    if f.has_guide:
        return (f"an interview guide is recorded in the study ({f.guide_summary})", "the study's interview guide",
                "whether the guide was piloted")
    return "", "", GUIDE_MISSING


def _repeat_interviews(f: StudyFacts) -> Fill:
    if not f.interviews:
        return "", "", "no interviews imported yet"
    repeated = sum(1 for n in f.interviews_per_respondent.values() if n > 1)
    value = (f"{repeated} respondents were interviewed more than once" if repeated
             else f"no repeat interviews ({f.interviews} interviews, one per respondent)")
    return value, INTERVIEWS, ""


def _recording(f: StudyFacts) -> Fill:
    if not f.interviews:
        return "", "", "no interviews imported yet"
    missing = "" if f.recorded == f.interviews else f"{f.interviews - f.recorded} interviews have no recording reference"
    return (f"{f.recorded} of {f.interviews} interviews have an audio recording" if f.recorded else "", INTERVIEWS,
            missing if f.recorded else "no audio reference recorded for any interview")


def _field_notes(f: StudyFacts) -> Fill:
    if not f.interviews:
        return "", "", "no interviews imported yet"
    if not f.noted:
        return "", INTERVIEWS, "no notes recorded with the interviews; say whether field notes were made"
    return f"notes were kept for {f.noted} of {f.interviews} interviews", INTERVIEWS, ""


def _duration(f: StudyFacts) -> Fill:
    if not f.interviews:
        return "", "", "no interviews imported yet"
    if not f.durations:
        return "", INTERVIEWS, "no interview duration recorded"
    middle = render.median_minutes(f.durations)
    value = (f"{f.durations[0]} minutes" if f.durations[0] == f.durations[-1]
             else f"{f.durations[0]}-{f.durations[-1]} minutes (median {middle:g})")
    missing = "" if len(f.durations) == f.interviews else f"{f.interviews - len(f.durations)} interviews have no duration"
    return value, INTERVIEWS, missing


def _saturation(f: StudyFacts) -> Fill:
    if not f.saturation_memos:
        return "", "memos", "no memo on saturation; say whether and how saturation was judged"
    return f"{status.plural(f.saturation_memos, 'memo')} on saturation", "memos mentioning saturation", "the conclusion on saturation"


def _member_check(f: StudyFacts) -> Fill:
    if not f.cases_sent:
        return "", "member check", "no reconstruction has been returned to the respondents yet"
    return (f"the reconstructions of {f.cases_sent} of {len(f.cases)} cases were returned to their respondents "
            f"(member check); {f.cases_agreed} agreed", "member-check rounds", "")


def _coders(f: StudyFacts) -> Fill:
    if not f.coders:
        return "", "", "nothing coded yet"
    return f"{status.plural(len(f.coders), 'coder')} ({', '.join(f.coders)}); {status.plural(f.codings, 'coding')}", "codings", ""


def _codebook(f: StudyFacts) -> Fill:
    if not f.codes:
        return "", "", "no codebook yet"
    return f"codebook of {f.codes} codes ({_counts(f.codes_by_level)})", "the study's codebook", ""


def _derivation(f: StudyFacts) -> Fill:
    if not f.codes:
        return "", "", "no codebook yet"
    return f"codes by origin: {_counts(f.codes_by_origin)}", "the codes' origin", "how themes were derived from the codes"


def _software(f: StudyFacts) -> Fill:
    return f"Casestudy {casestudy.__version__}", "this installation", ""


def _participant_checking(f: StudyFacts) -> Fill:
    if not f.cases_sent:
        return "", "member check", "no respondent has reviewed a reconstruction yet"
    return (f"{f.answers} answers and {f.comments} paragraph comments from respondents on the reconstructions",
            "member-check responses", "")


def _quotations(f: StudyFacts) -> Fill:
    total = f.quote_references + f.coding_references
    if not total:
        return "", "reconstructions", "no reconstruction cites the transcripts yet"
    return (f"the reconstructions cite {f.quote_references} quotations and {f.coding_references} coded segments",
            "evidence references in the latest versions", "how quotations are identified in the report")


def _title(f: StudyFacts) -> Fill:
    return f.title, "the study's title", "say that it is a qualitative (multiple-case) study"


def _purpose(f: StudyFacts) -> Fill:
    if not f.description.strip():
        return "", "the study's description", "the aim and research questions"
    return f.description.strip(), "the study's description", ""


def _ethics(f: StudyFacts) -> Fill:
    if f.ethics is None:
        return "", "", "no ethics status recorded (Study page or `casestudy ethics set`)"
    consent = " Consent is recorded per respondent and scope."
    return f.ethics.sentence + consent, "the study's ethics status and consent records", \
        "" if f.ethics.status != ethics.PENDING else "the decision of the ethics board"


def _data_collection(f: StudyFacts) -> Fill:
    if not f.interviews:
        return "", "", "no interviews imported yet"
    dates = f" from {f.first_date} to {f.last_date}" if f.first_date else ""
    return (f"{f.interviews} semi-structured interviews{dates}; member checks of the reconstructions "
            f"({f.cases_sent} cases)", "interviews and member-check rounds", "changes made along the way")


def _instruments(f: StudyFacts) -> Fill:
    value, _, _ = _recording(f)
    parts = [p for p in ("an interview guide" if f.has_guide else "", value, f"Casestudy {casestudy.__version__}") if p]
    return "; ".join(parts), "interviews and this installation", "" if f.has_guide else GUIDE_MISSING


def _units(f: StudyFacts) -> Fill:
    if not f.cases:
        return "", "", "no cases recorded yet"
    return f"{len(f.cases)} cases, {f.respondents} respondents ({_counts(f.roles)})", "cases and respondents", ""


def _processing(f: StudyFacts) -> Fill:
    if not f.interviews:
        return "", "", "no interviews imported yet"
    return (f"{f.interviews} transcripts imported with line numbers; {f.released} masked case texts released "
            "after a leak check", "interviews and masking", "who transcribed and how transcripts were checked")


def _analysis(f: StudyFacts) -> Fill:
    value, _, missing = _coders(f)
    book, _, _ = _codebook(f)
    return "; ".join(p for p in (value, book) if p), "codings and codebook", missing or "how themes were derived"


def _trustworthiness(f: StudyFacts) -> Fill:
    parts = []
    if f.cases_sent:
        parts.append(f"member checks ({f.cases_agreed} of {len(f.cases)} cases agreed)")
    if len(f.coders) > 1:
        parts.append(f"{len(f.coders)} coders")
    if f.required_signoffs:
        parts.append(f"sign-offs by a second researcher required for {', '.join(f.required_signoffs)} ({f.signoffs} given)")
    if f.observers:
        parts.append("an observer at the interviews")
    parts.append("an audit log of every change")
    return "; ".join(parts), "member check, coders, sign-offs, audit log", ""


FILLERS: dict[str, Callable[[StudyFacts], Fill]] = {
    "interviewers": _interviewers, "observers": _observers, "orientation": _orientation, "sampling": _sampling,
    "sample_size": _sample_size, "non_participation": _non_participation, "setting": _setting,
    "sample_description": _sample_description, "interview_guide": _interview_guide, "repeat_interviews": _repeat_interviews,
    "recording": _recording, "field_notes": _field_notes, "duration": _duration, "saturation": _saturation,
    "member_check": _member_check, "coders": _coders, "codebook": _codebook, "derivation": _derivation,
    "software": _software, "participant_checking": _participant_checking, "quotations": _quotations,
    "title": _title, "purpose": _purpose, "ethics": _ethics, "data_collection": _data_collection,
    "instruments": _instruments, "units": _units, "processing": _processing, "analysis": _analysis,
    "trustworthiness": _trustworthiness,
}


# --- the filled checklist ---------------------------------------------------------------------
@dataclass(frozen=True)
class ChecklistItem:
    key: str
    domain: str
    topic: str
    title: str
    ask: str
    value: str  # from the study
    source: str  # where the value comes from
    missing: str  # what is still missing
    manual: str = ""  # the researchers' own text
    manual_version: int | None = None

    @property
    def status(self) -> str:
        if self.manual:
            return BY_HAND
        if self.value:
            return PARTIAL if self.missing else FILLED
        return MISSING

    @property
    def answer(self) -> str:
        return self.manual or self.value

    def as_json(self) -> dict:
        return {"key": self.key, "domain": self.domain, "topic": self.topic, "title": self.title, "ask": self.ask,
                "value": self.value, "source": self.source, "missing": "" if self.manual else self.missing,
                "manual": self.manual, "manual_version": self.manual_version, "status": self.status, "answer": self.answer}


@dataclass(frozen=True)
class Checklist:
    name: str
    title: str
    reference: str
    items: tuple[ChecklistItem, ...]

    def counts(self) -> dict[str, int]:
        found = Counter(item.status for item in self.items)
        return {state: found.get(state, 0) for state in (FILLED, PARTIAL, BY_HAND, MISSING)}

    def as_json(self) -> dict:
        return {"checklist": self.name, "title": self.title, "reference": self.reference, "counts": self.counts(),
                "items": [item.as_json() for item in self.items]}


def fill(definition_: ChecklistDefinition, facts: StudyFacts, manual: dict[str, ChecklistAnswer] | None = None) -> Checklist:
    """The checklist filled from ``facts``, with the researchers' ``manual`` answers by item key."""
    manual = manual or {}
    items = []
    for spec in definition_.items:
        value, source, missing = FILLERS[spec["fill"]](facts) if spec.get("fill") else ("", "", "to be completed by hand")
        answer = manual.get(str(spec["key"]))
        items.append(ChecklistItem(str(spec["key"]), spec["domain"], spec["topic"], spec["title"], spec["ask"], value, source,
                                   missing, answer.text if answer else "", answer.version if answer else None))
    return Checklist(definition_.name, definition_.title, definition_.reference, tuple(items))


def _answers(session: Session, study: Study, name: str) -> dict[str, ChecklistAnswer]:
    rows = session.scalars(select(ChecklistAnswer).where(ChecklistAnswer.study_id == study.id, ChecklistAnswer.checklist == name))
    return {row.item: row for row in rows if row.text}


def study_checklist(session: Session, study: Study, principal: Principal | None, name: str) -> Checklist:
    """Checklist ``name`` of the study, for a researcher who may read the study (else AccessDenied)."""
    access.require_study_role(principal, study, "viewer")
    spec = definition(name)
    return fill(spec, study_facts(session, study), _answers(session, study, spec.name))


def save_answer(session: Session, study: Study, principal: Principal | None, name: str, item: str, text: str,
                expected_version: int | None = None) -> ChecklistAnswer:
    """Store the researchers' own text for one item (a coder or owner of the study); an empty text
    clears it, so the value from the study shows again. With ``expected_version``, a save over
    someone else's change is refused (``db.EditConflict``)."""
    principal = access.require_study_role(principal, study, "coder")
    spec = definition(name)
    keys = [str(i["key"]) for i in spec.items]
    item = str(item).strip().upper() if str(item).strip().upper() in keys else str(item).strip()
    if item not in keys:
        raise UserError(f"{spec.name.upper()} has no item {item!r}; items: {keys[0]}-{keys[-1]}")
    text = (text or "").strip()
    if len(text) > MAX_ANSWER_CHARS:
        raise UserError(f"an answer can hold at most {MAX_ANSWER_CHARS} characters")
    row = session.scalar(select(ChecklistAnswer).where(
        ChecklistAnswer.study_id == study.id, ChecklistAnswer.checklist == spec.name, ChecklistAnswer.item == item))
    if row is None:
        row = ChecklistAnswer(study_id=study.id, checklist=spec.name, item=item)
        session.add(row)
    else:
        check_version(row, expected_version, ("text",))
    row.text, row.updated_at, row.updated_by = text, utcnow(), principal.actor
    session.flush()
    return row


# --- export -------------------------------------------------------------------------------------
def checklist_tables(checklist: Checklist) -> list[render.ReportTable]:
    """One table per domain: item, what the study reports, where it comes from, what is missing."""
    tables = []
    for domain in dict.fromkeys(item.domain for item in checklist.items):
        rows = [[item.key, f"{item.title} ({item.topic})" if item.topic != item.title else item.title, item.answer or "—",
                 "by hand" if item.manual else item.source, "" if item.manual else item.missing]
                for item in checklist.items if item.domain == domain]
        tables.append(render.ReportTable(f"{checklist.name.upper()}: {domain}", ["No.", "Item", "Reported", "Source", "Missing"],
                                         rows, sheet=domain[:31]))
    tables[-1].notes.append(f"Note. Items paraphrased from {checklist.reference}")
    return tables


def methods_paragraph(session: Session, study: Study) -> str:
    """The study's methods paragraph as the checklist export carries it: the panel figures and
    the ethics sentence (Table 2 and the rankings come with their own exports)."""
    return render.methods_paragraph(panel_results.panel_figures(session, study), ethics=ethics.ethics_sentence(ethics.get_ethics(session, study)))


def export(checklist: Checklist, fmt: str, methods: str = "") -> str | bytes:
    """The checklist as Markdown or DOCX, after the methods paragraph (``methods``) when given."""
    if fmt not in ("md", "docx"):
        raise UserError(f"a checklist exports as md or docx, not {fmt!r}")
    paragraphs = [checklist.title, *([methods] if methods else [])]
    return render.render(checklist_tables(checklist), fmt, paragraphs=paragraphs)
