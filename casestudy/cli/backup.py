"""Backup and restore: one archive, independent of the backend (SQLite <-> PostgreSQL)."""

from __future__ import annotations

import sys

from casestudy.cli import Context, add_format_option, lazy_module
from casestudy.errors import UserError

backups = lazy_module("casestudy.backup")


def cmd_backup(ctx: Context):
    manifest = backups.backup(ctx.store, ctx.args.file)
    ctx.emit(
        {
            "file": ctx.args.file,
            "tables": len(manifest["tables"]),
            "rows": sum(t["rows"] for t in manifest["tables"]),
            "revisions": manifest["alembic_revisions"],
            "backend": manifest["source_backend"],
        }
    )


def cmd_restore(ctx: Context):
    from casestudy.db import Store

    store = Store(ctx.args.db)  # not upgraded: an empty database stays empty until the restore
    try:
        if ctx.args.force and backups.database_rows(store) and not ctx.args.yes:
            if not sys.stdin.isatty():
                raise UserError("--force replaces everything in the database; add --yes to confirm")
            answer = input(f"This replaces everything in the database with {ctx.args.file}. Type 'replace' to go on: ")
            if answer.strip() != "replace":
                raise UserError("restore cancelled; nothing was changed")
        ctx.emit(backups.restore(store, ctx.args.file, force=ctx.args.force, actor="cli"))
    finally:
        store.dispose()


def register(subparsers) -> None:
    p = subparsers.add_parser("backup", help="write the whole study database to one archive (zip)")
    p.set_defaults(handler=cmd_backup)
    p.add_argument("file", help="archive to write, e.g. study-2026-05-01.casestudy.zip")
    add_format_option(p)
    p = subparsers.add_parser("restore", help="load an archive into an empty database (any backend)")
    p.set_defaults(handler=cmd_restore)
    p.add_argument("file")
    p.add_argument("--force", action="store_true", help="replace the content of a database that is not empty")
    p.add_argument("--yes", action="store_true", help="confirm --force without a prompt")
    add_format_option(p)
