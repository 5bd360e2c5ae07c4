"""signoff: what the study requires a second researcher to sign off, sign-offs, what awaits one.

A sign-off is given as an account (``--user NAME``): an owner or coder of the study who is not
the author of what is signed.
"""

from __future__ import annotations

from casestudy.cli import Context, add_command, add_format_option, lazy_module
from casestudy.rigour_constants import SIGNOFF_KINDS

signoffs = lazy_module("casestudy.signoffs")
progress = lazy_module("casestudy.reports.progress")
studies = lazy_module("casestudy.study")
narrative = lazy_module("casestudy.reconstruction.narrative")

#: How the commands name the kinds (``signoff codings 12``, ``signoff masked 3``).
KIND_WORDS = {"codings": "codings", "reconstruction": "reconstruction", "masked": "masked_text"}


def cmd_settings(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        required = signoffs.required_kinds(session, study)
        ctx.emit([{"kind": kind, "required": kind in required, "what": signoffs.KIND_LABELS[kind]} for kind in SIGNOFF_KINDS],
                 ["kind", "required", "what"])


def cmd_require(ctx: Context):
    a = ctx.args
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        changed = signoffs.set_required(session, study, ctx.principal(session), a.kind, not a.off)
    state = "no longer requires" if a.off else "requires"
    print(f"{study.title} {state} a sign-off of {signoffs.KIND_LABELS[a.kind]}" + ("" if changed else " (unchanged)"))


def _target_id(session, study, args) -> int:
    if args.kind_word == "reconstruction":
        case = studies.get_case(session, study, args.target)
        return narrative.get_version(session, case, args.version).id
    return int(args.target)


def cmd_sign(ctx: Context):
    a = ctx.args
    kind = KIND_WORDS[a.kind_word]
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        row = progress.sign_off(session, ctx.principal(session), study, kind, _target_id(session, study, a), a.note or "")
        target = progress.signoff_target(session, study, kind, row.target_id)
        record = {"id": row.id, "kind": kind, "target_id": row.target_id, "what": target.label, "signer": ctx.principal(session).name,
                  "signed_at": row.signed_at, "content_hash": row.content_hash, "note": row.note}
    ctx.report(record, f"signed off {record['what']} (sha256 {record['content_hash'][:12]}...)")


def cmd_show(ctx: Context):
    a = ctx.args
    kind = KIND_WORDS[a.kind_word]
    with ctx.store.read() as session:
        study = ctx.study(session)
        target = progress.signoff_target(session, study, kind, _target_id(session, study, a))
        data = {"kind": kind, "target_id": target.target_id, "what": target.label, "state": signoffs.state_of(session, target),
                "content_hash": target.content_hash, "authors": sorted(target.authors),
                "signoffs": [r.as_json() for r in signoffs.signoffs_of(session, target)]}
    if ctx.format == "json":
        ctx.emit(data)
        return
    print(f"{data['what']}: {data['state']}")
    ctx.emit(data["signoffs"], ["signer", "signed_at", "valid", "content_hash", "note"])


def cmd_list(ctx: Context):
    with ctx.store.read() as session:
        waiting = [w.as_json() for w in progress.awaiting_signoffs(session, ctx.study(session))]
    ctx.emit(waiting, ["kind", "target_id", "case", "label", "state", "authors"])


def _target_arguments(p, kind_word: str) -> None:
    if kind_word == "reconstruction":
        p.add_argument("target", metavar="CASE", help="the case (public or internal label)")
        p.add_argument("--version", type=int, help="the version number (default: the latest)")
    else:
        p.add_argument("target", metavar="INTERVIEW_ID" if kind_word == "codings" else "MASKED_ID")


def register(subparsers) -> None:
    p = subparsers.add_parser("signoff", help="sign-offs by a second researcher: settings, sign, show, what awaits one")
    sub = p.add_subparsers(dest="signoff_command", required=True)

    add_command(sub, "settings", "what the study requires a sign-off for", cmd_settings, formats=True)

    s = add_command(sub, "require", "require (or, with --off, stop requiring) a sign-off of one kind (study owner)", cmd_require)
    s.add_argument("kind", choices=list(SIGNOFF_KINDS))
    s.add_argument("--off", action="store_true", help="stop requiring it")

    add_command(sub, "list", "what awaits a sign-off the study requires", cmd_list, formats=True)

    for kind_word, what in (("codings", "an interview's codings"), ("reconstruction", "a reconstruction version"),
                            ("masked", "a masked text")):
        s = add_command(sub, kind_word, f"sign off {what} as it is now (run with --user NAME)", cmd_sign, formats=True)
        s.set_defaults(kind_word=kind_word)
        _target_arguments(s, kind_word)
        s.add_argument("--note", help="what you checked")

    s = sub.add_parser("show", help="the sign-offs of one thing and whether they still match its content")
    show = s.add_subparsers(dest="show_kind", required=True)
    for kind_word in KIND_WORDS:
        k = show.add_parser(kind_word)
        _target_arguments(k, kind_word)
        add_format_option(k)
        k.set_defaults(handler=cmd_show, kind_word=kind_word)
