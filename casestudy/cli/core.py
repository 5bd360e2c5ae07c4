"""Foundation commands: init, db, demo, users, cases, respondents, consent, tokens, audit."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys

from casestudy.cli import Context, add_format_option, lazy_module
from casestudy.errors import UserError

access = lazy_module("casestudy.access")
audit = lazy_module("casestudy.audit")
migrate = lazy_module("casestudy.migrate")
studies = lazy_module("casestudy.study")
users = lazy_module("casestudy.users")
demo = lazy_module("casestudy.demo")


def parse_date(text: str | None, what: str = "date") -> dt.date:
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"invalid {what} {text!r}; use YYYY-MM-DD")


def read_password(args) -> str:
    """--password, then $CASESTUDY_PASSWORD, then a prompt on a terminal."""
    if getattr(args, "password", None):
        return args.password
    if os.environ.get("CASESTUDY_PASSWORD"):
        return os.environ["CASESTUDY_PASSWORD"]
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != first:
            raise UserError("the passwords differ")
        return first
    raise UserError("no password given: pass --password or set CASESTUDY_PASSWORD")


def _command(subparsers, name: str, help_text: str, handler, formats: bool = False):
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    if formats:
        add_format_option(parser)
    return parser


# --- handlers -------------------------------------------------------------------------
def cmd_init(ctx: Context):
    with ctx.store.write("cli") as session:
        study = studies.create_study(
            session, ctx.args.title, ctx.args.language, [s for s in (ctx.args.levels or "").split(",") if s] or None
        )
        print(f"created study {study.id}: {study.title} (levels: {', '.join(study.levels)})")


def cmd_db_upgrade(ctx: Context):
    from casestudy.db import Store

    store = Store(ctx.args.db)
    backup = migrate.upgrade(store)
    print(f"database at revision {', '.join(migrate.current_revisions(store))}" + (f"; backup: {backup}" if backup else ""))


def cmd_db_current(ctx: Context):
    print(", ".join(migrate.current_revisions(ctx.store)) or "(empty)")


def cmd_demo_load(ctx: Context):
    from casestudy import config

    if not config.demo_mode():
        print("note: the demo accounts sign in only on a server in demo mode (CASESTUDY_DEMO=1, as `make run` sets)",
              file=sys.stderr)
    if ctx.args.if_empty:
        loaded = demo.load_demo_if_empty(ctx.store)
        print("demo study loaded" if loaded else "the database already holds a study; demo not loaded")
        return
    ctx.emit(demo.load_demo(ctx.store, force=ctx.args.force))


def cmd_users_add(ctx: Context):
    password = read_password(ctx.args)
    with ctx.store.write("cli") as session:
        user = users.add_user(session, ctx.args.username, password, ctx.args.role, ctx.args.display_name or "")
        print(f"added {user.role} {user.username}")


def cmd_users_list(ctx: Context):
    with ctx.store.read() as session:
        ctx.emit(
            [
                {"username": u.username, "display_name": u.display_name, "role": u.role, "active": u.active, "last_login": u.last_login_at}
                for u in users.list_users(session)
            ],
            ["username", "display_name", "role", "active", "last_login"],
        )


def cmd_users_passwd(ctx: Context):
    password = read_password(ctx.args)
    with ctx.store.write("cli") as session:
        users.set_password(session, ctx.args.username, password)
        print(f"password changed for {ctx.args.username}")


def parse_component(text: str) -> studies.ComponentSpec:
    """TYPE[:GROUPS[:DOSAGE[:STATUS]]], e.g. 'PH:2' or 'IOP:1::stopped'."""
    parts = text.split(":")
    groups = None
    if len(parts) > 1 and parts[1].strip():
        try:
            groups = int(parts[1])
        except ValueError:
            raise UserError(f"invalid component {text!r}: groups must be a whole number (TYPE:GROUPS:DOSAGE:STATUS)")
    return studies.ComponentSpec(
        type=parts[0],
        groups=groups,
        dosage=parts[2] if len(parts) > 2 else "",
        status=parts[3] if len(parts) > 3 else "",
    )


def case_record(case, include_internal: bool = True) -> dict:
    record = {
        "id": case.id,
        "public_label": case.public_label,
        "programme": studies.programme_text(case),
        "outcome_class": case.outcome_class,
        "outcome": case.outcome_description,
        "respondents": len(case.respondents),
    }
    if include_internal:
        record = {"id": case.id, "internal_label": case.internal_label, "organisation": case.organisation.name if case.organisation else "", **record}
    return record


def cmd_cases_add(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        case = studies.add_case(
            session, study, a.internal, a.public, a.organisation, a.outcome, a.description or "",
            [parse_component(c) for c in a.component or []],
        )
        print(f"added case {case.public_label} ({case.internal_label})")


def cmd_cases_list(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        ctx.emit([case_record(c) for c in studies.list_cases(session, study)])


def cmd_respondents_add(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        case = studies.get_case(session, ctx.study(session), a.case)
        respondent = studies.add_respondent(session, case, a.name, a.role, a.perspective, a.email or "")
        print(f"added {respondent.role} {respondent.name} to {case.public_label}")


def respondent_record(respondent) -> dict:
    return {
        "id": respondent.id,
        "case": respondent.case.public_label,
        "name": respondent.name,
        "role": respondent.role,
        "perspective": respondent.perspective,
        "consent": studies.consent_state(respondent),
    }


def cmd_respondents_list(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        case = studies.get_case(session, study, ctx.args.case) if ctx.args.case else None
        ctx.emit([respondent_record(r) for r in studies.list_respondents(session, study, case)])


def cmd_consent_record(ctx: Context):
    a = ctx.args
    when = parse_date(a.date)
    with ctx.store.write("cli") as session:
        case = studies.get_case(session, ctx.study(session), a.case)
        respondent = studies.get_respondent(session, case, a.respondent)
        if a.withdraw:
            studies.withdraw_consent(session, respondent, a.scope, when, a.note or "")
            print(f"recorded withdrawal of {a.scope} consent for {respondent.name} on {when}")
        else:
            studies.record_consent(session, respondent, a.scope, when, a.note or "")
            print(f"recorded {a.scope} consent for {respondent.name} on {when}")


def cmd_consent_list(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        case = studies.get_case(session, study, ctx.args.case) if ctx.args.case else None
        rows = []
        for respondent in studies.list_respondents(session, study, case):
            for record in respondent.consents:
                rows.append(
                    {
                        "case": respondent.case.public_label,
                        "respondent": respondent.name,
                        "scope": record.scope,
                        "given_on": record.given_on,
                        "withdrawn_on": record.withdrawn_on,
                        "note": record.note,
                    }
                )
        ctx.emit(rows, ["case", "respondent", "scope", "given_on", "withdrawn_on", "note"])


def cmd_tokens_issue(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        case = studies.get_case(session, study, a.case)
        respondent = studies.get_respondent(session, case, a.respondent)
        token, secret, revoked = access.issue_respondent_link(session, respondent, a.days, f"{case.public_label} {respondent.role}")
        ctx.emit({"token_id": token.id, "respondent": respondent.name, "expires_at": token.expires_at,
                  "revoked_token_ids": revoked, "link": f"{a.base_url.rstrip('/')}/?token={secret}"})


def cmd_tokens_revoke(ctx: Context):
    with ctx.store.write("cli") as session:
        token = access.revoke_token(session, ctx.args.token_id)
        print(f"revoked token {token.id}")


def cmd_audit_list(ctx: Context):
    with ctx.store.read() as session:
        ctx.emit(
            [
                {"at": e.at, "actor": e.actor, "entity": e.entity, "entity_id": e.entity_id, "action": e.action, "detail": e.detail}
                for e in audit.events(session, entity=ctx.args.entity, limit=ctx.args.limit)
            ],
            ["at", "actor", "entity", "entity_id", "action", "detail"],
        )


# --- registration ---------------------------------------------------------------------
def register(subparsers) -> None:
    p = _command(subparsers, "init", "create a study", cmd_init)
    p.add_argument("--title", required=True)
    p.add_argument("--language", default="en", help="language code of the transcripts, e.g. nl or en")
    p.add_argument("--levels", help="comma-separated level names (default organization,team,therapist)")

    db = subparsers.add_parser("db", help="database migrations").add_subparsers(dest="db_command", required=True)
    _command(db, "upgrade", "apply pending migrations (a SQLite file is backed up first)", cmd_db_upgrade)
    _command(db, "current", "show the applied migration revisions", cmd_db_current)

    demo = subparsers.add_parser("demo", help="the demo study").add_subparsers(dest="demo_command", required=True)
    p = _command(demo, "load", "load the demo study into an empty database", cmd_demo_load, formats=True)
    p.add_argument("--force", action="store_true", help="load even when the database already has a study")
    p.add_argument("--if-empty", action="store_true", help="load only into an empty database (no error otherwise)")

    u = subparsers.add_parser("users", help="researcher accounts").add_subparsers(dest="users_command", required=True)
    p = _command(u, "add", "add a researcher account", cmd_users_add)
    p.add_argument("username")
    p.add_argument("--role", choices=["admin", "coder", "viewer"], default="coder")
    p.add_argument("--display-name")
    p.add_argument("--password", help="prefer $CASESTUDY_PASSWORD or the prompt: arguments show in process lists")
    _command(u, "list", "list accounts", cmd_users_list, formats=True)
    p = _command(u, "passwd", "set a password", cmd_users_passwd)
    p.add_argument("username")
    p.add_argument("--password")

    c = subparsers.add_parser("cases", help="cases").add_subparsers(dest="cases_command", required=True)
    p = _command(c, "add", "add a case", cmd_cases_add)
    p.add_argument("--internal", required=True, help="internal label, e.g. 'Unit 1'")
    p.add_argument("--public", required=True, help="public label, e.g. 'Case A'")
    p.add_argument("--organisation")
    p.add_argument("--outcome", default="unknown", help="positive, mixed, negative or unknown")
    p.add_argument("--description")
    p.add_argument("--component", action="append", help="TYPE[:GROUPS[:DOSAGE[:STATUS]]], repeatable")
    _command(c, "list", "list cases", cmd_cases_list, formats=True)

    r = subparsers.add_parser("respondents", help="respondents").add_subparsers(dest="respondents_command", required=True)
    p = _command(r, "add", "add a respondent to a case", cmd_respondents_add)
    p.add_argument("--case", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, help="manager, therapist or other")
    p.add_argument("--perspective", help="top-down, bottom-up or other (default from the role)")
    p.add_argument("--email")
    p = _command(r, "list", "list respondents", cmd_respondents_list, formats=True)
    p.add_argument("--case")

    k = subparsers.add_parser("consent", help="consent records").add_subparsers(dest="consent_command", required=True)
    p = _command(k, "record", "record (or withdraw) a consent", cmd_consent_record)
    p.add_argument("--case", required=True)
    p.add_argument("--respondent", required=True)
    p.add_argument("--scope", required=True, help="interview, recording, member_check or final_text")
    p.add_argument("--date", help="YYYY-MM-DD (default today)")
    p.add_argument("--withdraw", action="store_true")
    p.add_argument("--note")
    p = _command(k, "list", "list consent records", cmd_consent_list, formats=True)
    p.add_argument("--case")

    t = subparsers.add_parser("tokens", help="respondent links").add_subparsers(dest="tokens_command", required=True)
    p = _command(t, "issue", "issue a respondent link (the secret is shown once)", cmd_tokens_issue, formats=True)
    p.add_argument("--case", required=True)
    p.add_argument("--respondent", required=True)
    p.add_argument("--days", type=int, default=90, help="days until the link expires (1-365); the respondent's earlier links are revoked")
    p.add_argument("--base-url", default="http://127.0.0.1:8501")
    p = _command(t, "revoke", "revoke a link", cmd_tokens_revoke)
    p.add_argument("token_id", type=int)

    a = subparsers.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    p = _command(a, "list", "newest audit events first", cmd_audit_list, formats=True)
    p.add_argument("--entity")
    p.add_argument("--limit", type=int, default=50)
