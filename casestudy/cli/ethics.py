"""ethics: the study's ethics status (show; set by the study owner), stated in the methods paragraph."""

from __future__ import annotations

from casestudy.cli import Context, add_command, lazy_module, optional_date
from casestudy.rigour_constants import ETHICS_STATES

ethics = lazy_module("casestudy.ethics")


def cmd_show(ctx: Context):
    with ctx.store.read() as session:
        record = ethics.ethics_record(ethics.get_ethics(session, ctx.study(session)))
    ctx.report(record, record["sentence"] or "no ethics status recorded yet: casestudy ethics set --status ...")


def cmd_set(ctx: Context):
    a = ctx.args
    with ctx.store.write(ctx.actor) as session:
        study = ctx.study(session)
        saved = ethics.set_ethics(session, study, ctx.principal(session), a.status, body=a.body or "",
                                  reference=a.reference or "", approved_on=optional_date(a.date, "date of approval"),
                                  reason=a.reason or "", expected_version=a.expect_version)
        record = ethics.ethics_record(saved)
    ctx.report(record, record["sentence"])


def register(subparsers) -> None:
    p = subparsers.add_parser("ethics", help="the study's ethics status (approval body, reference, date, or not required)")
    sub = p.add_subparsers(dest="ethics_command", required=True)
    add_command(sub, "show", "the ethics status and the sentence of the methods paragraph", cmd_show, formats=True)
    s = add_command(sub, "set", "record the ethics status (study owner)", cmd_set, formats=True)
    s.add_argument("--status", required=True, choices=list(ETHICS_STATES))
    s.add_argument("--body", help="approved: the committee or board that approved the study")
    s.add_argument("--reference", help="approved: its reference number")
    s.add_argument("--date", help="approved: the date of approval, YYYY-MM-DD")
    s.add_argument("--reason", help="not_required: why no approval is needed")
    s.add_argument("--expect-version", type=int, help="refuse if the status changed since this version")
