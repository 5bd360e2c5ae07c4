"""Codebook commands: import (a file or a shipped codebook), shipped, export, show, get, add, edit, move, merge, split, retire, search, as-of, history."""

from __future__ import annotations

from casestudy.cli import Context, add_format_option, lazy_module
from casestudy.codebook import constants as codebook_constants
from casestudy.errors import UserError

cb = lazy_module("casestudy.codebook.tree")
cio = lazy_module("casestudy.codebook.exchange")

SHOW_COLUMNS = ["id", "tree", "level", "secondary_levels", "codable", "status", "polarity", "count", "total"]


def _node_rows(nodes) -> list[dict]:
    return [
        {
            "id": n.id, "tree": "  " * n.depth + n.name, "path": n.path, "guid": n.guid, "level": n.level,
            "secondary_levels": n.secondary_levels, "codable": n.codable, "status": n.status
            + (f" into {n.merged_into}" if n.merged_into else ""), "polarity": n.polarity, "colour": n.colour,
            "count": n.count, "total": n.total, "short_definition": n.short_definition,
        }
        for n in cb.flatten(nodes)
    ]


def _emit_nodes(ctx: Context, nodes) -> None:
    rows = _node_rows(nodes)
    if ctx.format == "json":
        for row in rows:
            row.pop("tree")
        ctx.emit(rows)
    else:
        ctx.emit(rows, SHOW_COLUMNS)


def cmd_import(ctx: Context):
    a = ctx.args
    if bool(a.file) == bool(a.shipped):
        raise UserError("give either a FILE or --shipped NAME (see 'codebook shipped')")
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        if a.shipped:
            result = cio.load_shipped(session, study, a.shipped, replace=a.replace)
        else:
            result = cio.import_file(session, study, a.file, replace=a.replace)
    if ctx.format == "json":
        ctx.emit(result)
        return
    what = f"shipped codebook {a.shipped}" if a.shipped else a.file
    print(f"imported {what}: {result['added']} added, {result['updated']} updated, {result['retired']} retired")
    for warning in result["not_carried_over"]:
        print(f"not carried over: {warning}")


def cmd_shipped(ctx: Context):
    records = cio.shipped_catalogue()
    ctx.emit(records if ctx.format == "json" else [{k: r[k] for k in ("name", "title", "levels", "codes")} for r in records])


def cmd_export(ctx: Context):
    fmt = ctx.args.export_format
    if fmt == "xlsx" and not ctx.args.output:
        raise UserError("XLSX is a binary format: give --output FILE.xlsx")
    with ctx.store.write("cli") as session:
        data = cio.export(session, ctx.study(session, "viewer"), fmt)
    ctx.write(data if fmt == "xlsx" or isinstance(data, str) else data.decode("utf-8"), "XLSX")


def cmd_show(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        if ctx.args.as_of:
            nodes = cb.as_of(session, study, cb.parse_when(ctx.args.as_of), include_inactive=ctx.args.all)
        else:
            nodes = cb.tree(session, study, include_inactive=ctx.args.all)
        _emit_nodes(ctx, nodes)


def cmd_get(ctx: Context):
    with ctx.store.read() as session:
        study = ctx.study(session)
        code = cb.get_code(session, study, ctx.args.code)
        record = next(r for r in cb.records(session, study) if r["id"] == code.id)
        record["version"] = code.version
        ctx.emit(record)


TEXT_OPTIONS = (
    ("--short", "short_definition"), ("--definition", "definition"), ("--when-to-use", "when_to_use"),
    ("--when-not-to-use", "when_not_to_use"), ("--example", "example"), ("--sources", "sources"),
)


def _levels(text: str | None) -> list[str] | None:
    return None if text is None else [s.strip() for s in text.split(",") if s.strip()]


def cmd_add(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        parent = cb.get_code(session, study, a.parent) if a.parent else None
        texts = {field: getattr(a, field) or "" for _, field in TEXT_OPTIONS}
        code = cb.add_code(
            session, study, a.name, a.level or (parent.level if parent else ""), parent,
            secondary_levels=_levels(a.secondary), codable=not a.category, colour=a.colour,
            polarity=a.polarity or "none", origin=a.origin, **texts,
        )
        print(f"added code {code.id}: {cb.code_path(session, code)}")


def cmd_edit(ctx: Context):
    a = ctx.args
    changes = {field: getattr(a, field) for _, field in TEXT_OPTIONS if getattr(a, field) is not None}
    for key in ("name", "level", "colour", "polarity", "origin"):
        if getattr(a, key) is not None:
            changes[key] = getattr(a, key)
    if a.secondary is not None:
        changes["secondary_levels"] = _levels(a.secondary)
    if a.codable is not None:
        changes["codable"] = a.codable == "yes"
    if not changes:
        raise UserError("nothing to change: give at least one field option")
    with ctx.store.write("cli") as session:
        code = cb.get_code(session, ctx.study(session), a.code)
        cb.edit_code(session, code, a.expected_version, **changes)
        print(f"saved code {code.id}: {cb.code_path(session, code)} (version {code.version})")


def cmd_move(ctx: Context):
    a = ctx.args
    if bool(a.to) == bool(a.top):
        raise UserError("give either --to PARENT or --top")
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        code = cb.get_code(session, study, a.code)
        cb.move_code(session, code, None if a.top else cb.get_code(session, study, a.to))
        print(f"moved to {cb.code_path(session, code)}")


def cmd_merge(ctx: Context):
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        result = cb.merge_codes(session, cb.get_code(session, study, ctx.args.source), cb.get_code(session, study, ctx.args.target))
    ctx.report(result, f"merged {result['source']!r} into {result['target']!r}; moved {result['moved']}")


def _assignments(items: list[str] | None) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for item in items or []:
        kind, _, ids = item.partition(":")
        try:
            out.setdefault(kind.strip(), []).extend(int(i) for i in ids.split(",") if i.strip())
        except ValueError:
            raise UserError(f"invalid --move {item!r}; use KIND:ID,ID (e.g. codings:12,15)")
    return out


def cmd_split(ctx: Context):
    a = ctx.args
    with ctx.store.write("cli") as session:
        study = ctx.study(session)
        source = cb.get_code(session, study, a.code)
        new = cb.split_code(session, source, a.new_name, _assignments(a.move))
        print(f"split {source.name!r}: new code {new.id}: {cb.code_path(session, new)}")


def cmd_retire(ctx: Context):
    with ctx.store.write("cli") as session:
        code = cb.retire_code(session, cb.get_code(session, ctx.study(session), ctx.args.code))
        print(f"retired {code.name!r}")


def cmd_search(ctx: Context):
    with ctx.store.read() as session:
        hits = cb.search(session, ctx.study(session), ctx.args.text, include_inactive=ctx.args.all)
        ctx.emit(hits if ctx.format == "json" else [{k: h[k] for k in ("id", "path", "level", "status", "matched", "short_definition")} for h in hits])


def cmd_history(ctx: Context):
    with ctx.store.read() as session:
        code = cb.get_code(session, ctx.study(session), ctx.args.code)
        ctx.emit([
            {"at": r.at, "actor": r.actor, "action": r.action, "name": r.snapshot.get("name"), "status": r.snapshot.get("status"), "version": r.snapshot.get("version")}
            for r in cb.history(session, code)
        ])


def register(subparsers) -> None:
    parser = subparsers.add_parser("codebook", help="the codebook: codes, definitions, exchange")
    sub = parser.add_subparsers(dest="codebook_command", required=True)

    def command(name, help_text, handler, formats=True):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        if formats:
            add_format_option(p)
        return p

    p = command("import", "import a codebook file (.yaml, .csv, .xlsx, .qdc) or a shipped codebook into the study, all or nothing", cmd_import)
    p.add_argument("file", nargs="?", help="the codebook file (or give --shipped NAME)")
    p.add_argument("--shipped", metavar="NAME", help="a codebook shipped with Casestudy, by name (see 'codebook shipped')")
    p.add_argument("--replace", action="store_true", help="make the file the codebook: update matching codes (GUID, then path), add new ones, retire the rest")
    command("shipped", "the codebooks shipped with Casestudy (import one with 'codebook import --shipped NAME')", cmd_shipped)
    p = command("export", "export the codebook", cmd_export, formats=False)
    p.add_argument("--format", dest="export_format", choices=list(codebook_constants.FORMATS), default="yaml")
    p.add_argument("--output", "-o", help="file to write (default: standard output; required for xlsx)")
    p = command("show", "show the codebook tree with counts", cmd_show)
    p.add_argument("--all", action="store_true", help="include merged and retired codes")
    p.add_argument("--as-of", help="show the codebook as it was then: YYYY-MM-DD (end of day) or an ISO date-time, UTC")
    p = command("as-of", "the codebook as it was at a date (same as show --as-of)", cmd_show)
    p.add_argument("as_of", metavar="DATE")
    p.add_argument("--all", action="store_true")
    p = command("get", "one code with all its definition fields", cmd_get)
    p.add_argument("code", help="id, GUID, path or unique name")

    def text_options(p):
        for option, field in TEXT_OPTIONS:
            p.add_argument(option, dest=field)
        p.add_argument("--colour", help="#RRGGBB")
        p.add_argument("--polarity", choices=["none", "facilitator", "barrier", "both"])
        p.add_argument("--secondary", help="comma-separated secondary levels")

    p = command("add", "add a code", cmd_add, formats=False)
    p.add_argument("name")
    p.add_argument("--level", help="primary level (default: the parent's)")
    p.add_argument("--parent", help="parent code (id, path or unique name); default: top")
    p.add_argument("--category", action="store_true", help="a category that is not codable itself")
    p.add_argument("--origin", default="emergent", choices=["a priori", "emergent"])
    text_options(p)
    p = command("edit", "change fields of a code", cmd_edit, formats=False)
    p.add_argument("code")
    p.add_argument("--name")
    p.add_argument("--level")
    p.add_argument("--origin", choices=["a priori", "emergent"])
    p.add_argument("--codable", choices=["yes", "no"])
    p.add_argument("--expected-version", type=int, help="refuse if the code changed since this version")
    text_options(p)
    p = command("move", "move a code (with its sub-codes) under another parent", cmd_move, formats=False)
    p.add_argument("code")
    p.add_argument("--to", help="new parent")
    p.add_argument("--top", action="store_true", help="move to the top of the tree")
    p = command("merge", "merge SOURCE into TARGET (references move, duplicates collapse)", cmd_merge)
    p.add_argument("source")
    p.add_argument("target")
    p = command("split", "split a code: a new sibling code receives the chosen references", cmd_split, formats=False)
    p.add_argument("code")
    p.add_argument("new_name")
    p.add_argument("--move", action="append", metavar="KIND:ID,ID", help="references to move, e.g. codings:12,15 (repeatable)")
    p = command("retire", "retire a code (kept with its references, no longer offered)", cmd_retire, formats=False)
    p.add_argument("code")
    p = command("search", "search codes by name or definition text", cmd_search)
    p.add_argument("text")
    p.add_argument("--all", action="store_true", help="include merged and retired codes")
    p = command("history", "every saved state of one code", cmd_history)
    p.add_argument("code")
