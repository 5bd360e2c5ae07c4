"""The store: engine set-up, read and write transactions, migrations with backups.

SQLite (the embedded default) runs in WAL mode with foreign keys and a busy timeout. Writing
transactions start with ``BEGIN IMMEDIATE`` so that a read-then-write transaction cannot race
with another process and lose an update (Python's sqlite3 otherwise starts the transaction only
at the first write).

PostgreSQL gets the same semantics: every writing transaction first takes one transaction-level
advisory lock (``pg_advisory_xact_lock``), so writers run one after another exactly as with
SQLite's ``BEGIN IMMEDIATE`` while readers never wait (MVCC). Under READ COMMITTED each statement
of a writer then sees every earlier commit, so a read-modify-write cannot lose an update, and no
serialization failure can surface to a user. A writer that waits longer than the busy timeout
gets "the database is busy" (``lock_timeout``). The lock is released by commit, rollback, or the
server when a client dies. One exception, bulk loads (``Store.staged_write``): they add their
rows first and take the lock only for what follows (see ``hold_write_lock``), so that a long load
does not hold it for seconds.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import fcntl
import os
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from casestudy import config
from casestudy.errors import UserError

T = TypeVar("T")
R = TypeVar("R")

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_CACHE_KIB = 32 * 1024  # per connection, filled only by pages actually read
# Same wait for PostgreSQL writers; the advisory-lock key is arbitrary but fixed ("CASE" in ASCII).
POSTGRES_LOCK_TIMEOUT_MS = SQLITE_BUSY_TIMEOUT_MS
WRITE_LOCK_KEY = 0x43415345
# Connections per process (PostgreSQL): every Streamlit session or thread that is inside a
# transaction holds one; the rest wait up to POOL_TIMEOUT seconds.
POOL_SIZE = int(os.environ.get("CASESTUDY_DB_POOL_SIZE", "10"))
POOL_MAX_OVERFLOW = int(os.environ.get("CASESTUDY_DB_POOL_OVERFLOW", "30"))
POOL_TIMEOUT = 30


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        # Let SQLAlchemy's "begin" event below decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # A study's transcripts are tens of MB; with SQLite's 2 MB default page cache a matrix over
        # 200,000 codings re-read each interview's page from the OS for every coding.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised by every test
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _configure_postgres(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        options = conn.get_execution_options()
        if options.get("casestudy_writer") or options.get("casestudy_late_writer"):
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {POSTGRES_LOCK_TIMEOUT_MS}")
        if options.get("casestudy_writer"):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def hold_write_lock(session: Session) -> None:
    """From here to its commit, this transaction is a serialised writer (see the module docstring).

    For the apply phase of :meth:`Store.staged_write`, which on PostgreSQL starts without the
    lock: rows that only add to a table (``bulk.insert_staged``) go in first, concurrently with
    other writers (MVCC keeps them invisible until the commit), and everything that reads in
    order to write comes after this call. Taking it again is harmless; SQLite holds it already.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a malformed URL or a missing driver is a UserError."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(f"cannot use database URL {url!r}: it is not a valid SQLAlchemy URL")
    kwargs: dict = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UserError(f"cannot create the folder for the database {database!r}: {exc.strerror}")
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs.update(pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_MAX_OVERFLOW, pool_timeout=POOL_TIMEOUT)
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise UserError(f"cannot use database URL {url!r}: no driver for it ({exc})")
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _configure_postgres(engine)
    return engine


class WriterQueue:
    """The writers of one process take turns in the order they came (SQLite only).

    SQLite's busy handler polls with growing sleeps, so under a stream of saves a waiting writer
    can lose the lock to newcomers again and again (saves of 10-20 s were measured with 35
    saving threads). Queued here first, the threads of one server process reach SQLite one at a
    time, in arrival order; only writers of other processes (a CLI import, a second server)
    still meet SQLite's own wait. Re-entrant for the thread that holds it.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: collections.deque[threading.Event] = collections.deque()
        self._held = False
        self._owner: int | None = None
        self._depth = 0

    @contextlib.contextmanager
    def turn(self, timeout_s: float) -> Iterator[None]:
        me = threading.get_ident()
        if self._owner == me:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if not self._acquire(timeout_s):
            raise UserError(BUSY_MESSAGE)
        self._owner = me
        try:
            yield
        finally:
            self._owner = None
            self._release()

    def _acquire(self, timeout_s: float) -> bool:
        with self._mutex:
            if not self._held and not self._waiters:
                self._held = True
                return True
            event = threading.Event()
            self._waiters.append(event)
        if event.wait(timeout_s):
            return True
        with self._mutex:
            if event.is_set():  # handed over just as the wait ended
                return True
            self._waiters.remove(event)
            return False

    def _release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()  # handed straight to the next writer: stays held
            else:
                self._held = False


# Store.exclusive for in-memory SQLite databases, which no other process can open.
_LOCAL_CLAIMS: dict[tuple[str, str], threading.Lock] = {}


class Store:
    """One database. ``read()`` and ``write()`` hand out sessions inside a transaction."""

    def __init__(self, url: str | None = None):
        self.url = config.database_url(url)
        self.engine = make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.is_postgres = self.engine.dialect.name == "postgresql"
        write_bind = self.writer_engine()
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(write_bind, expire_on_commit=False)
        self._writers = WriterQueue() if self.is_sqlite else None

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it changes is committed.

        Closing (not rolling back) keeps loaded attributes readable after the block.
        """
        with translate_db_errors(self.url), self._read_sessions() as session:
            yield session

    @contextlib.contextmanager
    def write(self, actor: str = "system") -> Iterator[Session]:
        """A writing transaction: all of it is committed, or (on any exception) none of it.

        ``actor`` is recorded with every audit event the transaction writes.
        """
        # The audit log's after_flush hook is installed when casestudy.audit is imported; a
        # command that never imported it (the CLI loads modules lazily) would write unaudited.
        from casestudy import audit  # noqa: F401
        with translate_db_errors(self.url), self._writer_turn(), self._write_sessions() as session:
            session.info["actor"] = actor
            with session.begin():
                yield session

    def _writer_turn(self):
        """This process's queue of SQLite writers (see :class:`WriterQueue`); nothing on PostgreSQL,
        whose advisory lock already queues writers."""
        if self._writers is None:
            return contextlib.nullcontext()
        return self._writers.turn(SQLITE_BUSY_TIMEOUT_MS / 1000)

    def staged_write(self, actor: str, prepare: Callable[[Session], T], apply: Callable[[Session, T], R]) -> R:
        """Bulk work that holds the write lock only briefly: ``apply(session, prepare(session))``.

        ``prepare`` runs first in a read transaction that takes no write lock (the panel keeps
        saving meanwhile): it validates, reads and puts what is to be stored into temporary tables
        of the connection (``bulk.stage_rows``), and must not change shared tables. ``apply``
        then runs in one short writing transaction on the same connection, re-checks what may
        have changed in between and moves the staged rows (``bulk.insert_staged``). All or
        nothing, like :meth:`write`: a failure in either phase stores nothing, and a connection
        whose work failed is discarded with its temporary tables.

        On SQLite the whole of ``apply`` holds the write lock (``BEGIN IMMEDIATE``; 50,000 staged
        codings move in about 0.3-0.6 s on a loaded two-core machine). On PostgreSQL, where the
        same move takes seconds (a foreign-key check per row), ``apply`` starts without the global
        lock: it moves the staged rows first, then calls :func:`hold_write_lock` before anything
        that reads in order to write; the lock is taken at the latest before the commit.
        """
        from casestudy import audit  # noqa: F401 - see write()
        with translate_db_errors(self.url), self.engine.connect() as connection:
            try:
                with Session(bind=connection, expire_on_commit=False) as session:
                    session.info["actor"] = actor
                    with session.begin():
                        prepared = prepare(session)
                connection.execution_options(sqlite_begin="IMMEDIATE", casestudy_late_writer=True)
                with self._writer_turn(), Session(bind=connection, expire_on_commit=False) as session:
                    session.info["actor"] = actor
                    with session.begin():
                        result = apply(session, prepared)
                        hold_write_lock(session)
                        return result
            except BaseException:
                connection.invalidate()
                raise

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """Whether this caller is now the only holder of ``name`` among all the processes (and
        threads) using this database: True, held to the end of the block; False when someone
        else holds it (nothing waits). The holder's end releases it, also when its process dies
        (a killed load leaves no stale claim): PostgreSQL's session advisory lock, else an
        ``flock`` on a file beside the SQLite database (a process-local lock for an in-memory one).
        """
        if self.is_postgres:
            with self.engine.connect() as connection:
                key = zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF
                held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:k1, :k2)"), {"k1": WRITE_LOCK_KEY, "k2": key}))
                connection.commit()  # the session-level lock outlives the transaction
                try:
                    yield held
                finally:
                    if held:
                        connection.execute(text("SELECT pg_advisory_unlock(:k1, :k2)"), {"k1": WRITE_LOCK_KEY, "k2": key})
                        connection.commit()
            return
        database = make_url(self.url).database
        if not database or database == ":memory:":
            lock = _LOCAL_CLAIMS.setdefault((self.url, name), threading.Lock())
            held = lock.acquire(blocking=False)
            try:
                yield held
            finally:
                if held:
                    lock.release()
            return
        try:
            handle = open(f"{database}.{name}.lock", "a")  # the file stays: removing a lock file races
        except OSError as exc:
            raise UserError(f"cannot create the lock file beside the database {database!r}: {exc.strerror}")
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
            except BlockingIOError:
                held = False
            try:
                yield held
            finally:
                if held:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def writer_engine(self) -> Engine:
        """The engine whose transactions are serialised writers (BEGIN IMMEDIATE / advisory lock)."""
        return self.engine.execution_options(sqlite_begin="IMMEDIATE", casestudy_writer=True)

    def dispose(self) -> None:
        self.engine.dispose()


@contextlib.contextmanager
def translate_db_errors(url: str) -> Iterator[None]:
    try:
        yield
    except StaleDataError:
        raise UserError(CONFLICT_MESSAGE)
    except OperationalError as exc:
        message = str(exc.orig) if exc.orig is not None else str(exc)
        # A deadlock (PostgreSQL picks one of two transactions waiting on each other) is a busy
        # database to the user as well: nothing was saved, trying again works.
        if "database is locked" in message or "lock timeout" in message or "deadlock detected" in message:
            raise UserError(BUSY_MESSAGE)
        if "database or disk is full" in message or "No space left on device" in message:
            raise UserError(DISK_FULL_MESSAGE)
        if "no such table" in message or "does not exist" in message and "relation" in message:
            raise UserError(
                f"the database at {_safe_url(url)} is not set up; run 'python -m casestudy db upgrade'"
            )
        if "unable to open database" in message or "connection" in message.lower():
            raise UserError(f"cannot open the database at {_safe_url(url)}: {message.splitlines()[0]}")
        raise


BUSY_MESSAGE = "the database is busy; try again in a moment"
DISK_FULL_MESSAGE = "the disk is full: nothing was saved; free some space (or ask the administrator) and try again"
CONFLICT_MESSAGE = (
    "someone else saved this item in the meantime; reload to see the newer version "
    "and apply your change again"
)


class EditConflict(UserError):
    """A save based on an outdated version; ``current`` holds the newer saved values."""

    def __init__(self, message: str, version: int, current: dict):
        super().__init__(message)
        self.version = version
        self.current = current


def check_version(row, expected_version: int | None, fields: Iterable[str] = ()) -> None:
    """The one edit-conflict rule: a save based on version ``expected_version`` of ``row`` is
    refused with an :class:`EditConflict` (a UserError) when the row has moved on since; the
    message and ``current`` show the saved values of ``fields``. ``None`` means the caller did
    not edit from a shown version (a script, an import): nothing is checked."""
    if expected_version is None or row.version == expected_version:
        return
    newer = {key: getattr(row, key) for key in fields if hasattr(row, key)}
    shown = ", ".join(f"{key}={_short(value)}" for key, value in newer.items())
    raise EditConflict(f"{CONFLICT_MESSAGE}. Saved now (version {row.version})" + (f": {shown}" if shown else ""), row.version, newer)


def apply_edit(session: Session, model: type, row_id: int, expected_version: int, **changes):
    """Apply ``changes`` to a row the user edited from version ``expected_version``.

    If another save came first, nothing is overwritten (:func:`check_version`). Writers are
    serialised (see the module docstring), and the row is re-read inside the writing
    transaction, so the check cannot race on either backend.
    """
    row = session.get(model, row_id, populate_existing=True)
    if row is None:
        raise UserError(f"this {model.__name__.lower()} no longer exists")
    check_version(row, expected_version, changes)
    for key, value in changes.items():
        if not hasattr(model, key):
            raise UserError(f"{model.__name__.lower()} has no field {key!r}")
        setattr(row, key, value)
    return row


def _short(value, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def sqlite_backup(store: Store) -> Path | None:
    """Copy a SQLite database file to a timestamped backup beside it (consistent under WAL)."""
    if not store.is_sqlite:
        return None
    database = store.engine.url.database
    if not database or database == ":memory:" or not Path(database).exists():
        return None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = Path(database).with_name(f"{Path(database).name}.{stamp}.bak")
    source = sqlite3.connect(database)
    try:
        destination = sqlite3.connect(target)
        with destination:
            source.backup(destination)
        destination.close()
    finally:
        source.close()
    return target


def query_plan(session: Session, query, analyze: bool = False) -> list[str]:
    """The database's plan for the SELECT ``query``, one line per step: SQLite's EXPLAIN QUERY
    PLAN (``analyze`` is ignored), PostgreSQL's EXPLAIN, with ``analyze`` EXPLAIN (ANALYZE,
    BUFFERS), which runs the query (actual rows, times, pages read). The values are inlined, so
    the planner sees them as the real query's bound values."""
    connection = session.connection()
    sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "postgresql":
        return [row[0] for row in connection.exec_driver_sql(("EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN ") + sql)]
    return [row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]


def table_names(store: Store) -> list[str]:
    return inspect(store.engine).get_table_names()


__all__ = ["Store", "EditConflict", "apply_edit", "check_version", "hold_write_lock", "make_engine", "query_plan", "sqlite_backup"]
