"""Foundation commands: init, study, db, demo, users, cases, respondents, consent, tokens, audit."""

from __future__ import annotations

import getpass
import os
import sys

from casestudy.cli import Context, add_command, lazy_module, parse_date
from casestudy.cli.audits import add_audit_commands
from casestudy.errors import UserError

access = lazy_module("casestudy.access")
codebook_exchange = lazy_module("casestudy.codebook.exchange")
audit = lazy_module("casestudy.audit")
migrate = lazy_module("casestudy.migrate")
studies = lazy_module("casestudy.study")
users = lazy_module("casestudy.users")
demo = lazy_module("casestudy.demo")
app_settings = lazy_module("casestudy.settings")
periods = lazy_module("casestudy.periods")


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


# --- handlers -------------------------------------------------------------------------
def study_record(study) -> dict:
    return {"id": study.id, "title": study.title, "language": study.language, "levels": list(study.levels),
            "archived": study.archived_at is not None, "created_at": study.created_at}


def cmd_study_create(ctx: Context):
    """``init`` and ``study create``: a study (optionally with a shipped codebook); --user or --owner owns it."""
    a = ctx.args
    with ctx.store.write(ctx.actor) as session:
        creator = access.require_researcher(ctx.principal(session), edit=True)
        owner_name = getattr(a, "owner", None) or ctx.username
        owner = users.get_user(session, owner_name) if owner_name else None
        study = studies.create_study(session, a.title, a.language, [s for s in (a.levels or "").split(",") if s] or None,
                                     getattr(a, "description", None) or "", owner=owner)
        codes = codebook_exchange.load_shipped(session, study, a.codebook)["added"] if getattr(a, "codebook", None) else 0
        record = {**study_record(study), "owner": owner.username if owner else None, "codebook": getattr(a, "codebook", None),
                  "codes": codes, "created_by": creator.name}
    if ctx.format == "json":
        ctx.emit(record)
        return
    print(f"created study {record['id']}: {record['title']} (levels: {', '.join(record['levels'])})"
          + (f"; codebook {record['codebook']}: {codes} codes" if record["codebook"] else ""))


def _owned_study(ctx: Context, session, minimum: str = "owner"):
    """The study named by the STUDY argument (archived ones too), for a member with ``minimum``."""
    study = studies.get_study(session, ctx.args.study_ref)
    access.require_study_role(ctx.principal(session), study, minimum)
    return study


def cmd_study_list(ctx: Context):
    with ctx.store.read() as session:
        principal = ctx.principal(session)
        listed = studies.list_studies(session, for_user=None if principal.is_admin else principal.subject_id,
                                      include_archived=ctx.args.all)
        rows = [{**study_record(s), "your_role": "admin" if principal.is_admin else studies.study_role(session, s.id, principal.subject_id)}
                for s in listed]
    ctx.emit(rows, ["id", "title", "language", "levels", "archived", "your_role", "created_at"])


def _study_change(change, done: str):
    def handler(ctx: Context):
        with ctx.store.write(ctx.actor) as session:
            study = change(session, _owned_study(ctx, session), ctx.args)
            record = study_record(study)
        ctx.report(record, f"{done} study {record['id']}: {record['title']}")
    return handler


cmd_study_rename = _study_change(lambda session, study, a: studies.rename_study(session, study, a.title), "renamed")
cmd_study_archive = _study_change(lambda session, study, a: studies.archive_study(session, study), "archived")
cmd_study_unarchive = _study_change(lambda session, study, a: studies.unarchive_study(session, study), "unarchived")


def member_record(member) -> dict:
    return {"username": member.user.username, "display_name": member.user.display_name, "role": member.role,
            "active": member.user.active, "since": member.created_at}


def cmd_study_members(ctx: Context):
    with ctx.store.read() as session:
        study = _owned_study(ctx, session, "viewer")
        rows = [member_record(m) for m in studies.list_members(session, study)]
    ctx.emit(rows, ["username", "display_name", "role", "active", "since"])


def _member_change(change, done: str):
    def handler(ctx: Context):
        with ctx.store.write(ctx.actor) as session:
            study = _owned_study(ctx, session)
            member = change(session, study, ctx.args)
            record = {"study": study.id, **(member_record(member) if member is not None else {"username": ctx.args.username, "role": None})}
        ctx.report(record, f"{done} {record['username']}" + (f" ({record['role']})" if record["role"] else "") + f" in study {record['study']}")
    return handler


cmd_study_add_member = _member_change(lambda session, study, a: studies.add_member(session, study, a.username, a.role), "added")
cmd_study_remove_member = _member_change(lambda session, study, a: studies.remove_member(session, study, a.username), "removed")
cmd_study_set_role = _member_change(lambda session, study, a: studies.set_member_role(session, study, a.username, a.role), "set the role of")


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
    progress = _progress_on_terminal
    if ctx.args.if_empty:
        loaded = demo.load_demo_if_empty(ctx.store, progress=progress)
        print("demo study loaded" if loaded else "the database already holds a study; demo not loaded")
        return
    ctx.emit(demo.load_demo(ctx.store, force=ctx.args.force, progress=progress))


def _progress_on_terminal(done: int, total: int, what: str) -> None:
    """A long load's steps on stderr, when someone watches it (a terminal)."""
    if sys.stderr.isatty():
        sys.stderr.write(f"[{done}/{total}] {what}\n")


def cmd_users_add(ctx: Context):
    password = read_password(ctx.args)
    with ctx.store.write("cli") as session:
        ctx.require_admin(session)
        user = users.add_user(session, ctx.args.username, password, ctx.args.role, ctx.args.display_name or "")
        print(f"added {user.role} {user.username}")


def cmd_users_list(ctx: Context):
    with ctx.store.read() as session:
        ctx.require_admin(session)
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
        ctx.require_admin(session)
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
            raise UserError(f"invalid component {text!r}: after the colon comes the number of groups as a whole number, e.g. PH:2")
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


def cmd_periods_add(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        case = studies.get_case(session, ctx.study(session), a.case)
        period = periods.add_period(session, case, a.name, a.start, a.end, a.description or "", a.allow_overlap)
        ctx.emit(periods.period_record(period))


def cmd_periods_list(ctx: Context):
    with ctx.store.read() as session:
        case = studies.get_case(session, ctx.study(session), ctx.args.case)
        records = [periods.period_record(p) for p in periods.list_periods(session, case)]
        note = periods.exclusion_note(session, case)
        if ctx.format == "json":
            ctx.emit({"case": case.public_label, "periods": records, "exclusion_note": note})
            return
        ctx.emit(records, ["name", "from", "to", "description", "overlap_allowed"])
        if note:
            print(f"excluded: {note}")


def cmd_periods_remove(ctx: Context):
    with ctx.store.write("cli") as session:
        case = studies.get_case(session, ctx.study(session), ctx.args.case)
        period = periods.remove_period(session, case, ctx.args.name)
        print(f"removed period {period.name} of {case.public_label}")


def cmd_periods_note(ctx: Context):
    with ctx.store.write("cli") as session:
        case = studies.get_case(session, ctx.study(session), ctx.args.case)
        text = periods.set_exclusion_note(session, case, ctx.args.text)
        print(f"exclusion note of {case.public_label}: {text}" if text else f"exclusion note of {case.public_label} cleared")


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


def cmd_consent_import(ctx: Context):
    from casestudy.cli import files

    changes = studies.consent_changes_csv(files.read_text(ctx.args.file, "consent CSV"))
    with ctx.store.write("cli") as session:
        counts = studies.record_consents(session, ctx.study(session), changes)
    ctx.emit([counts], ["recorded", "withdrawn", "unchanged"])


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
                  "revoked_token_ids": revoked, "link": f"{app_settings.link_base(session, explicit=a.base_url)}/?token={secret}"})


def cmd_tokens_revoke(ctx: Context):
    from casestudy.models import AccessToken

    with ctx.store.write("cli") as session:
        ctx.guard_row(session, AccessToken, ctx.args.token_id)
        token = access.revoke_token(session, ctx.args.token_id)
        print(f"revoked token {token.id}")


def cmd_audit_list(ctx: Context):
    with ctx.store.read() as session:
        ctx.require_admin(session)
        ctx.emit(
            [
                {"at": e.at, "actor": e.actor, "entity": e.entity, "entity_id": e.entity_id, "action": e.action, "detail": e.detail}
                for e in audit.events(session, entity=ctx.args.entity, limit=ctx.args.limit)
            ],
            ["at", "actor", "entity", "entity_id", "action", "detail"],
        )


# --- registration ---------------------------------------------------------------------
def _study_options(p) -> None:
    p.add_argument("--language", default="en", help="language code of the transcripts, e.g. nl or en")
    p.add_argument("--levels", help="comma-separated level names (default organization,team,therapist)")
    p.add_argument("--codebook", metavar="NAME", help="start with a shipped codebook (see 'codebook shipped')")
    p.add_argument("--owner", help="the account that owns the study (default: --user; the administrator may open every study)")
    p.add_argument("--description")


def register(subparsers) -> None:
    p = add_command(subparsers, "init", "create a study (the same as 'study create')", cmd_study_create, formats=True)
    p.add_argument("--title", required=True)
    _study_options(p)

    st = subparsers.add_parser("study", help="studies and their members").add_subparsers(dest="study_command", required=True)
    p = add_command(st, "create", "create a study", cmd_study_create, formats=True)
    p.add_argument("title")
    _study_options(p)
    p = add_command(st, "list", "the studies you are a member of (the administrator: all)", cmd_study_list, formats=True)
    p.add_argument("--all", action="store_true", help="include archived studies")
    p = add_command(st, "rename", "rename a study (owners)", cmd_study_rename, formats=True)
    p.add_argument("study_ref", metavar="STUDY", help="study id or title")
    p.add_argument("title")
    for name, handler, help_text in (("archive", cmd_study_archive, "archive a study: hidden from lists, data kept (owners)"),
                                     ("unarchive", cmd_study_unarchive, "bring an archived study back (owners)")):
        p = add_command(st, name, help_text, handler, formats=True)
        p.add_argument("study_ref", metavar="STUDY", help="study id or title")
    p = add_command(st, "members", "a study's members and their roles", cmd_study_members, formats=True)
    p.add_argument("study_ref", metavar="STUDY", help="study id or title")
    p = add_command(st, "add-member", "make an account a member of a study (owners)", cmd_study_add_member, formats=True)
    p.add_argument("study_ref", metavar="STUDY", help="study id or title")
    p.add_argument("username")
    p.add_argument("--role", choices=["owner", "coder", "viewer"], help="default: the account's global role (admin: owner)")
    p = add_command(st, "remove-member", "end a membership; the last owner stays (owners)", cmd_study_remove_member, formats=True)
    p.add_argument("study_ref", metavar="STUDY", help="study id or title")
    p.add_argument("username")
    p = add_command(st, "set-role", "change a member's role (owners)", cmd_study_set_role, formats=True)
    p.add_argument("study_ref", metavar="STUDY", help="study id or title")
    p.add_argument("username")
    p.add_argument("role", choices=["owner", "coder", "viewer"])

    db = subparsers.add_parser("db", help="database migrations").add_subparsers(dest="db_command", required=True)
    add_command(db, "upgrade", "apply pending migrations (a SQLite file is backed up first)", cmd_db_upgrade)
    add_command(db, "current", "show the applied migration revisions", cmd_db_current)

    demo = subparsers.add_parser("demo", help="the demo study").add_subparsers(dest="demo_command", required=True)
    p = add_command(demo, "load", "load the demo study into an empty database", cmd_demo_load, formats=True)
    p.add_argument("--force", action="store_true", help="load even when the database already has a study")
    p.add_argument("--if-empty", action="store_true", help="load only into an empty database (no error otherwise)")

    u = subparsers.add_parser("users", help="researcher accounts").add_subparsers(dest="users_command", required=True)
    p = add_command(u, "add", "add a researcher account", cmd_users_add)
    p.add_argument("username")
    p.add_argument("--role", choices=["admin", "coder", "viewer"], default="coder")
    p.add_argument("--display-name")
    p.add_argument("--password", help="prefer $CASESTUDY_PASSWORD or the prompt: arguments show in process lists")
    add_command(u, "list", "list accounts", cmd_users_list, formats=True)
    p = add_command(u, "passwd", "set a password", cmd_users_passwd)
    p.add_argument("username")
    p.add_argument("--password")

    c = subparsers.add_parser("cases", help="cases").add_subparsers(dest="cases_command", required=True)
    p = add_command(c, "add", "add a case", cmd_cases_add)
    p.add_argument("--internal", required=True, help="internal label, e.g. 'Unit 1'")
    p.add_argument("--public", required=True, help="public label, e.g. 'Case A'")
    p.add_argument("--organisation")
    p.add_argument("--outcome", default="unknown", help="positive, mixed, negative or unknown")
    p.add_argument("--description")
    p.add_argument("--component", action="append", help="TYPE[:GROUPS[:DOSAGE[:STATUS]]], repeatable")
    add_command(c, "list", "list cases", cmd_cases_list, formats=True)
    pe = c.add_parser("periods", help="a case's periods (e.g. before and during a reorganisation)").add_subparsers(
        dest="periods_command", required=True)
    p = add_command(pe, "add", "add a period to a case (checked: end not before start, unique name, no overlap)", cmd_periods_add, formats=True)
    p.add_argument("--case", required=True)
    p.add_argument("--name", required=True, help="e.g. PRE-REORG")
    p.add_argument("--from", dest="start", required=True, help="YYYY-MM or YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, help="YYYY-MM or YYYY-MM-DD")
    p.add_argument("--description")
    p.add_argument("--allow-overlap", action="store_true", help="allow this period to overlap the case's other periods")
    p = add_command(pe, "list", "the case's periods in time order and its exclusion note", cmd_periods_list, formats=True)
    p.add_argument("--case", required=True)
    p = add_command(pe, "remove", "remove a period nothing refers to yet", cmd_periods_remove)
    p.add_argument("--case", required=True)
    p.add_argument("name")
    p = add_command(pe, "note", "set the case's exclusion note (what the periods leave out); '' clears it", cmd_periods_note)
    p.add_argument("--case", required=True)
    p.add_argument("text")

    r = subparsers.add_parser("respondents", help="respondents").add_subparsers(dest="respondents_command", required=True)
    p = add_command(r, "add", "add a respondent to a case", cmd_respondents_add)
    p.add_argument("--case", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, help="manager, therapist or other")
    p.add_argument("--perspective", help="top-down, bottom-up or other (default from the role)")
    p.add_argument("--email")
    p = add_command(r, "list", "list respondents", cmd_respondents_list, formats=True)
    p.add_argument("--case")

    k = subparsers.add_parser("consent", help="consent records").add_subparsers(dest="consent_command", required=True)
    p = add_command(k, "record", "record (or withdraw) a consent", cmd_consent_record)
    p.add_argument("--case", required=True)
    p.add_argument("--respondent", required=True)
    p.add_argument("--scope", required=True, help="interview, recording, member_check or final_text")
    p.add_argument("--date", help="YYYY-MM-DD (default today)")
    p.add_argument("--withdraw", action="store_true")
    p.add_argument("--note")
    p = add_command(k, "import", "record many consents from a CSV in one transaction (all rows or none)", cmd_consent_import, formats=True)
    p.add_argument("file", help="CSV with case,respondent,scope,date[,given,note]; given=no withdraws on that date; - for stdin")
    p = add_command(k, "list", "list consent records", cmd_consent_list, formats=True)
    p.add_argument("--case")

    t = subparsers.add_parser("tokens", help="respondent links").add_subparsers(dest="tokens_command", required=True)
    p = add_command(t, "issue", "issue a respondent link (the secret is shown once)", cmd_tokens_issue, formats=True)
    p.add_argument("--case", required=True)
    p.add_argument("--respondent", required=True)
    p.add_argument("--days", type=int, default=90, help="days until the link expires (1-365); the respondent's earlier links are revoked")
    p.add_argument("--base-url", help="start of the link (default: the public URL, see 'settings show')")
    p = add_command(t, "revoke", "revoke a link", cmd_tokens_revoke)
    p.add_argument("token_id", type=int)

    a = subparsers.add_parser("audit", help="the audit log (list); audits of cases on instruments (new, score, show, compare, overview)").add_subparsers(dest="audit_command", required=True)
    p = add_command(a, "list", "newest audit events first", cmd_audit_list, formats=True)
    p.add_argument("--entity")
    p.add_argument("--limit", type=int, default=50)
    add_audit_commands(a)
