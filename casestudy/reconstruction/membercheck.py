"""The member check: every respondent of a case reviews the reconstruction until all agree.

States of a case (see :func:`case_state`)::

    no version -> draft -> under review (round N) -> changes requested -> (new version) draft -> ...
                                                  -> agreed (version locked, final_text consent recorded)
    agreed -> reopened   when a respondent withdraws member_check or final_text consent,
                         or a respondent is added who has not agreed

Rules enforced here (not in the pages):
- only the latest version can be sent; sending opens round N+1 and issues one link per respondent;
- saving a new version supersedes the old one and closes its round: nobody can agree to it any more;
- a case is agreed when every current respondent submitted "agree" on the same content hash in the
  same round; the version is then locked and a final_text consent is recorded per respondent;
- respondent functions take the :class:`~casestudy.access.Principal` and return only that
  respondent's own case, the version under review and their own comments.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import access, audit, signoffs
from casestudy import status as chain_status
from casestudy import study as studies
from casestudy.access import AccessDenied, Principal
from casestudy.errors import UserError
from casestudy.models import (
    Case,
    ConsentRecord,
    MemberCheckRound,
    ParagraphComment,
    ReconstructionVersion,
    Respondent,
    ReviewResponse,
    Study,
    utcnow,
)
from casestudy.reconstruction import narrative
from casestudy.reconstruction import references as reconstruction_references
from casestudy.reconstruction import signoff as reconstruction_signoff
from casestudy.reconstruction.constants import DEFAULT_BASE_URL
from casestudy.status import StageStatus

DECISION_LABELS = {"none": "not decided", "agree": "agrees", "changes_needed": "changes needed"}
MAX_COMMENT_CHARS = 20_000


# --- rounds ---------------------------------------------------------------------------
def rounds_of(session: Session, case: Case) -> list[MemberCheckRound]:
    return list(session.scalars(select(MemberCheckRound).where(MemberCheckRound.case_id == case.id).order_by(MemberCheckRound.number)))


def latest_round(session: Session, case: Case) -> MemberCheckRound | None:
    return session.scalar(
        select(MemberCheckRound).where(MemberCheckRound.case_id == case.id).order_by(MemberCheckRound.number.desc()).limit(1)
    )


def open_round(session: Session, case: Case) -> MemberCheckRound | None:
    latest = latest_round(session, case)
    return latest if latest is not None and latest.closed_at is None else None


def responses_of(session: Session, round_: MemberCheckRound) -> list[ReviewResponse]:
    return list(session.scalars(select(ReviewResponse).where(ReviewResponse.round_id == round_.id).order_by(ReviewResponse.id)))


def _response(session: Session, round_: MemberCheckRound, respondent: Respondent, channel: str = "link", create: bool = True) -> ReviewResponse | None:
    response = session.scalar(
        select(ReviewResponse).where(ReviewResponse.round_id == round_.id, ReviewResponse.respondent_id == respondent.id)
    )
    if response is None and create:
        response = ReviewResponse(round_id=round_.id, respondent_id=respondent.id, channel=channel)
        session.add(response)
        session.flush()
    return response


@dataclass
class SentLink:
    respondent: str
    role: str
    token_id: int
    link: str


@dataclass
class SendResult:
    case: str
    round: int
    version: int
    content_hash: str
    links: list[SentLink] = field(default_factory=list)


def send_to_member_check(
    session: Session,
    case: Case,
    actor: str,
    version_number: int | None = None,
    base_url: str = DEFAULT_BASE_URL,
    expires_in_days: int = 90,
) -> SendResult:
    """Open the next round on the latest version and issue one link per respondent.

    Refused (UserError) while the study requires a second researcher's sign-off of the version
    and it has none that matches the version's text (:mod:`casestudy.reconstruction.signoff`).

    The link secrets are in the result only: they are shown once and never stored. Each
    respondent's earlier links are revoked; ``expires_in_days`` is 1..``access.MAX_LINK_DAYS``.
    """
    access.check_link_days(expires_in_days)
    version = narrative.latest_version(session, case)
    if version is None:
        raise UserError(f"{case.public_label} has no saved version yet; save the reconstruction as a version first")
    if version_number is not None and int(version_number) != version.number:
        raise UserError(f"only the latest version ({version.number}) of {case.public_label} can be sent; version {version_number} is superseded")
    if agreed_version(session, case) is not None:
        raise UserError(f"{case.public_label} is already agreed on version {version.number}")
    current = open_round(session, case)
    if current is not None:
        raise UserError(f"version {version.number} of {case.public_label} is already under review in round {current.number}")
    respondents = list(case.respondents)
    if not respondents:
        raise UserError(f"{case.public_label} has no respondents to review the reconstruction")
    reconstruction_signoff.require_before_member_check(session, version)
    missing = [r.name for r in respondents if studies.consent_state(r)["member_check"] != "given"]
    if missing:
        raise UserError(f"record member_check consent first; missing for: {', '.join(missing)}")
    previous = latest_round(session, case)
    round_ = MemberCheckRound(case_id=case.id, version_id=version.id, number=(previous.number + 1) if previous else 1, opened_by=actor)
    session.add(round_)
    version.status, version.locked, version.agreed_at = "under_review", False, None
    session.flush()
    result = SendResult(case.public_label, round_.number, version.number, version.content_hash)
    for respondent in respondents:
        token, secret, _ = access.issue_respondent_link(
            session, respondent, expires_in_days,
            label=f"{case.public_label} member check round {round_.number} ({respondent.role})",
        )
        result.links.append(SentLink(respondent.name, respondent.role, token.id, f"{base_url.rstrip('/')}/?token={secret}"))
    return result


# --- the respondent's side (always through a Principal) -------------------------------
def _respondent_of(session: Session, principal: Principal | None) -> Respondent:
    principal = access.require_kind(principal, access.RESPONDENT)
    respondent = session.get(Respondent, principal.subject_id)
    if respondent is None or (principal.study_id is not None and respondent.case.study_id != principal.study_id):
        raise AccessDenied(access.INVALID_LINK, principal, "stale link")
    return respondent


@dataclass
class ReviewView:
    """Everything a respondent may see: their case's version under review and their own answers."""

    case: str
    state: str  # waiting, open, submitted, agreed, withdrawn
    message: str = ""
    round: int | None = None
    version: int | None = None
    content_hash: str = ""
    paragraphs: list[str] = field(default_factory=list)
    comments: dict[int, str] = field(default_factory=dict)
    general_comment: str = ""
    decision: str = "none"
    submitted_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


def review_for(session: Session, principal: Principal) -> ReviewView:
    respondent = _respondent_of(session, principal)
    case = respondent.case
    view = ReviewView(case=case.public_label, state="waiting")
    if studies.consent_state(respondent)["member_check"] == "withdrawn":
        view.state, view.message = "withdrawn", "You withdrew your consent for the member check; nothing is shown here."
        return view
    round_ = latest_round(session, case)
    if round_ is None:
        view.message = "The reconstruction of your case is not ready for review yet."
        return view
    agreed = round_.closed_at is not None and round_.version.status == "agreed"
    if round_.closed_at is not None and not agreed:
        view.message = "Thank you: a revised version is being prepared. You will receive it for review."
        return view
    version = round_.version
    response = _response(session, round_, respondent, create=False)
    if agreed and response is None:  # joined after the agreement: nothing of theirs to show yet
        view.message = "The reconstruction of your case is not ready for your review yet."
        return view
    view.round, view.version, view.content_hash = round_.number, version.number, version.content_hash
    view.paragraphs = [reconstruction_references.strip_references(p) for p in narrative.paragraphs(version.text)]
    if response is not None:
        view.comments = {c.paragraph_index: c.text for c in response.comments if c.text}
        view.general_comment, view.decision = response.general_comment, response.decision
        view.submitted_at, view.updated_at = response.submitted_at, response.updated_at
    if agreed:
        view.state, view.message = "agreed", "Everyone agreed on this version. Thank you for your review."
    elif response is not None and response.submitted_at is not None:
        view.state, view.message = "submitted", "Your answer has been received. Thank you."
    else:
        view.state = "open"
    return view


def _open_response_for(session: Session, principal: Principal) -> tuple[Respondent, MemberCheckRound, ReviewResponse]:
    respondent = _respondent_of(session, principal)
    if studies.consent_state(respondent)["member_check"] == "withdrawn":
        raise UserError("you withdrew your consent for the member check")
    round_ = open_round(session, respondent.case)
    if round_ is None:
        raise UserError("there is no version open for your review at the moment")
    response = _response(session, round_, respondent)
    if response.submitted_at is not None:
        raise UserError("your answer for this version has already been submitted")
    return respondent, round_, response


def _set_comment(response: ReviewResponse, version: ReconstructionVersion, index: int, text: str) -> None:
    parts = narrative.paragraphs(version.text)
    if not 0 <= index < len(parts):
        raise UserError(f"there is no paragraph {index + 1} in this version")
    text = (text or "").strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise UserError(f"a comment can hold at most {MAX_COMMENT_CHARS} characters")
    existing = next((c for c in response.comments if c.paragraph_index == index), None)
    now = utcnow()
    if existing is None:
        if text:
            response.comments.append(
                ParagraphComment(paragraph_index=index, paragraph_hash=narrative.paragraph_hash(parts[index]), text=text, updated_at=now)
            )
    elif existing.text != text:
        existing.text, existing.updated_at = text, now
    response.updated_at = now


def save_comment(session: Session, principal: Principal, paragraph_index: int, text: str) -> None:
    """Autosave one paragraph comment (an empty text clears it)."""
    _, round_, response = _open_response_for(session, principal)
    _set_comment(response, round_.version, int(paragraph_index), text)
    session.flush()


def save_general_comment(session: Session, principal: Principal, text: str) -> None:
    _, _, response = _open_response_for(session, principal)
    text = (text or "").strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise UserError(f"a comment can hold at most {MAX_COMMENT_CHARS} characters")
    if response.general_comment != text:
        response.general_comment, response.updated_at = text, utcnow()
    session.flush()


def submit_decision(session: Session, principal: Principal, decision: str, version_hash: str | None = None) -> str:
    """'agree' or 'changes_needed' on the open version; returns the case state afterwards.

    ``version_hash`` (the hash the respondent's page showed) guards against agreeing to a text
    that was replaced while the page was open."""
    respondent, round_, response = _open_response_for(session, principal)
    _decide(session, round_, respondent, response, decision, version_hash)
    return case_state(session, respondent.case).state


def _decide(session, round_, respondent, response, decision: str, version_hash: str | None) -> None:
    version = round_.version
    if round_.closed_at is not None or version.status != "under_review":
        raise UserError(f"version {version.number} has been superseded; it can no longer be agreed to")
    if version_hash is not None and version_hash != version.content_hash:
        raise UserError("the text changed since you opened this page; reload to see the current version")
    decision = (decision or "").strip().lower().replace(" ", "_").replace("-", "_")
    if decision not in ("agree", "changes_needed"):
        raise UserError("choose 'agree' or 'changes_needed'")
    if decision == "changes_needed" and not response.general_comment.strip() and not any(c.text for c in response.comments):
        raise UserError("please say what should change: add a comment to a paragraph or a general comment")
    now = utcnow()
    response.decision, response.submitted_at, response.updated_at = decision, now, now
    response.version_hash = version.content_hash
    session.flush()
    _settle_agreement(session, respondent.case, round_)


def _settle_agreement(session: Session, case: Case, round_: MemberCheckRound) -> bool:
    """Lock the version once every current respondent agreed to the same hash in this round."""
    version = round_.version
    responses = {r.respondent_id: r for r in responses_of(session, round_)}
    respondents = list(case.respondents)
    for respondent in respondents:
        response = responses.get(respondent.id)
        if response is None or response.decision != "agree" or response.submitted_at is None:
            return False
        if response.version_hash != version.content_hash:
            return False
        if studies.consent_state(respondent)["member_check"] != "given":
            return False
    now = utcnow()
    today = now.date()
    for respondent in respondents:
        record = studies.record_consent(
            session, respondent, "final_text", today,
            note=f"agreed to version {version.number} of the reconstruction (sha256 {version.content_hash})",
        )
        responses[respondent.id].consent_id = record.id
    version.status, version.locked, version.agreed_at = "agreed", True, now
    round_.closed_at = now
    session.flush()
    audit.record(session, "reconstruction_version", "agreed", entity_id=version.id, study_id=case.study_id,
                 case=case.public_label, number=version.number, content_hash=version.content_hash, round=round_.number)
    return True


def printable_review(view: ReviewView) -> str:
    """A self-contained HTML copy of a respondent's reviewed version with their own answers."""
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(view.case)}, version {view.version}</title></head>",
             "<body style='font-family:serif;max-width:42em;margin:2em auto'>",
             f"<h1>{esc(view.case)}: reconstruction, version {view.version}</h1>",
             f"<p><em>Fingerprint {esc(view.content_hash[:12])}. Your answer: {esc(DECISION_LABELS.get(view.decision, view.decision))}"
             + (f", sent {view.submitted_at:%Y-%m-%d %H:%M} UTC" if view.submitted_at else "") + ".</em></p>"]
    for index, paragraph in enumerate(view.paragraphs):
        parts.append(f"<p><strong>[{index + 1}]</strong> {esc(paragraph.lstrip('#').strip())}</p>")
        if view.comments.get(index):
            parts.append(f"<blockquote>Your comment: {esc(view.comments[index])}</blockquote>")
    if view.general_comment:
        parts.append(f"<p><strong>Your general comment:</strong> {esc(view.general_comment)}</p>")
    return "".join(parts) + "</body></html>"


# --- the researcher's side ------------------------------------------------------------
def parse_comments(text: str) -> dict[int, str]:
    """Returned offline comments: lines '3: text' (paragraph numbers as printed, from 1).

    A line without a number continues the previous comment."""
    comments: dict[int, str] = {}
    current = None
    for line in (text or "").splitlines():
        head, sep, rest = line.partition(":")
        if sep and head.strip().lstrip("¶#").strip().isdigit():
            current = int(head.strip().lstrip("¶#").strip())
            if current < 1:
                raise UserError("paragraph numbers start at 1")
            comments[current] = (comments.get(current, "") + "\n" + rest.strip()).strip()
        elif line.strip():
            if current is None:
                raise UserError(f"cannot tell which paragraph this comment belongs to: {line.strip()[:60]!r}; start lines with 'N:'")
            comments[current] = (comments[current] + "\n" + line.strip()).strip()
    return comments


def record_offline_response(
    session: Session,
    case: Case,
    respondent: Respondent,
    decision: str,
    general_comment: str = "",
    comments: dict[int, str] | None = None,
) -> ReviewResponse:
    """Record what a respondent returned on paper or by mail (paragraph numbers from 1)."""
    if respondent.case_id != case.id:
        raise UserError(f"{respondent.name} is not a respondent of {case.public_label}")
    round_ = open_round(session, case)
    if round_ is None:
        raise UserError(f"{case.public_label} has no version under review; send one first")
    response = _response(session, round_, respondent, channel="offline")
    if response.submitted_at is not None:
        raise UserError(f"{respondent.name} already answered in round {round_.number}")
    response.channel = "offline"
    for number, text in (comments or {}).items():
        _set_comment(response, round_.version, int(number) - 1, text)
    response.general_comment = (general_comment or "").strip()
    session.flush()
    _decide(session, round_, respondent, response, decision, None)
    return response


def mark_processed(session: Session, case: Case, comment_id: int, how: str, actor: str, processed: bool = True) -> ParagraphComment:
    comment = session.get(ParagraphComment, int(comment_id))
    if comment is None or comment.response.round.case_id != case.id:
        raise UserError(f"{case.public_label} has no comment {comment_id}")
    how = (how or "").strip()
    if processed and not how:
        raise UserError("say how the comment was processed (e.g. 'rephrased paragraph 3')")
    comment.processed = processed
    comment.processed_how = how if processed else ""
    comment.processed_by = actor if processed else ""
    comment.processed_at = utcnow() if processed else None
    session.flush()
    return comment


def comment_record(comment: ParagraphComment, respondent: Respondent, version: ReconstructionVersion, round_number: int) -> dict:
    parts = narrative.paragraphs(version.text)
    index = comment.paragraph_index
    paragraph = parts[index] if index < len(parts) else ""
    return {
        "id": comment.id,
        "round": round_number,
        "version": version.number,
        "respondent": respondent.name,
        "paragraph": index + 1,
        "paragraph_start": reconstruction_references.strip_references(paragraph)[:80],
        "text": comment.text,
        "processed": comment.processed,
        "processed_how": comment.processed_how,
        "processed_by": comment.processed_by,
    }


def dashboard(session: Session, case: Case) -> dict:
    """The researcher's view of one case: round, version, who answered, comments."""
    state = case_state(session, case)
    round_ = latest_round(session, case)
    answers = []
    comments = []
    if round_ is not None:
        for respondent in case.respondents:
            response = _response(session, round_, respondent, create=False)
            answers.append(
                {
                    "respondent": respondent.name,
                    "role": respondent.role,
                    "channel": response.channel if response else "",
                    "decision": response.decision if response else "none",
                    "submitted_at": response.submitted_at if response else None,
                    "last_change": response.updated_at if response else None,
                    "general_comment": response.general_comment if response else "",
                    "comments": sum(1 for c in response.comments if c.text) if response else 0,
                }
            )
    by_id = {r.id: r for r in case.respondents}
    for past in rounds_of(session, case):
        for response in responses_of(session, past):
            for comment in response.comments:
                if comment.text:
                    comments.append(comment_record(comment, by_id[response.respondent_id], past.version, past.number))
    return {
        "case": case.public_label,
        "state": state.state,
        "detail": state.detail,
        "round": round_.number if round_ else None,
        "round_open": bool(round_ and round_.closed_at is None),
        "version": round_.version.number if round_ else None,
        "answers": answers,
        "open_comments": [c for c in comments if not c["processed"]],
        "comments": comments,
    }


# --- state ----------------------------------------------------------------------------
@dataclass
class CaseState:
    case: str
    state: str  # no version, draft, under review, changes requested, agreed, reopened
    detail: str = ""
    version: int | None = None
    round: int | None = None
    answered: int = 0
    respondents: int = 0
    agreed_version: int | None = None
    content_hash: str = ""


def _agreement_problems(session: Session, case: Case, version: ReconstructionVersion) -> list[str]:
    """Why an agreed version no longer counts (empty list: it still holds)."""
    round_ = session.scalar(
        select(MemberCheckRound)
        .where(MemberCheckRound.case_id == case.id, MemberCheckRound.version_id == version.id)
        .order_by(MemberCheckRound.number.desc())
        .limit(1)
    )
    if round_ is None:
        return ["no round"]
    responses = {r.respondent_id: r for r in responses_of(session, round_)}
    problems = []
    for respondent in case.respondents:
        response = responses.get(respondent.id)
        if response is None or response.decision != "agree" or response.version_hash != version.content_hash:
            problems.append(f"{respondent.name} has not agreed to version {version.number}")
            continue
        if studies.consent_state(respondent)["member_check"] == "withdrawn":
            problems.append(f"{respondent.name} withdrew member_check consent")
        consent = session.get(ConsentRecord, response.consent_id) if response.consent_id else None
        if consent is None or consent.withdrawn_on is not None:
            problems.append(f"{respondent.name} withdrew final_text consent")
    return problems


def agreed_version(session: Session, case: Case) -> ReconstructionVersion | None:
    """The version every current respondent agreed to and still consents to; None otherwise.

    The masking stage starts only from this version."""
    version = narrative.latest_version(session, case)
    if version is None or version.status != "agreed" or _agreement_problems(session, case, version):
        return None
    return version


def require_agreed_version(session: Session, case: Case) -> ReconstructionVersion:
    version = agreed_version(session, case)
    if version is None:
        raise UserError(f"{case.public_label} has no agreed reconstruction yet: {case_state(session, case).detail}")
    return version


def masking_source(session: Session, case: Case) -> dict:
    """What the masking stage starts from: the agreed text (evidence references removed, since
    they point into transcripts), a source reference and the agreed version's hash.

    Raises UserError while the case has no agreed version."""
    version = require_agreed_version(session, case)
    return {
        "text": reconstruction_references.strip_references(version.text),
        "source_ref": f"reconstruction_version:{version.id}",
        "version": version.number,
        "content_hash": version.content_hash,
    }


def case_state(session: Session, case: Case) -> CaseState:
    version = narrative.latest_version(session, case)
    respondents = len(case.respondents)
    if version is None:
        return CaseState(case.public_label, "no version", "no version saved yet", respondents=respondents)
    state = CaseState(case.public_label, "draft", f"version {version.number} not sent yet", version=version.number,
                      respondents=respondents, content_hash=version.content_hash)
    round_ = latest_round(session, case)
    if round_ is not None and round_.version_id == version.id:
        state.round = round_.number
        state.answered = sum(1 for r in responses_of(session, round_) if r.submitted_at is not None)
    if version.status == "agreed":
        problems = _agreement_problems(session, case, version)
        if problems:
            state.state, state.detail = "reopened", "; ".join(problems)
        else:
            state.state, state.agreed_version = "agreed", version.number
            state.detail = f"all {respondents} respondents agreed to version {version.number}"
        return state
    if version.status == "under_review" and round_ is not None and round_.closed_at is None:
        changes = [r for r in responses_of(session, round_) if r.submitted_at is not None and r.decision == "changes_needed"]
        state.state = "changes requested" if changes else "under review"
        state.detail = f"round {round_.number}: {state.answered} of {respondents} answered"
    return state


def status_all(session: Session, study: Study) -> list[CaseState]:
    return [case_state(session, case) for case in studies.list_cases(session, study)]


def _who(respondents: list[Respondent]) -> str:
    """'the manager', 'the manager and the therapist', 'the 2 therapists' (by role, as the
    researcher thinks of them)."""
    roles: dict[str, int] = {}
    for respondent in respondents:
        roles[respondent.role] = roles.get(respondent.role, 0) + 1
    return chain_status.names_and([f"the {role}" if n == 1 else f"the {n} {role}s" for role, n in roles.items()])


def stage_status(session: Session, case: Case) -> StageStatus:
    """Done when every respondent agreed to the latest version (and still consents); otherwise
    who has to act: the researcher (send, revise) or the respondents who have not answered."""
    state = case_state(session, case)
    if state.state == "agreed":
        return chain_status.done(f"agreed (version {state.agreed_version})")
    if state.state == "reopened":
        return chain_status.still_open("reopened", f"member check: {state.detail}; revise and send again")
    if state.state == "no version":
        return chain_status.not_started("member check: save a version of the reconstruction first")
    if state.state == "draft" and (waiting := _signoff_wait(session, case)) is not None:
        return waiting if state.round is not None else chain_status.not_started(waiting.next_action, waiting.waiting_for)
    if state.round is None:
        return chain_status.not_started(f"member check: send version {state.version} to the respondents")
    summary = f"round {state.round}: {state.answered}/{state.respondents} answered"
    if state.state == "draft":
        return chain_status.still_open("revising", f"member check: send version {state.version} to the respondents")
    round_ = latest_round(session, case)
    answered = {r.respondent_id for r in responses_of(session, round_) if r.submitted_at is not None}
    if state.state == "changes requested":
        asked = [r for r in responses_of(session, round_) if r.submitted_at is not None and r.decision == "changes_needed"]
        who = _who([session.get(Respondent, r.respondent_id) for r in asked])
        return chain_status.still_open(
            summary, f"member check round {state.round}: {who} asked for changes; revise and save a new version"
        )
    waiting = [r for r in case.respondents if r.id not in answered]
    answers = "answer" if len(waiting) == 1 else "answers"
    return chain_status.still_open(
        summary, f"member check round {state.round}: waiting for {_who(waiting)}'s {answers}".replace("s's ", "s' "),
        chain_status.RESPONDENTS,
    )


def _signoff_wait(session: Session, case: Case) -> StageStatus | None:
    """While the latest version waits for a required sign-off: the open status saying so."""
    version = narrative.latest_version(session, case)
    target = reconstruction_signoff.target(session, version)
    state = signoffs.state_of(session, target)
    if state not in (signoffs.AWAITING, signoffs.INVALIDATED):
        return None
    return chain_status.still_open(
        "awaiting sign-off", f"member check: version {version.number} awaits a sign-off by a second researcher before it is sent",
        chain_status.SECOND_RESEARCHER,
    )
