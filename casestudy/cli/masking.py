"""Masking commands.

``mask --register REGISTER.csv INPUT...`` masks files (stdout, or --output-dir for several);
``mask --register REGISTER.csv --check FILE...`` is the leak scan (exit 1 with FILE:LINE:COLUMN
lines). ``masking ...`` is the study workflow over the database (researchers only); ``masking
linkage`` lists what a masked text gives away about other cases, ``masking accept-finding`` and
``masking mask-finding`` settle those findings.
"""

from __future__ import annotations

import sys
from pathlib import Path

from casestudy.cli import Context, add_command, files, lazy_module
from casestudy.errors import UserError
from casestudy.masking import constants as masking_constants

masking = lazy_module("casestudy.masking.engine")
masking_workflow = lazy_module("casestudy.masking.workflow")
models = lazy_module("casestudy.models")

EXIT_FINDINGS = 1


def cmd_mask(ctx: Context) -> int:
    a = ctx.args
    entries = masking.read_register(a.register)
    texts = [(path, files.read_text(path)) for path in a.inputs]  # every input readable before any output
    register = masking.Register(entries)
    if a.check:
        found = 0
        for path, text in texts:
            for finding in register.scan(text):
                found += 1
                print(f"{path}:{finding.line}:{finding.column}: {finding.text} ({finding.term})")
        return EXIT_FINDINGS if found else 0
    if len(texts) > 1 and not a.output_dir:
        raise UserError("several inputs need --output-dir DIR (the masked files keep their names)")
    if a.output_dir:
        names = [Path(path).name for path, _ in texts]
        if len(set(names)) != len(names):
            raise UserError("two inputs have the same file name; mask them into different --output-dir folders")
        out_dir = Path(a.output_dir)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            for (path, text), name in zip(texts, names):
                if (out_dir / name).resolve() == Path(path).resolve():
                    raise UserError(f"{path}: the output would overwrite the input; choose another --output-dir")
            for (path, text), name in zip(texts, names):
                (out_dir / name).write_text(register.mask(text, candidates=False).masked, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write to {out_dir}: {exc.strerror}")
        print(f"masked {len(texts)} file(s) into {out_dir}", file=sys.stderr)
        return 0
    sys.stdout.write(register.mask(texts[0][1], candidates=False).masked)
    return 0


# --- study workflow -------------------------------------------------------------------
def _wf():

    return masking_workflow


def _entry_record(row) -> dict:
    return {"id": row.id, "term": row.term, "replacement": row.replacement, "kind": row.kind, "variants": ";".join(row.variants or []),
            "options": masking.options_text(_wf().engine_entry(row)), "version": row.version}


def cmd_register_list(ctx: Context):
    with ctx.store.read() as session:
        ctx.emit([_entry_record(r) for r in _wf().list_entries(session, ctx.study(session))],
                 ["id", "term", "replacement", "kind", "variants", "options", "version"])


def _options(items) -> dict:
    return masking._parse_options(";".join(items or []), "--option", 0) if items else {}


def cmd_register_add(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        row = _wf().add_entry(session, ctx.study(session), a.term, a.replacement, a.kind, a.variant or [], _options(a.option))
        print(f"added register entry {row.id}: {row.term} -> {row.replacement}")


def cmd_register_edit(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        ctx.guard_row(session, models.RegisterEntry, ctx.args.entry_id)
        changes = {"term": a.term, "replacement": a.replacement, "kind": a.kind}
        if a.variant is not None:
            changes["variants"] = a.variant
        if a.option:
            changes["options"] = _options(a.option)
        row = _wf().update_entry(session, a.entry_id, a.expect_version, **changes)
        print(f"saved register entry {row.id} (version {row.version})")


def cmd_register_delete(ctx: Context):
    with ctx.store.write("cli") as session:
        ctx.guard_row(session, models.RegisterEntry, ctx.args.entry_id)
        _wf().delete_entry(session, ctx.args.entry_id)
        print(f"deleted register entry {ctx.args.entry_id}")


def cmd_register_import(ctx: Context):
    text = files.read_text(ctx.args.file, "register")
    with ctx.store.write("cli") as session:
        ctx.emit(_wf().import_register_csv(session, ctx.study(session), text, ctx.args.file))


def cmd_register_export(ctx: Context):
    with ctx.store.read() as session:
        text = _wf().export_register_csv(session, ctx.study(session))
    if ctx.args.output:
        from casestudy.tabular import write

        write(ctx.args.output, text)
        print(f"wrote {ctx.args.output}")
    else:
        sys.stdout.write(text)


def _masked_record(row, full: bool = False) -> dict:
    record = {
        "id": row.id, "case": row.case.public_label, "kind": row.text_kind, "source_ref": row.source_ref, "status": row.status,
        "replacements": len(row.replacements), "open_candidates": sum(1 for c in row.candidates if c.get("status") == "open"),
        "released_hash": row.released_hash or "", "version": row.version,
    }
    if full:
        record.update({"masked_text": row.masked_text, "replacement_list": row.replacements, "candidate_list": row.candidates})
    return record


def cmd_generate(ctx: Context):
    from casestudy import study as studies

    a = ctx.args
    if bool(a.file) == bool(a.from_agreed):
        raise UserError("give either --file FILE or --from-agreed")
    text = files.read_text(a.file) if a.file else None
    with ctx.store.write("cli") as session:
        case = studies.get_case(session, ctx.study(session), a.case)
        if a.from_agreed:
            row = _wf().generate_from_agreed(session, case)
        else:
            row = _wf().generate_masked(session, case, text, a.source_ref or f"file:{Path(a.file).name}")
        ctx.emit(_masked_record(row))


def cmd_list(ctx: Context):
    from casestudy import study as studies

    with ctx.store.read() as session:
        study = ctx.study(session)
        case = studies.get_case(session, study, ctx.args.case) if ctx.args.case else None
        ctx.emit([_masked_record(r) for r in _wf().list_masked(session, study, case)])


def cmd_show(ctx: Context):
    with ctx.store.read() as session:
        ctx.guard_row(session, models.MaskedText, ctx.args.masked_id)
        row = _wf().get_masked(session, ctx.args.masked_id)
        if ctx.format == "json":
            ctx.emit(_masked_record(row, full=True))
            return
        print(row.masked_text)
        for i, r in enumerate(row.replacements):
            print(f"replacement {i}: {r['start']}-{r['end']} {r['text']!r} -> {r['replacement']!r} ({r['rule']}, {r['status']})", file=sys.stderr)
        for i, c in enumerate(row.candidates):
            if c.get("reason") == _wf().LINKAGE_REASON:
                print(f"candidate {i}: accepted {c['kind']} {c['term']!r} of {', '.join(c['cases'])} by {c['accepted_by']} "
                      f"at {c['accepted_at']}: {c['note']}", file=sys.stderr)
                continue
            print(f"candidate {i}: {c['start']}-{c['end']} {c['text']!r} ({c['reason']}{', ' + c['suggestion'] if c['suggestion'] else ''}; {c['status']})", file=sys.stderr)


def cmd_review(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        ctx.guard_row(session, models.MaskedText, ctx.args.masked_id)
        if a.accept_all:
            row = _wf().accept_all(session, a.masked_id)
        elif a.replacement_index is not None:
            row = _wf().review_replacement(session, a.masked_id, a.replacement_index, a.text)
        elif a.candidate_index is not None:
            row = _wf().decide_candidate(session, a.masked_id, a.candidate_index, a.action or "keep", a.text or "")
        else:
            raise UserError("say what to review: --accept-all, --replacement N [--text T] or --candidate N --action keep|mask [--text T]")
        print(f"masked text {row.id} saved (version {row.version})")


def cmd_scan(ctx: Context) -> int:
    with ctx.store.read() as session:
        ctx.guard_row(session, models.MaskedText, ctx.args.masked_id)
        row = _wf().get_masked(session, ctx.args.masked_id)
        findings = _wf().leak_scan(session, row)
        for f in findings:
            print(f"masked:{row.id}:{f.line}:{f.column}: {f.text} ({f.term})")
        linkage = _wf().open_findings(session, row)
        for f in linkage:
            print(f"masked:{row.id}:{f.line}:{f.column}: {f.text} ({f.kind} {f.term!r} of {', '.join(f.cases)})")
    return EXIT_FINDINGS if findings or linkage else 0


FINDING_COLUMNS = ["kind", "term", "text", "cases", "line", "column", "acceptable", "status", "reason", "accepted_by", "accepted_at"]


def cmd_linkage(ctx: Context) -> int:
    with ctx.store.read() as session:
        ctx.guard_row(session, models.MaskedText, ctx.args.masked_id)
        records = _wf().finding_records(session, _wf().get_masked(session, ctx.args.masked_id))
    ctx.emit(records, FINDING_COLUMNS)
    return EXIT_FINDINGS if any(r["status"] == "open" for r in records) else 0


def cmd_accept_finding(ctx: Context):
    a = ctx.args
    with ctx.store.write(a.actor or "cli") as session:
        ctx.guard_row(session, models.MaskedText, ctx.args.masked_id)
        row = _wf().accept_finding(session, a.masked_id, a.kind, a.term, a.reason, a.actor or "cli", a.expect_version)
        print(f"accepted the {a.kind} {a.term!r} in masked text {row.id} (version {row.version})")


def cmd_mask_finding(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        ctx.guard_row(session, models.MaskedText, ctx.args.masked_id)
        row = _wf().mask_finding(session, a.masked_id, a.kind, a.term, a.text, a.expect_version)
        print(f"masked the {a.kind} {a.term!r} in masked text {row.id} (version {row.version})")


def cmd_release(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        ctx.guard_row(session, models.MaskedText, ctx.args.masked_id)
        row = _wf().release(session, a.masked_id, a.actor or "cli", allow_open_candidates=a.allow_open_candidates)
        print(f"released masked text {row.id} of {row.case.public_label}: sha256 {row.released_hash}")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "mask", help="mask files with a register CSV, or check them for leaks (--check)",
        description="Mask text files with an identity register (term,replacement,kind[,variants]); --check reports leaks.",
    )
    p.set_defaults(handler=cmd_mask)
    p.add_argument("--register", required=True, metavar="REGISTER.csv")
    p.add_argument("--check", action="store_true", help="report register terms still present (exit 1 if any)")
    p.add_argument("--output-dir", metavar="DIR", help="write masked files here under the same names")
    p.add_argument("inputs", nargs="+", metavar="INPUT")

    m = subparsers.add_parser("masking", help="masking workflow in the study (register, review, release)")
    ms = m.add_subparsers(dest="masking_command", required=True)
    reg = ms.add_parser("register", help="the study's identity register").add_subparsers(dest="register_command", required=True)
    add_command(reg, "list", "list register entries", cmd_register_list, formats=True)
    for name, handler in (("add", cmd_register_add), ("edit", cmd_register_edit)):
        p = add_command(reg, name, f"{name} a register entry", handler)
        if name == "edit":
            p.add_argument("entry_id", type=int)
            p.add_argument("--expect-version", type=int, help="refuse if the entry changed since this version")
        p.add_argument("--term", required=name == "add")
        p.add_argument("--replacement", required=name == "add")
        p.add_argument("--kind", required=name == "add", help=", ".join(masking_constants.KINDS))
        p.add_argument("--variant", action="append", help="repeatable")
        p.add_argument("--option", action="append", help="NAME=on|off, repeatable: " + ", ".join(masking_constants.OPTION_DEFAULTS))
    add_command(reg, "delete", "delete a register entry", cmd_register_delete).add_argument("entry_id", type=int)
    add_command(reg, "import", "add or update entries from a register CSV", cmd_register_import, formats=True).add_argument("file")
    add_command(reg, "export", "the register as CSV", cmd_register_export).add_argument("--output", help="file to write (default stdout)")

    p = add_command(ms, "generate", "a draft masked version of a case text", cmd_generate, formats=True)
    p.add_argument("--case", required=True)
    p.add_argument("--file", help="UTF-8 text file ('-' for stdin)")
    p.add_argument("--from-agreed", action="store_true", help="mask the case's agreed reconstruction (member check)")
    p.add_argument("--source-ref", help="where the text comes from, e.g. reconstruction_version:12")
    add_command(ms, "list", "masked texts", cmd_list, formats=True).add_argument("--case")
    add_command(ms, "show", "a masked text with its replacements and candidates (researchers only)", cmd_show, formats=True).add_argument(
        "masked_id", type=int
    )
    p = add_command(ms, "review", "accept or edit replacements, keep or mask candidates", cmd_review)
    p.add_argument("masked_id", type=int)
    p.add_argument("--accept-all", action="store_true")
    p.add_argument("--replacement", dest="replacement_index", type=int)
    p.add_argument("--candidate", dest="candidate_index", type=int)
    p.add_argument("--action", choices=["keep", "mask"])
    p.add_argument("--text", help="new replacement text")
    add_command(ms, "scan", "leak scan of a masked text (exit 1 on findings)", cmd_scan).add_argument("masked_id", type=int)
    add_command(ms, "linkage", "what a masked text gives away about other cases, with decisions (exit 1 while any is open)",
             cmd_linkage, formats=True).add_argument("masked_id", type=int)
    for name, handler, help_text in (
        ("accept-finding", cmd_accept_finding, "accept a linkage finding (every occurrence) with a reason"),
        ("mask-finding", cmd_mask_finding, "mask a linkage finding (every occurrence) with a replacement"),
    ):
        p = add_command(ms, name, help_text, handler)
        p.add_argument("masked_id", type=int)
        p.add_argument("--kind", required=True, choices=list(masking_constants.LINKAGE_KINDS))
        p.add_argument("--term", required=True, help="the finding's term, as `masking linkage` lists it")
        p.add_argument("--expect-version", type=int, help="refuse if the masked text changed since this version")
        if name == "accept-finding":
            p.add_argument("--reason", required=True, help="why this may stay in the released text")
            p.add_argument("--actor", help="who accepts (default cli)")
        else:
            p.add_argument("--text", required=True, help="the replacement, e.g. [another case]")
    p = add_command(ms, "release", "freeze a masked text for the panel (refused on leaks and open linkage findings)", cmd_release)
    p.add_argument("masked_id", type=int)
    p.add_argument("--actor", help="who releases (default cli)")
    p.add_argument("--allow-open-candidates", action="store_true")
