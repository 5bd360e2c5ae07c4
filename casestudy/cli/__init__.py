"""The command line: ``python -m casestudy [--db URL] [--format F] COMMAND ...``.

Each module in this package adds its commands through ``register(subparsers)``; every command
is a thin wrapper over a library function. User errors print ``error: <message>`` and exit 2.

Start-up stays light: building the parser imports no stage module and no heavy library
(scikit-learn, spaCy, SciPy, pandas, plotly, python-docx, openpyxl, lxml, argon2, alembic, ...).
A command module names the library modules it uses with ``lazy_module("casestudy.x.y")``; the
module is imported when a handler first reads one of its attributes. ``register`` only uses light
modules (``casestudy.<stage>.constants`` and the like) for argparse choices.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from typing import Any

from casestudy import config, logs
from casestudy.cli.output import DATA_FORMATS, emit
from casestudy.errors import UserError

EXIT_USER_ERROR = 2
EXIT_UNEXPECTED = 1


class _LazyModule:
    """Stands in for a module and imports it on first attribute access (reads, writes, deletes)."""

    __slots__ = ("_lazy_name", "_lazy_module")

    def __init__(self, name: str):
        object.__setattr__(self, "_lazy_name", name)
        object.__setattr__(self, "_lazy_module", None)

    def _lazy_load(self):
        module = object.__getattribute__(self, "_lazy_module")
        if module is None:
            module = importlib.import_module(object.__getattribute__(self, "_lazy_name"))
            object.__setattr__(self, "_lazy_module", module)
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._lazy_load(), attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        setattr(self._lazy_load(), attr, value)

    def __delattr__(self, attr: str) -> None:
        delattr(self._lazy_load(), attr)

    def __dir__(self):
        return dir(self._lazy_load())

    def __repr__(self) -> str:
        return f"<lazy module {object.__getattribute__(self, '_lazy_name')!r}>"


def lazy_module(name: str) -> Any:
    """A stand-in for the module ``name`` that imports it when first used (not at CLI start-up)."""
    return _LazyModule(name)


OPERATOR = "cli"  # who the CLI is without --user: the operator, who holds the database itself


# Set by :func:`run` (a process that ends with its command): freeze the heap once the store is open.
_freeze_after_open = False
_USUAL_GC_THRESHOLDS = gc.get_threshold()
# While the modules load: the collector's passes over a heap that only grows (SQLAlchemy, the
# table classes) cost 0.05-0.1 s of every start-up and free next to nothing.
_START_UP_GC_THRESHOLDS = (100_000, 50, 1_000)


class Context:
    """What a command needs: parsed arguments, the store (opened on first use), output."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self._store = None
        self._principal = None

    @property
    def store(self):
        if self._store is None:
            from casestudy.migrate import get_store

            self._store = get_store(self.args.db)
            if _freeze_after_open:
                # The tables, SQLAlchemy and the store are loaded now and live until exit:
                # moving them out of the collector's reach spares every collection of the
                # command's own work a walk over them (~0.1 s of a 50-transcript import), and
                # the collector works at its usual pace again (see run()).
                gc.freeze()
                gc.set_threshold(*_USUAL_GC_THRESHOLDS)
        return self._store

    @property
    def format(self) -> str:
        return getattr(self.args, "format", None) or self.args.global_format or "table"

    @property
    def username(self) -> str | None:
        """The account named by --user (or $CASESTUDY_USER): commands run with its study rights."""
        import os

        return (getattr(self.args, "user", None) or os.environ.get("CASESTUDY_USER") or "").strip() or None

    def principal(self, session):
        """Who runs the command: the --user account (active), else the operator with admin rights.

        Whoever can open the database can read all of it, so the operator is not asked for a
        password; ``--user`` runs a command as one account, with that account's study roles.
        """
        from casestudy import access, users

        if self._principal is None:
            if self.username is None:
                self._principal = access.Principal(access.RESEARCHER, 0, OPERATOR, role="admin")
            else:
                user = users.get_user(session, self.username)
                if not user.active:
                    raise UserError(f"the account {user.username!r} is deactivated")
                self._principal = access.researcher(user)
        return self._principal

    def study(self, session, minimum: str | None = None):
        """The study this command works on (--study, else the first active study the user may see).

        Every command that reads or writes a study gets it here, through the membership guard:
        ``minimum`` defaults to "coder" in a writing session and "viewer" in a reading one.
        An unknown or archived study is a UserError; a refusal is an AccessDenied (logged by
        :func:`main`).
        """
        from casestudy import access
        from casestudy import study as studies

        principal = self.principal(session)
        if self.args.study:
            study = studies.get_study(session, self.args.study, include_archived=False)
        else:
            visible = studies.list_studies(session, for_user=None if principal.is_admin else principal.subject_id)
            study = visible[0] if visible else studies.get_study(session, include_archived=False)
        minimum = minimum or ("coder" if "actor" in session.info else "viewer")
        self._principal = access.require_study_role(principal, study, minimum)
        return study

    def guard_row(self, session, model, row_id: int, minimum: str | None = None) -> None:
        """For a command naming a row by id: the row's own study must pass the membership guard.

        A missing row is left to the library (which names what is unknown).
        """
        from casestudy import access
        from casestudy.models import Study

        row = session.get(model, row_id)
        if row is not None:
            minimum = minimum or ("coder" if "actor" in session.info else "viewer")
            access.require_study_role(self.principal(session), session.get(Study, row.study_id), minimum)

    def require_admin(self, session) -> None:
        """Account and audit commands: the operator, or a --user who is the server administrator."""
        from casestudy import access

        access.require_researcher(self.principal(session), admin=True)

    @property
    def actor(self) -> str:
        """The audit actor of this command's writes: the --user account, else the operator."""
        return self.username or OPERATOR

    def emit(self, data: Any, columns: Sequence[str] | None = None) -> None:
        emit(data, self.format, columns)

    def report(self, record: Any, sentence: str) -> None:
        """A command's one result: the record under ``--format json``, else the sentence for a person."""
        if self.format == "json":
            self.emit(record)
        else:
            print(sentence)

    def write(self, data: str | bytes, what: str = "this format") -> None:
        """Write a rendered result to --output, or text to stdout; binary results need --output."""
        from casestudy import tabular

        output = getattr(self.args, "output", None)
        if output:
            path = tabular.write(output, data)
            sys.stderr.write(f"wrote {path}\n")
            return
        if isinstance(data, bytes):
            raise UserError(f"{what} is binary: pass --output FILE")
        sys.stdout.write(data if data.endswith("\n") else data + "\n")


def add_format_option(parser: argparse.ArgumentParser, choices: Sequence[str] = DATA_FORMATS) -> None:
    parser.add_argument("--format", choices=list(choices), default=None, help="output format")


def add_command(subparsers, name: str, help_text: str, handler, formats: bool = False) -> argparse.ArgumentParser:
    """A subcommand running ``handler``, its help also its description; ``formats``: with --format."""
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    if formats:
        add_format_option(parser)
    return parser


def parse_date(text: str | None, what: str = "date") -> dt.date:
    """A YYYY-MM-DD option's date (today when it is not given); anything else is a UserError."""
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"invalid {what} {text!r}; use YYYY-MM-DD")


def optional_date(text: str | None, what: str = "date") -> dt.date | None:
    """A YYYY-MM-DD option's date, None when it is not given."""
    return parse_date(text, what) if text else None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: one line, exit 2
        self.print_usage(sys.stderr)
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(EXIT_USER_ERROR)


class _Sketch:
    """Accepts any call or attribute a ``register`` function makes and does nothing (no argparse)."""

    def __getattr__(self, name: str) -> _Sketch:
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> _Sketch:
        return self


class _SketchSubparsers:
    """Records the top-level commands (name, help, aliases) a ``register`` function adds."""

    def __init__(self):
        self.commands: list[tuple[str, dict]] = []

    def add_parser(self, name: str, **kwargs: Any) -> _Sketch:
        self.commands.append((name, {k: kwargs[k] for k in ("help", "aliases") if k in kwargs}))
        return _Sketch()


def _command_modules() -> list[Any]:
    modules = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name in ("output",):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        if getattr(module, "register", None) is not None:
            modules.append(module)
    return modules


def _global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help=f"SQLAlchemy database URL (default: $CASESTUDY_DATABASE_URL or {config.DEFAULT_DATABASE_URL})")
    parser.add_argument("--study", help="study id or title (default: the first active study you are a member of)")
    parser.add_argument("--user", help="run as this researcher account, with its study roles (default: $CASESTUDY_USER, "
                                       "else the operator, who may do everything)")
    parser.add_argument("--format", dest="global_format", choices=list(DATA_FORMATS), help="output format for data")


_GLOBAL_VALUE_OPTIONS = ("--db", "--study", "--user", "--format")


def _requested_command(argv: Sequence[str]) -> str | None:
    """The command word of ``argv``: the first word that is not a global option or its value."""
    words = iter(argv)
    for word in words:
        if word == "--":
            return next(words, None)
        if word.startswith("--") and "=" not in word and len(word) > 2 and any(o.startswith(word) for o in _GLOBAL_VALUE_OPTIONS):
            next(words, None)  # its value (argparse accepts unambiguous prefixes such as --stud)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser; every command's full tree, or (given ``argv``) only the one requested.

    With ``argv``, the module that registers the requested command builds its commands for real;
    the other commands are added with name and help only (enough for ``--help`` and for
    argparse's "invalid choice" message). This keeps start-up light: building all ~400 parsers
    costs more than a short command itself.
    """
    parser = _Parser(prog="casestudy", description="Qualitative multiple-case studies: the whole chain in one place.")
    _global_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    wanted = None if argv is None else _requested_command(argv)
    for module in _command_modules():
        if argv is None:
            module.register(subparsers)
            continue
        sketch = _SketchSubparsers()
        module.register(sketch)
        if wanted is not None and any(wanted == name or wanted in spec.get("aliases", ()) for name, spec in sketch.commands):
            module.register(subparsers)
        else:
            for name, spec in sketch.commands:
                subparsers.add_parser(name, **spec)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    context = Context(args)
    try:
        result = args.handler(context)
        return int(result or 0)
    except UserError as exc:
        _log_if_refused(context, exc)
        sys.stderr.write(f"error: {exc.message}\n")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted; nothing of the unfinished step was saved\n")
        return EXIT_USER_ERROR
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - last resort: log, short message
        reference = logs.log_unexpected(exc, where=f"cli {args.command}")
        sys.stderr.write(f"error: {logs.unexpected_message(reference)}\n")
        return EXIT_UNEXPECTED


def _log_if_refused(context: Context, exc: UserError) -> None:
    """An access refusal is audited once its transaction has ended (as the pages do)."""
    from casestudy.access import AccessDenied, log_refusal

    if isinstance(exc, AccessDenied):
        try:
            log_refusal(context.store, exc.principal, f"cli {context.args.command}", exc.what or exc.message)
        except Exception as log_exc:  # noqa: BLE001 - the refusal itself is still reported
            logs.log_unexpected(log_exc, where="cli log refusal")


def run() -> None:
    """The console entry point (``casestudy``, ``python -m casestudy``): :func:`main`, then exit.

    The process ends right after the command, so the open stores are closed first (their SQLite
    files checkpointed) and the heap is frozen (``gc.freeze``): the interpreter's final garbage
    collections then skip the objects of SQLAlchemy and the table classes, which otherwise cost
    0.1-0.3 s at exit. The heap is frozen once before as well, when the command opens its store
    (see :attr:`Context.store`), so that the collections during a bulk command skip them too;
    until then the collector runs rarely (start-up only adds long-lived objects). Exit handlers and module finalisation still run. In-process callers
    (tests) use :func:`main`, which leaves the process as it was.
    """
    global _freeze_after_open
    _freeze_after_open = True
    gc.set_threshold(*_START_UP_GC_THRESHOLDS)  # until the store is open (Context.store)
    code = main()
    migrate = sys.modules.get("casestudy.migrate")  # loaded only if the command opened a store
    if migrate is not None:
        migrate.close_stores()
    gc.freeze()
    sys.exit(code)
