"""Who is asking: researchers (by login) and respondents or experts (by token link).

Every restricted read in the library takes a :class:`Principal` and checks it here, so privacy
holds whatever page or command asks. The UI re-resolves the principal on every rerun, so a
revoked token or a deactivated account loses access at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from casestudy import audit, config, logs, security, users
from casestudy import study as studies
from casestudy.db import Store
from casestudy.errors import UserError
from casestudy.models import (
    STUDY_ROLES,
    TOKEN_PURPOSES,
    AccessToken,
    AuditEvent,
    FocusParticipant,
    Respondent,
    Study,
    User,
    utcnow,
)

RESEARCHER = "researcher"
RESPONDENT = "respondent"
EXPERT = "expert"
PARTICIPANT = "participant"  # a focus-group participant (token purpose and principal kind)
INVALID_LINK = "this link is not valid: it may have expired or been revoked; ask the research team for a new one"


class AccessDenied(UserError):
    """Raised when a principal asks for something outside its role.

    It carries the principal so the boundary that catches it (a page guard, ``user_errors``)
    can log the refusal with :func:`log_refusal` after the refused transaction has ended.
    """

    def __init__(self, message: str, principal: Principal | None = None, what: str = ""):
        super().__init__(message)
        self.principal = principal
        self.what = what


@dataclass(frozen=True)
class Principal:
    kind: str  # researcher, respondent, expert or participant
    subject_id: int  # user id, respondent id, panel member id or focus participant id
    name: str
    role: str = ""  # admin / coder / viewer for researchers
    study_id: int | None = None  # a link's study; for a researcher, the study the request works on
    token_id: int | None = None
    study_role: str = ""  # a researcher's role in ``study_id`` (owner / coder / viewer), once scoped

    def in_study(self, study_id: int, study_role: str) -> Principal:
        """This researcher scoped to one study: edit rights then follow the membership role."""
        return dataclasses.replace(self, study_id=study_id, study_role=study_role)

    @property
    def is_researcher(self) -> bool:
        return self.kind == RESEARCHER

    @property
    def can_edit(self) -> bool:
        """An administrator, or a coder: in a study, by membership role; unscoped, by global role."""
        if self.kind != RESEARCHER:
            return False
        if self.role == "admin":
            return True
        return self.study_role in ("owner", "coder") if self.study_role else self.role == "coder"

    @property
    def is_admin(self) -> bool:
        return self.kind == RESEARCHER and self.role == "admin"

    @property
    def actor(self) -> str:
        """How this principal appears in the audit log."""
        return f"{self.kind}:{self.name}" if self.kind != RESEARCHER else self.name


def require_researcher(principal: Principal | None, *, edit: bool = False, admin: bool = False) -> Principal:
    if principal is None or not principal.is_researcher:
        raise AccessDenied("this page is for the research team only", principal, "researcher only")
    if admin and not principal.is_admin:
        raise AccessDenied("only an administrator can do this", principal, "admin only")
    if edit and not principal.can_edit:
        raise AccessDenied("your account can only view; ask an administrator for coder rights", principal, "edit")
    return principal


def require_kind(principal: Principal | None, kind: str) -> Principal:
    if principal is None or principal.kind != kind:
        raise AccessDenied(f"this page is only for {kind}s with a valid link", principal, f"{kind} only")
    return principal


def require_study_role(principal: Principal | None, study: Study, minimum: str = "viewer") -> Principal:
    """Let a researcher work on ``study`` only with at least the ``minimum`` role in it.

    Roles rank viewer < coder < owner; the server administrator passes for every study. Returns
    the principal scoped to the study (:meth:`Principal.in_study`, so ``can_edit`` follows the
    membership). A researcher who is not a member, or whose role is too weak, gets
    :class:`AccessDenied` whose principal is scoped to the refused study, so the boundary's
    :func:`log_refusal` records which study was asked for.
    The study comes from the server's choice (the principal's current study), never from trust
    in the client: whatever id a URL or an argument names, this check decides.
    """
    principal = require_researcher(principal)
    if minimum not in STUDY_ROLES:
        raise ValueError(f"unknown study role {minimum!r}")
    if principal.is_admin:
        return principal.in_study(study.id, "owner")
    role = studies.study_role(object_session(study), study.id, principal.subject_id)
    scoped = principal.in_study(study.id, role or "")
    if role is None:
        raise AccessDenied("you are not a member of this study; ask its owner or the administrator to add you",
                           scoped, f"study {study.id}: not a member")
    if STUDY_ROLES.index(role) < STUDY_ROLES.index(minimum):
        raise AccessDenied(f"you are a {role} of this study; this needs the role {minimum} (ask the study's owner)",
                           scoped, f"study {study.id}: {role}, needs {minimum}")
    return scoped


def require_study_owner(principal: Principal | None, study: Study) -> Principal:
    """The owner-level guard: :func:`require_study_role` with ``minimum="owner"``."""
    return require_study_role(principal, study, "owner")


SIGNER_ROLES = ("owner", "coder")  # the study roles that may sign off another researcher's work


def require_signer(principal: Principal | None, study: Study, authors: frozenset[str] | set[str], what: str) -> Principal:
    """Let ``principal`` sign off ``what`` of ``study`` only as a second researcher.

    The signer is a researcher account (not the operator without ``--user``) that is a member of
    the study with a role in :data:`SIGNER_ROLES` (membership, not the administrator's global
    rights: a sign-off vouches for someone who works on the study) and is not one of
    ``authors`` (lower-case user names of whoever wrote the signed content). Any other
    principal gets :class:`AccessDenied` (the boundary logs the refusal). Returns the principal
    scoped to the study.
    """
    principal = require_researcher(principal)
    if not principal.subject_id:
        raise AccessDenied("a sign-off needs a researcher account: run the command with --user NAME",
                           principal.in_study(study.id, ""), f"study {study.id}: sign-off without an account")
    role = studies.study_role(object_session(study), study.id, principal.subject_id)
    scoped = principal.in_study(study.id, role or "")
    if role not in SIGNER_ROLES:
        held = f"you are a {role} of this study" if role else "you are not a member of this study"
        raise AccessDenied(f"{held}; only its owners and coders can sign off {what}", scoped,
                           f"study {study.id}: sign-off by {role or 'a non-member'}")
    if principal.name.lower() in {a.lower() for a in authors}:
        raise AccessDenied(f"you wrote {what}; a second researcher, not the author, has to sign it off", scoped,
                           f"study {study.id}: author signing off own work")
    return scoped


def log_refusal(store: Store, principal: Principal | None, where: str, reason: str = "") -> None:
    """Record a refused attempt in its own transaction (call it after the refused one ended)."""
    actor = principal.actor if principal is not None else "anonymous"
    with store.write(actor=actor) as session:
        audit.record(
            session, "access", "refused", entity_id=principal.token_id if principal else None,
            study_id=principal.study_id if principal else None, where=where, reason=reason,
            kind=principal.kind if principal else "anonymous",
        )


def researcher(user: User) -> Principal:
    return Principal(RESEARCHER, user.id, user.username, role=user.role)


# --- login -----------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginThrottle:
    """Backoff and lockout over the failed logins of one account or one client.

    From ``delay_after`` recent failures on, the next attempt must wait 1 s after the last
    failure, doubling with every further failure; from ``lockout_after`` failures on it waits
    ``lockout``. Failures count within ``window``; for an account, only since its last login.
    """

    delay_after: int
    lockout_after: int
    lockout: dt.timedelta = dt.timedelta(minutes=15)
    window: dt.timedelta = dt.timedelta(hours=1)

    def wait(self, failures: int, last_failure: dt.datetime | None, now: dt.datetime) -> dt.timedelta:
        """How long the next attempt must still wait (zero when it may go ahead)."""
        if last_failure is None or failures < self.delay_after:
            return dt.timedelta(0)
        if failures >= self.lockout_after:
            pause = self.lockout
        else:
            pause = dt.timedelta(seconds=2 ** (failures - self.delay_after))
        return max(dt.timedelta(0), last_failure + pause - now)


ACCOUNT_THROTTLE = LoginThrottle(delay_after=5, lockout_after=10)
# A client (browser address) may try several accounts (an office behind one address).
CLIENT_THROTTLE = LoginThrottle(delay_after=20, lockout_after=50)
WRONG_CREDENTIALS = "wrong user name or password"


def _recent_failures(session: Session, throttle: LoginThrottle, now: dt.datetime, *, username: str | None = None,
                     client: str | None = None) -> tuple[int, dt.datetime | None]:
    """(count, time of the last) of the failed logins of one account or one client in the window."""
    since = now - throttle.window
    account_events = (AuditEvent.entity == "user_account", AuditEvent.at > since, AuditEvent.at <= now)
    if username is not None:
        owner = func.lower(AuditEvent.actor) == username.lower()
        last_login = session.scalar(select(func.max(AuditEvent.at)).where(*account_events, owner, AuditEvent.action == "login"))
        if last_login is not None:
            since = max(since, last_login)
    else:
        owner = AuditEvent.detail["client"].as_string() == client
    count, last = session.execute(
        select(func.count(AuditEvent.id), func.max(AuditEvent.at)).where(
            AuditEvent.entity == "user_account", AuditEvent.action == "login_failed",
            AuditEvent.at > since, AuditEvent.at <= now, owner,
        )
    ).one()
    return count, last


def _seconds_text(wait: dt.timedelta) -> str:
    seconds = max(1, int(-(-wait.total_seconds() // 1)))  # rounded up
    count, unit = (seconds, "second") if seconds < 120 else (-(-seconds // 60), "minute")
    return f"{count} {unit}{'' if count == 1 else 's'}"


def login(
    store: Store,
    username: str,
    password: str,
    *,
    client: str | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> Principal:
    """Check credentials; every attempt, refused or not, is logged.

    Refused before the password is checked: a user name with a line break or another control
    character; an account (or a ``client``, e.g. the browser's address) with too many recent
    failures (:data:`ACCOUNT_THROTTLE`, :data:`CLIENT_THROTTLE`; the message says how long to
    wait); a demo account's published credentials on a server not in demo mode
    (``config.demo_mode``). ``clock`` gives naive-UTC "now" (tests inject a fake one).
    """
    now = clock()
    if users.has_control_characters(username):
        with store.write(actor=users.printable_name(username) or "anonymous") as session:
            audit.record(session, "user_account", "login_refused", at=now, username=users.printable_name(username),
                         reason="control characters in the user name", client=client)
        raise UserError("a user name cannot contain line breaks or other control characters")
    name = username.strip()[:100]
    with store.write(actor=name or "anonymous") as session:
        refusal = _throttled(session, name, client, now)
        if refusal is None and not config.demo_mode() and config.is_demo_credential(name, password):
            audit.record(session, "user_account", "login_refused", at=now, username=name,
                         reason="demo account outside demo mode", client=client)
            refusal = ("the demo accounts sign in only on a server in demo mode (CASESTUDY_DEMO=1); "
                       "an administrator creates the real accounts")
        principal = None
        if refusal is None:
            user = users.authenticate(session, name, password, at=now, client=client)
            principal = researcher(user) if user else None
            if principal is None:
                _record_lockout(session, name, client, now)
    if refusal is not None:
        raise UserError(refusal)
    if principal is None:
        raise UserError(WRONG_CREDENTIALS)
    return principal


def _throttle_scopes(username: str, client: str | None) -> list[tuple[str, LoginThrottle, dict]]:
    """(scope, throttle, whose failures) for the account and, when known, the client."""
    scopes = [("account", ACCOUNT_THROTTLE, {"username": username})]
    if client:
        scopes.append(("client", CLIENT_THROTTLE, {"client": client}))
    return scopes


def _throttled(session: Session, username: str, client: str | None, now: dt.datetime) -> str | None:
    """The refusal message when the account or the client must still wait (and log it), else None."""
    for scope, throttle, who in _throttle_scopes(username, client):
        failures, last = _recent_failures(session, throttle, now, **who)
        wait = throttle.wait(failures, last, now)
        if wait > dt.timedelta(0):
            locked = failures >= throttle.lockout_after
            audit.record(session, "user_account", "login_throttled", at=now, username=username, client=client,
                         scope=scope, failures=failures, locked=locked, retry_after_seconds=int(wait.total_seconds()) + 1)
            what = "this account" if scope == "account" else "this computer"
            state = "is locked" if locked else "must wait"
            return f"too many failed logins: {what} {state}; try again in {_seconds_text(wait)}"
    return None


def _record_lockout(session: Session, username: str, client: str | None, now: dt.datetime) -> None:
    """After a failure: when it is the one that starts a lockout, log the lockout."""
    for scope, throttle, who in _throttle_scopes(username, client):
        failures, _ = _recent_failures(session, throttle, now, **who)
        if failures == throttle.lockout_after:
            audit.record(session, "user_account", "login_locked", at=now, username=username, client=client,
                         scope=scope, failures=failures, until=(now + throttle.lockout).isoformat())


def current_researcher(session: Session, user_id: int) -> Principal | None:
    """Re-check a logged-in researcher (still existing and active) on every request."""
    user = session.get(User, user_id)
    return researcher(user) if user is not None and user.active else None


# --- tokens ---------------------------------------------------------------------------
MAX_LINK_DAYS = 365  # a link lives at most a year; a new one is issued when needed


def check_link_days(days) -> int:
    """The link lifetime in whole days, refused unless 1..``MAX_LINK_DAYS`` (every link expires)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_LINK_DAYS:
        raise UserError(f"a link must expire after 1 to {MAX_LINK_DAYS} days, not {days!r}")
    return days


def issue_token(
    session: Session,
    study_id: int,
    purpose: str,
    subject_type: str,
    subject_id: int,
    expires_in_days: int = 90,
    label: str = "",
) -> tuple[AccessToken, str]:
    """Create a link token; the secret is returned once and only its hash is stored.

    It expires after ``expires_in_days`` (1..``MAX_LINK_DAYS``, else UserError)."""
    expires_in_days = check_link_days(expires_in_days)
    if purpose not in TOKEN_PURPOSES:
        raise UserError(f"unknown token purpose {purpose!r}; choose one of: {', '.join(TOKEN_PURPOSES)}")
    secret = security.new_token_secret()
    token = AccessToken(
        study_id=study_id,
        token_hash=security.hash_token(secret),
        purpose=purpose,
        subject_type=subject_type,
        subject_id=subject_id,
        label=label,
        expires_at=utcnow() + dt.timedelta(days=expires_in_days),
    )
    session.add(token)
    session.flush()
    return token, secret


def issue_respondent_link(session: Session, respondent: Respondent, expires_in_days: int = 90,
                          label: str = "") -> tuple[AccessToken, str, list[int]]:
    """A new link for a respondent; their links still working are revoked (ids returned).

    A respondent has one working link at a time, so a link sent earlier (or leaked) stops
    working as soon as a new one is issued.
    """
    return issue_only_link(session, respondent.case.study_id, RESPONDENT, "respondent", respondent.id, expires_in_days, label)


def issue_only_link(session: Session, study_id: int, purpose: str, subject_type: str, subject_id: int,
                    expires_in_days: int = 90, label: str = "") -> tuple[AccessToken, str, list[int]]:
    """A new link for one subject that revokes the subject's earlier links of this purpose
    (their ids are returned): one working link per person at a time."""
    check_link_days(expires_in_days)
    revoked = []
    for token in tokens_for(session, subject_type, subject_id):
        if token.purpose == purpose and token.revoked_at is None:
            revoke_token(session, token.id)
            revoked.append(token.id)
    session.flush()  # the audit log shows the revocations before the new link
    token, secret = issue_token(session, study_id, purpose, subject_type, subject_id, expires_in_days, label)
    return token, secret, revoked


def revoke_token(session: Session, token_id: int) -> AccessToken:
    token = session.get(AccessToken, token_id)
    if token is None:
        raise UserError(f"no token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def tokens_for(session: Session, subject_type: str, subject_id: int) -> list[AccessToken]:
    return list(
        session.scalars(
            select(AccessToken)
            .where(AccessToken.subject_type == subject_type, AccessToken.subject_id == subject_id)
            .order_by(AccessToken.id)
        )
    )


def _principal_for_token(session: Session, token: AccessToken) -> Principal | None:
    if token.purpose == RESPONDENT and token.subject_type == "respondent":
        respondent = session.get(Respondent, token.subject_id)
        if respondent is None:
            return None
        return Principal(RESPONDENT, respondent.id, f"respondent {respondent.id}", study_id=token.study_id, token_id=token.id)
    if token.purpose == EXPERT:
        return Principal(EXPERT, token.subject_id, f"expert {token.subject_id}", study_id=token.study_id, token_id=token.id)
    if token.purpose == PARTICIPANT and token.subject_type == "focus_participant":
        if session.get(FocusParticipant, token.subject_id) is None:
            return None
        return Principal(PARTICIPANT, token.subject_id, f"participant {token.subject_id}", study_id=token.study_id, token_id=token.id)
    return None


def resolve_token(store: Store, secret: str | None, touch: bool = True) -> Principal:
    """The respondent or expert behind a link secret; unknown, expired or revoked -> AccessDenied.

    The check itself only reads (it runs on every rerun); refused attempts are logged, without
    the secret, and the last-use time is refreshed at most every five minutes, best effort: if
    that write fails (the database busy), the link still opens and the failure is logged.
    """
    secret = (secret or "").strip()
    reason = None
    principal = None
    token_id = study_id = None
    needs_touch = False
    with store.read() as session:
        token = None
        if 20 <= len(secret) <= 200:
            token = session.scalar(select(AccessToken).where(AccessToken.token_hash == security.hash_token(secret)))
        now = utcnow()
        if token is not None:
            token_id, study_id = token.id, token.study_id
        if token is None:
            reason = "unknown"
        elif token.revoked_at is not None:
            reason = "revoked"
        elif token.expires_at is not None and token.expires_at <= now:
            reason = "expired"
        else:
            principal = _principal_for_token(session, token)
            if principal is None:
                reason = "subject gone"
            needs_touch = touch and (
                token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5)
            )
    if principal is None:
        with store.write(actor="token") as session:
            audit.record(session, "access_token", "refused", entity_id=token_id, study_id=study_id, reason=reason)
        raise AccessDenied(INVALID_LINK)
    if needs_touch:
        # Bookkeeping only: a busy database (a long import) must not turn the link away.
        try:
            with store.write(actor=principal.actor) as session:
                session.get(AccessToken, token_id).last_used_at = utcnow()
        except UserError as exc:
            logs.logger().warning("last use of link %s not recorded: %s", token_id, exc.message)
    return principal
