"""Demo accounts never sign in outside demo mode; the app never loads the demo by itself."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select

from casestudy import access
from casestudy import config
from casestudy.db import Store
from casestudy.errors import UserError
from casestudy.models import AuditEvent, Study, User
from tests.conftest import ROOT


def test_demo_accounts_are_refused_outside_demo_mode(demo_store, monkeypatch):
    monkeypatch.setenv("CASESTUDY_DEMO", "0")
    for username, password in [("admin", config.DEMO_ADMIN_PASSWORD), ("Coder1", config.DEMO_CODER_PASSWORD),
                               ("coder2", config.DEMO_CODER_PASSWORD)]:
        with pytest.raises(UserError, match="demo mode"):
            access.login(demo_store, username, password)
    with demo_store.read() as session:
        refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "login_refused")).all()
        assert [e.detail["reason"] for e in refused] == ["demo account outside demo mode"] * 3
        assert session.scalar(select(User.last_login_at).where(User.username == "admin")) is None


def test_demo_accounts_sign_in_in_demo_mode(demo_store, monkeypatch):
    monkeypatch.setenv("CASESTUDY_DEMO", "1")
    assert access.login(demo_store, "admin", config.DEMO_ADMIN_PASSWORD).is_admin


def test_a_demo_account_with_a_changed_password_signs_in_outside_demo_mode(demo_store, monkeypatch):
    from casestudy import users

    monkeypatch.setenv("CASESTUDY_DEMO", "0")
    with demo_store.write() as session:
        users.set_password(session, "admin", "a private pass phrase")
    assert access.login(demo_store, "admin", "a private pass phrase").is_admin


def test_empty_database_outside_demo_mode_shows_the_administrator_form(tmp_path):
    """The app as a deployment starts it (no demo setting at all): no demo data, the setup form.

    Run in a clean environment (a subprocess), so no test default of this suite hides a
    demo that the app would load by itself.
    """
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    script = textwrap.dedent(f"""
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        print("FORM" if any("No account exists yet" in i.value for i in at.info) else "NO FORM")
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASESTUDY_")}
    env.update(PYTHONPATH=str(ROOT), CASESTUDY_DATABASE_URL=url, CASESTUDY_DATA_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("FORM") and "NO FORM" not in result.stdout
    store = Store(url)
    with store.read() as session:
        assert session.scalar(select(Study.id).limit(1)) is None
        assert session.scalar(select(User.id).limit(1)) is None
    store.dispose()


def test_demo_load_is_explicit_and_make_run_asks_for_it_in_demo_mode():
    makefile = (ROOT / "Makefile").read_text()
    run_recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "CASESTUDY_DEMO=1 $(PY) -m casestudy demo load --if-empty" in run_recipe
    assert "CASESTUDY_DEMO=1 $(VENV)/bin/streamlit run app.py" in run_recipe
    assert not hasattr(config, "DATABASE_AUTOLOAD_DEMO")
