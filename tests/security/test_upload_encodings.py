"""A non-UTF-8 CSV uploaded on a page gets one clear message, never the unexpected-error reference."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from casestudy import access
from casestudy import text
from casestudy.errors import UserError
from casestudy.models import User
from tests.conftest import ROOT

CP1252_CSV = "name,email,organisation,expertise\nJosé Müller,jm@example.org,Zürich,managing programmes\n".encode("cp1252")


def _page(store, monkeypatch, module: str) -> AppTest:
    monkeypatch.setenv("CASESTUDY_DATABASE_URL", store.url)
    with store.read() as session:
        principal = access.researcher(session.scalar(select(User).where(User.username == "admin")))
    at = AppTest.from_file(str(ROOT / "tests" / "apps" / "single_page.py"), default_timeout=60)
    at.session_state["_page_module"] = module
    at.session_state["_principal"] = principal
    return at


@pytest.mark.parametrize(
    "module, uploader, button, name",
    [
        ("casestudy.ui.pages.panel", "panel_members_csv", "panel_import_members", "members.csv"),
        ("casestudy.ui.pages.masking", "reg_upload", "reg_import", "register.csv"),
    ],
)
def test_cp1252_csv_upload_is_one_clear_error(demo_store, monkeypatch, module, uploader, button, name):
    at = _page(demo_store, monkeypatch, module)
    at.run()
    at.file_uploader(key=uploader).set_value([(name, CP1252_CSV, "text/csv")])
    at.run()
    at.button(key=button).click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"{name} is not UTF-8 text; save it as UTF-8 (in Excel: 'CSV UTF-8') and upload it again"
    ]


def test_decode_utf8():
    assert text.decode_utf8("a.csv", "\ufeffname\n".encode("utf-8")) == "name\n"
    with pytest.raises(UserError, match="a.csv is not UTF-8 text"):
        text.decode_utf8("a.csv", b"\xe9")
