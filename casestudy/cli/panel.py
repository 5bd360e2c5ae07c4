"""Expert-panel commands: members, links, funnel, questionnaire, responses, answers export."""

from __future__ import annotations

import sys
from pathlib import Path

from casestudy.cli import Context, add_command, files, lazy_module
from casestudy.errors import UserError
from casestudy.panel import constants as panel_constants
from casestudy.reports import constants as report_constants

models = lazy_module("casestudy.models")
app_settings = lazy_module("casestudy.settings")
panel_instruments = lazy_module("casestudy.panel.instruments")
panel_members = lazy_module("casestudy.panel.members")
panel_questionnaire = lazy_module("casestudy.panel.questionnaire")
panel_responses = lazy_module("casestudy.panel.responses")
results = lazy_module("casestudy.panel.results")
delphi = lazy_module("casestudy.panel.delphi")



def _read(path: str | None, what: str) -> str | None:
    return files.read_text(path, what) if path else None


def _member_record(m) -> dict:
    return {
        "pseudonym": m.pseudonym, "name": m.name, "email": m.email, "organisation": m.organisation,
        "expertise": m.expertise, "status": m.status, "position": m.position, "invited_at": m.invited_at,
        "submitted_at": m.submitted_at,
    }


LINK_COLUMNS = ["pseudonym", "name", "email", "status", "expires_at", "link"]


# --- handlers -------------------------------------------------------------------------------
def cmd_members_add(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        member = panel_members.add_member(session, ctx.study(session), a.name, a.email or "", a.organisation or "", a.expertise or "", a.pseudonym)
        ctx.emit(_member_record(member))


def cmd_members_import(ctx: Context):
    text = _read(ctx.args.file, "members")
    with ctx.store.write("cli") as session:
        added = panel_members.import_members_csv(session, ctx.study(session), text)
        print(f"imported {len(added)} panel member(s): {', '.join(m.pseudonym for m in added)}")


def cmd_members_list(ctx: Context):
    with ctx.store.read() as session:
        ctx.emit([_member_record(m) for m in panel_members.list_members(session, ctx.study(session))],
                 ["pseudonym", "name", "email", "organisation", "expertise", "status", "position"])


def cmd_members_decline(ctx: Context):
    with ctx.store.write("cli") as session:
        member = panel_members.decline(session, panel_members.get_member(session, ctx.study(session), ctx.args.member))
        print(f"{member.pseudonym} marked declined; the link is revoked")


def cmd_members_reopen(ctx: Context):
    with ctx.store.write("cli") as session:
        member = panel_members.reopen(session, panel_members.get_member(session, ctx.study(session), ctx.args.member))
        print(f"{member.pseudonym}'s answers are unlocked again")


def cmd_members_remove(ctx: Context):
    with ctx.store.write("cli") as session:
        member = panel_members.get_member(session, ctx.study(session), ctx.args.member)
        panel_members.delete_member(session, member)
        print(f"removed {ctx.args.member}")


def cmd_invite(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        if a.all_new:
            members = [m for m in panel_members.list_members(session, study) if m.status == "new"]
        else:
            members = [panel_members.get_member(session, study, ref) for ref in a.members]
        if not members:
            raise UserError("nobody to invite: name pseudonyms or use --all-new")
        members.sort(key=lambda m: (m.position is None, m.position or 0, m.pseudonym))
        panel_questionnaire.ensure_questionnaire(session, study)
        base = app_settings.link_base(session, explicit=a.base_url)
        rows = [panel_members.invite(session, study, m, base, a.days) for m in members]
    ctx.emit(rows, LINK_COLUMNS + (["mailto"] if a.mailto else []))


def cmd_remind(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        rows = panel_members.reminder_links(session, ctx.study(session), app_settings.link_base(session, explicit=a.base_url), a.days)
    ctx.emit(rows, LINK_COLUMNS + (["mailto"] if a.mailto else []))


def cmd_revoke(ctx: Context):
    with ctx.store.write("cli") as session:
        member = panel_members.get_member(session, ctx.study(session), ctx.args.member)
        count = panel_members.revoke_links(session, member)
        print(f"revoked {count} link(s) of {member.pseudonym}")


def cmd_funnel(ctx: Context):
    with ctx.store.read() as session:
        result = panel_members.funnel(session, ctx.study(session))
    if ctx.format == "json":
        ctx.emit(result.as_json())
        return
    if ctx.format == "table":
        reached = result.reached
        print(f"response rate: {result.response_rate}")
        print("funnel: " + ", ".join(f"{k} {v}" for k, v in reached.items()))
    ctx.emit(result.members, ["pseudonym", "name", "status", "invited_at", "opened_at", "started_at", "submitted_at",
                              "declined_at", "reminded_at", "progress", "link_active"])


def cmd_q_show(ctx: Context):
    with ctx.store.read() as session:
        q = panel_questionnaire.get_questionnaire(session, ctx.study(session), ctx.args.version)
        record = panel_questionnaire.questionnaire_record(q)
    if ctx.format == "json":
        ctx.emit(record)
        return
    print(f"{record['title']} (version {record['version']}, {'frozen ' + str(record['frozen_at']) if record['frozen_at'] else 'editable'})")
    print(record["legend"])
    ctx.emit(record["items"], ["ordinal", "kind", "key", "label", "required"])


def cmd_q_default(ctx: Context):
    with ctx.store.write("cli") as session:
        q = panel_questionnaire.create_default_questionnaire(session, ctx.study(session))
        print(f"created questionnaire version {q.number} with {len(q.items)} items")


def cmd_q_new_version(ctx: Context):
    with ctx.store.write("cli") as session:
        q = panel_questionnaire.new_version(session, ctx.study(session))
        print(f"created questionnaire version {q.number} (editable; experts who opened an older version keep theirs)")


def _labels(pairs: list[str] | None) -> dict | None:
    if not pairs:
        return None
    labels = {}
    for pair in pairs:
        point, sep, text = pair.partition("=")
        if not sep:
            raise UserError(f"invalid label {pair!r}; use POINT=TEXT, e.g. 0='clearly contradicted'")
        labels[point.strip()] = text
    return labels


def cmd_q_set(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        q = panel_questionnaire.require_questionnaire(session, ctx.study(session))
        panel_questionnaire.update_questionnaire(session, q, title=a.title, introduction=a.introduction, scale_min=a.min, scale_max=a.max,
                                   scale_labels=_labels(a.label))
        print(panel_questionnaire.scale_legend(q))


def cmd_q_add_item(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        q = panel_questionnaire.require_questionnaire(session, ctx.study(session))
        item = panel_questionnaire.add_item(session, q, a.kind, a.key, a.text, a.label or "", not a.optional, a.source)
        print(f"added item {item.key} ({item.kind}) at position {item.ordinal}")


def cmd_q_remove_item(ctx: Context):
    with ctx.store.write("cli") as session:
        panel_questionnaire.remove_item(session, panel_questionnaire.require_questionnaire(session, ctx.study(session)), ctx.args.key)
        print(f"removed item {ctx.args.key}")


def cmd_q_move_item(ctx: Context):
    with ctx.store.write("cli") as session:
        panel_questionnaire.move_item(session, panel_questionnaire.require_questionnaire(session, ctx.study(session)), ctx.args.key, -1 if ctx.args.direction == "up" else 1)
        print(f"moved item {ctx.args.key} {ctx.args.direction}")


def cmd_responses_import(ctx: Context):
    a = ctx.args
    ratings, determinants = _read(a.ratings, "ratings"), _read(a.determinants, "determinants")
    with ctx.store.write("cli") as session:
        result = panel_responses.import_responses(session, ctx.study(session), ratings, determinants)
    ctx.emit(result)


def cmd_answers_export(ctx: Context):
    a = ctx.args
    with ctx.store.read() as session:
        ratings, mentions, comments = results.answers_rows(session, ctx.study(session), include_unsubmitted=a.all)
    if a.what == "ratings":
        text = results.ratings_csv(ratings)
    elif a.what == "determinants":
        text = results.determinants_csv(mentions)
    else:
        from casestudy import tabular

        text = tabular.csv_text(["expert", "item", "comment"], [[c["expert"], c["item"], c["comment"]] for c in comments])
    if a.output:
        Path(a.output).write_text(text, encoding="utf-8", newline="")
        print(f"wrote {a.output}")
    else:
        sys.stdout.write(text)


def cmd_instruments(ctx: Context):
    records = panel_instruments.shipped_catalogue()
    ctx.emit(records, ["name", "title", "version", "items", "levels", "scale"])


def cmd_instrument_export(ctx: Context):
    instrument = panel_instruments.load_shipped(ctx.args.name)
    ctx.write(panel_instruments.export(instrument, ctx.args.format or "yaml"))


def _print_status(ctx: Context, status: dict) -> None:
    if ctx.format == "json":
        ctx.emit(status)
        return
    print(f"stopping rule{' (fixed)' if status['rule_fixed'] else ''}: {status['stopping_rule']['text']}")
    ctx.emit(status["rounds"], ["round", "status", "invited", "experts", "items", "consensus", "stable", "met", "opened_at", "closed_at"])
    print(f"next: {status['next']}")


def cmd_round_status(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        status = delphi.round_status(session, study, ctx.principal(session))
    _print_status(ctx, status)


def cmd_round_rule(ctx: Context):
    a = ctx.args
    with ctx.store.write(ctx.actor) as session:
        rule = delphi.set_stopping_rule(session, ctx.study(session), a.rule, a.iqr, a.change, a.quartiles, actor=ctx.actor)
    print(f"stopping rule: {rule.text()}")


def cmd_round_close(ctx: Context):
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        closed = delphi.close_round(session, study, ctx.actor)
        number = closed.number
    with ctx.store.read() as session:
        study = ctx.study(session)
        status = delphi.round_status(session, study, ctx.principal(session))
    if ctx.format != "json":
        print(f"closed round {number}; its answers are frozen")
    _print_status(ctx, status)


def cmd_round_open(ctx: Context):
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        opened = delphi.open_round(session, study, ctx.actor)
        record = {"round": opened.number, "experts": delphi.participants(session, opened)}
        links = delphi.round_links(session, study, app_settings.link_base(session, explicit=ctx.args.base_url), ctx.args.days) if ctx.args.links else []
    if ctx.format == "json":
        ctx.emit({**record, "links": links})
        return
    print(f"opened round {record['round']} for {len(record['experts'])} expert(s) ({', '.join(record['experts'])}): they see the "
          "group's median and IQR and their own previous answer through the link they have")
    if links:
        ctx.emit(links, ["pseudonym", "name", "email", "expires_at", "link"])


def cmd_round_links(ctx: Context):
    a = ctx.args
    with ctx.store.write(ctx.actor) as session:
        rows = delphi.round_links(session, ctx.study(session), app_settings.link_base(session, explicit=a.base_url), a.days)
    ctx.emit(rows, LINK_COLUMNS)


# --- parser ---------------------------------------------------------------------------------
def _link_options(p):
    p.add_argument("--base-url", help="address of the app the experts open (default: the public URL, see 'settings show')")
    p.add_argument("--days", type=int, default=60, help="days until the link expires (1-365)")
    p.add_argument("--mailto", action="store_true", help="add a mailto: draft per expert")


def register(subparsers) -> None:
    top = subparsers.add_parser("panel", help="the expert panel").add_subparsers(dest="panel_command", required=True)

    add_command(top, "instruments", "the rating instruments shipped with Casestudy (audit scales, checklists)", cmd_instruments, formats=True)
    p = add_command(top, "instrument-export", "a shipped rating instrument as YAML (lossless, importable) or CSV", cmd_instrument_export)
    p.add_argument("name", help="instrument name (see 'panel instruments')")
    p.add_argument("--format", choices=list(panel_constants.INSTRUMENT_FORMATS), default=None, help="yaml (default) or csv")
    p.add_argument("--output", help="write to this file instead of standard output")

    m = top.add_parser("members", help="panel members").add_subparsers(dest="members_command", required=True)
    p = add_command(m, "add", "add a panel member", cmd_members_add, formats=True)
    p.add_argument("name")
    p.add_argument("--email")
    p.add_argument("--organisation")
    p.add_argument("--expertise", help="';'-separated: treating the target population; managing programmes; theoretical background")
    p.add_argument("--pseudonym", help="default: the next free E01, E02 ...")
    p = add_command(m, "import", "import members from CSV name,email,organisation,expertise[,pseudonym] (all or nothing)", cmd_members_import)
    p.add_argument("file", help="CSV file, or - for standard input")
    add_command(m, "list", "list panel members (researchers only: names and e-mail)", cmd_members_list, formats=True)
    for name, text, handler in (("decline", "mark a member declined (revokes the link)", cmd_members_decline),
                                ("reopen", "unlock a submitted member's answers", cmd_members_reopen),
                                ("remove", "remove a member without answers", cmd_members_remove)):
        add_command(m, name, text, handler).add_argument("member", help="pseudonym, e.g. E03")

    p = add_command(top, "invite", "issue invitation links (one per expert; a previous link is revoked)", cmd_invite, formats=True)
    p.add_argument("members", nargs="*", help="pseudonyms")
    p.add_argument("--all-new", action="store_true", help="every member not invited yet, in pseudonym order")
    _link_options(p)
    p = add_command(top, "remind", "new links and mailto drafts for every non-responder", cmd_remind, formats=True)
    _link_options(p)
    p = add_command(top, "revoke", "revoke a member's link", cmd_revoke)
    p.add_argument("member")
    for name in ("funnel", "status"):
        add_command(top, name, "invitation funnel and response rate", cmd_funnel, formats=True)

    d = top.add_parser("round", help="Delphi rounds: stopping rule, open, close, status").add_subparsers(dest="round_command", required=True)
    add_command(d, "status", "the rounds so far: experts, items, consensus, the stopping rule and what comes next", cmd_round_status, formats=True)
    p = add_command(d, "rule", "choose the stopping rule in advance (fixed when round 1 closes)", cmd_round_rule)
    p.add_argument("rule", choices=list(panel_constants.DELPHI_RULES),
                   help="consensus: IQR <= --iqr; stability: share of changed answers <= --change; either")
    p.add_argument("--iqr", default="1", help="consensus: the largest IQR that counts as consensus (default 1)")
    p.add_argument("--change", default="0.15", help="stability: the largest share of experts changing their answer (default 0.15)")
    p.add_argument("--quartiles", choices=list(report_constants.QUARTILE_METHODS), default="linear",
                   help="quartile method (default linear = Hyndman-Fan 7, the numpy/pandas default)")
    add_command(d, "close", "close the current round: its answers are frozen (round 1: the stopping rule too)", cmd_round_close, formats=True)
    p = add_command(d, "open", "open the next round for the experts who submitted the previous one", cmd_round_open, formats=True)
    p.add_argument("--links", action="store_true", help="also issue fresh links (the old ones are revoked)")
    _link_options(p)
    p = add_command(d, "links", "fresh links for the experts of the open round who have not submitted it", cmd_round_links, formats=True)
    _link_options(p)

    q = top.add_parser("questionnaire", help="the questionnaire").add_subparsers(dest="questionnaire_command", required=True)
    p = add_command(q, "show", "show a questionnaire version (default: the newest)", cmd_q_show, formats=True)
    p.add_argument("--version", type=int)
    add_command(q, "default", "create the default questionnaire (the reference study's five tasks)", cmd_q_default)
    add_command(q, "new-version", "copy the newest (frozen) version into a new editable one", cmd_q_new_version)
    p = add_command(q, "set", "change title, introduction or scale of the editable version", cmd_q_set)
    p.add_argument("--title")
    p.add_argument("--introduction")
    p.add_argument("--min", type=int)
    p.add_argument("--max", type=int)
    p.add_argument("--label", action="append", help="POINT=TEXT, repeatable; both ends need a label")
    p = add_command(q, "add-item", "add an item to the editable version", cmd_q_add_item)
    p.add_argument("kind", choices=list(panel_constants.ITEM_KINDS))
    p.add_argument("key")
    p.add_argument("text")
    p.add_argument("--label", help="short wording for tables")
    p.add_argument("--optional", action="store_true")
    p.add_argument("--source", help="ordered_list: key of the free list it orders")
    p = add_command(q, "remove-item", "remove an item from the editable version", cmd_q_remove_item)
    p.add_argument("key")
    p = add_command(q, "move-item", "move an item up or down", cmd_q_move_item)
    p.add_argument("key")
    p.add_argument("direction", choices=["up", "down"])

    r = top.add_parser("responses", help="responses collected elsewhere").add_subparsers(dest="responses_command", required=True)
    p = add_command(r, "import", "import ratings and/or determinant lists (CSV formats of the reports stage; all or nothing)", cmd_responses_import, formats=True)
    p.add_argument("--ratings", help="CSV expert,case,item,score")
    p.add_argument("--determinants", help="CSV expert,task,rank,determinant")

    a = top.add_parser("answers", help="submitted answers").add_subparsers(dest="answers_command", required=True)
    p = add_command(a, "export", "export submitted answers as CSV (pseudonyms only)", cmd_answers_export)
    p.add_argument("what", choices=["ratings", "determinants", "comments"])
    p.add_argument("--output", "-o")
    p.add_argument("--all", action="store_true", help="include answers of members who have not submitted")
