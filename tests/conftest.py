"""Shared fixtures: a fresh store per test, the demo store, the CLI in-process, AppTest, browser.

Set CASESTUDY_TEST_DATABASE_URL to a PostgreSQL URL to run the suite against PostgreSQL: each
test then gets the schema rebuilt from the migrations, and a demo test a copy of a database the
demo was loaded into once per worker.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from casestudy import demo
from casestudy import migrate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The suite signs in with the demo accounts, which work only in demo mode; tests of the
# production behaviour (tests/security/) turn it off with monkeypatch or a clean environment.
os.environ.setdefault("CASESTUDY_DEMO", "1")
os.environ.setdefault("CASESTUDY_DATA_DIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / "casestudy-test-data"))

from casestudy import db as dbmod
from casestudy.cli import main as cli_main  # noqa: E402

POSTGRES_URL = os.environ.get("CASESTUDY_TEST_DATABASE_URL")


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets its own PostgreSQL database (schemas are reset per test)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


POSTGRES_URL = _worker_database(POSTGRES_URL)
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def db_url(tmp_path) -> str:
    if POSTGRES_URL:
        _reset_postgres(POSTGRES_URL)
        migrate._stores.pop(POSTGRES_URL, None)
        return POSTGRES_URL
    return f"sqlite:///{tmp_path / 'study.sqlite'}"


@pytest.fixture
def store(db_url):
    store = dbmod.Store(db_url)
    migrate.upgrade(store)
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path | None:
    """The demo loaded once into a SQLite file that tests copy (PostgreSQL: ``postgres_demo_template``)."""
    if POSTGRES_URL:
        return None

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    template = dbmod.Store(f"sqlite:///{path}")
    migrate.upgrade(template)
    demo.load_demo(template)
    template.dispose()
    return path


def _postgres_admin():
    """An AUTOCOMMIT engine on the cluster's own test database (CREATE/DROP DATABASE run there)."""
    from sqlalchemy import create_engine

    return create_engine(os.environ["CASESTUDY_TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")


def _postgres_database(name: str, template: str | None = None) -> str:
    """(Re)create database ``name`` of this cluster, empty or as a copy of ``template``; its URL."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    admin = _postgres_admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # ends pooled connections too
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_demo_template() -> str | None:
    """PostgreSQL: the name of a database with the demo loaded once per worker (tests copy it
    with CREATE DATABASE ... TEMPLATE, as SQLite tests copy the demo file)."""
    if not POSTGRES_URL:
        return None
    from sqlalchemy.engine import make_url

    name = f"{make_url(POSTGRES_URL).database}_demo"
    template = dbmod.Store(_postgres_database(name))
    migrate.upgrade(template)
    demo.load_demo(template)
    template.dispose()  # a template must have no open connection while it is copied
    return name


@pytest.fixture
def demo_store(tmp_path, demo_template, postgres_demo_template, db_url):

    if postgres_demo_template is not None:
        from sqlalchemy.engine import make_url

        url = _postgres_database(f"{make_url(POSTGRES_URL).database}_test", template=postgres_demo_template)
        migrate._stores.pop(url, None)
        store = dbmod.Store(url)
    elif demo_template is None:
        store = dbmod.Store(db_url)
        migrate.upgrade(store)
        demo.load_demo(store)
    else:
        target = tmp_path / "demo.sqlite"
        shutil.copy(demo_template, target)
        store = dbmod.Store(f"sqlite:///{target}")
    yield store
    store.dispose()


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out[:500]!r}, err={self.err[:500]!r})"


@pytest.fixture
def cli():
    """Run ``python -m casestudy`` in-process: cli('--db', url, 'cases', 'list')."""

    def run(*argv: str, stdin: str | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        old_stdin = sys.stdin
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = cli_main([str(a) for a in argv])
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 2
        finally:
            sys.stdin = old_stdin
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


# --- AppTest --------------------------------------------------------------------------
@pytest.fixture
def app_env(monkeypatch):
    """Point the app at a given store: app_env(store) returns an AppTest factory."""

    def for_store(store):
        monkeypatch.setenv("CASESTUDY_DATABASE_URL", store.url)
        from streamlit.testing.v1 import AppTest

        def new_app(query: dict | None = None) -> AppTest:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
            for key, value in (query or {}).items():
                at.query_params[key] = value
            return at

        return new_app

    return for_store


# --- real browser ---------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_chromium() -> str:
    if CHROMIUM:
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is missing under CI=true: browser tests must run (apt-get install chromium)")
    pytest.skip("chromium is not installed (run 'make test' as root, or apt-get install chromium)")


@contextlib.contextmanager
def streamlit_server(app: Path, env: dict, log_path: Path):
    """Run ``streamlit run app`` on a free loopback port until the block ends; yields the base URL."""
    port = _free_port()
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         # No file watcher: tests never edit the app, and on a busy checkout its inotify queue overflowed into the log.
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if time.time() > deadline or process.poll() is not None:
                    pytest.fail(f"the Streamlit server did not become healthy; see {log_path}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextlib.contextmanager
def demo_copy_server(tmp_path_factory, demo_template: Path | None, name: str):
    """A Streamlit server (app.py, demo mode) over a private copy of the SQLite demo, for a test
    module whose writes must not reach the other modules' shared ``browser_server``; yields
    ``{"base": URL, "url": database URL}``. Skips under PostgreSQL (there is no demo file to copy)."""
    if demo_template is None:
        pytest.skip("the browser tests copy the SQLite demo")
    folder = tmp_path_factory.mktemp(name)
    shutil.copy(demo_template, folder / "demo.sqlite")
    url = f"sqlite:///{folder / 'demo.sqlite'}"
    env = {"CASESTUDY_DATABASE_URL": url, "CASESTUDY_DEMO": "1"}
    with streamlit_server(ROOT / "app.py", env, folder / "streamlit.log") as base:
        yield {"base": base, "url": url}


SHOTS = Path(os.environ.get("CASESTUDY_SHOTS", "/tmp/casestudy-shots"))


def save_shot(page, name: str, full_page: bool = True) -> None:
    """A screenshot of the page as SHOTS/name ($CASESTUDY_SHOTS, default /tmp/casestudy-shots)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=full_page)


@pytest.fixture(scope="session")
def browser_server(tmp_path_factory):
    """A real Streamlit server (app.py) on a free port over a fresh demo database."""
    require_chromium()

    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'browser.sqlite'}"
    store = dbmod.Store(url)
    migrate.upgrade(store)
    demo.load_demo(store)
    store.dispose()
    env = {"CASESTUDY_DATABASE_URL": url, "CASESTUDY_DEMO": "1"}
    with streamlit_server(ROOT / "app.py", env, folder / "streamlit.log") as base:
        yield {"base": base, "url": url, "log": folder / "streamlit.log"}


@pytest.fixture(scope="session")
def chromium_browser():
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    act_as_a_user_who_waits()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def wait_for_app(page) -> None:
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_load_state("networkidle")


# How long Streamlit's script state must stay "notRunning" before the page counts as settled. A
# click reaches the server a round trip before the state turns "running", so one look is not enough.
QUIET_MS = 300
_QUIET_JS = """(quietMs) => {
    const app = document.querySelector('[data-testid=stApp]');
    if (!app) return true;  // not a Streamlit page (a download, a blank tab)
    const now = performance.now();
    if (app.dataset.testScriptState !== 'notRunning') { window.__casestudyQuietSince = null; return false; }
    if (window.__casestudyQuietSince == null) window.__casestudyQuietSince = now;
    return now - window.__casestudyQuietSince >= quietMs;
}"""


def wait_for_idle(page, timeout: float | None = None) -> None:
    """Wait until Streamlit has had no script run going or queued for ``QUIET_MS`` (its own
    ``data-test-script-state``): a click during a run's last re-render can land on an element
    about to be replaced, and the click is then lost."""
    page.evaluate("() => { window.__casestudyQuietSince = null; }")
    page.wait_for_function(_QUIET_JS, arg=QUIET_MS, timeout=timeout)


def act_as_a_user_who_waits() -> None:
    """Make every Playwright click, fill, check, selection, upload, key press and mouse press of the
    browser tests first wait for its element and for Streamlit to settle (:func:`wait_for_idle`).

    A person sees the page redraw and acts after it; a test acting at machine speed under CI load
    clicked a radio of the previous case or typed into a grid that was being replaced, and that
    input was lost (stops 23-25 failed on such races). Idempotent; called by ``chromium_browser``.
    """
    from playwright.sync_api import Keyboard, Locator, Mouse
    from playwright.sync_api._generated import mapping

    if getattr(Locator, "_casestudy_waits", False):
        return

    def on_locator(action, state):
        def settled(self, *args, **kwargs):
            self.first.wait_for(state=state, timeout=kwargs.get("timeout"))
            wait_for_idle(self.page, kwargs.get("timeout"))
            return action(self, *args, **kwargs)
        return settled

    def on_device(action):
        def settled(self, *args, **kwargs):
            wait_for_idle(mapping.from_impl(self._impl_obj._page))
            return action(self, *args, **kwargs)
        return settled

    for name in ("click", "dblclick", "fill", "check", "uncheck", "set_checked", "select_option", "press", "press_sequentially", "type"):
        setattr(Locator, name, on_locator(getattr(Locator, name), "visible"))
    Locator.set_input_files = on_locator(Locator.set_input_files, "attached")  # the file input is hidden
    for name in ("click", "dblclick", "down"):
        setattr(Mouse, name, on_device(getattr(Mouse, name)))
    Keyboard.press = on_device(Keyboard.press)
    Locator._casestudy_waits = True


def login_as_admin(page, base: str) -> None:
    """Open the app and log in as the demo administrator; returns on the overview page."""
    from casestudy import config

    page.goto(base)
    wait_for_app(page)
    page.get_by_role("textbox", name="User name").fill("admin")
    page.get_by_label("Password", exact=True).fill(config.DEMO_ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("MBT implementation in seven programmes").first.wait_for()


def server_log_problems(log: str) -> list[str]:
    """The tracebacks and exceptions of a Streamlit server log that are ours to fix.

    Left out: the server's own report of a browser that went away in the middle of a websocket
    receive (a reload or a closed tab while messages were in flight), which is not an app error.
    """
    blocks = log.split("Traceback (most recent call last):")
    problems = [block[:1500] for block in blocks[1:]
                if not ("starlette_websocket.py" in block and "receive" in block.split("\n\n")[0])]
    if "Exception" in blocks[0] and "Uncaught app exception" in blocks[0]:
        problems.append(blocks[0][-1500:])
    return problems
