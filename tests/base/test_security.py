"""Security review: what an expert, a respondent (token links) or a lesser researcher may NOT do.

Every attempt must be refused AND logged in the audit log. The module is table-driven so later
stages add their cases in one place:

- pages: discovered from ``casestudy.ui.pages`` (a new page is checked automatically against
  every principal outside its audience, by URL and by its own guard);
- ``LIBRARY_DENIALS``: library calls a token principal must not be able to make (other experts'
  or respondents' data, unreleased or unmasked texts...): add ``(label, function)`` entries;
- ``CSV_EXPORTS`` / ``FILE_EXPORTS``: CLI exports checked for formula injection.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable

import pytest
from sqlalchemy import select

from casestudy import access
from casestudy import config
from casestudy import security
from casestudy import study as studies
from casestudy import tabular
from casestudy.errors import UserError
from casestudy.models import AccessToken, AuditEvent, utcnow

from tests.conftest import ROOT
from casestudy.panel import answers
from casestudy.exchange import export as exchange_export
from casestudy.interviews import store as interviews_store
from casestudy.reconstruction import membercheck

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TOKEN_PAGES = {"respondent": "Your review", "expert": "Expert panel"}


# --- principals ---------------------------------------------------------------------------
def _issue(store, kind: str, days: int | None = 30) -> tuple[int, str]:
    with store.write() as session:
        study = studies.get_study(session)
        respondent = studies.get_case(session, study, "Case C").respondents[0]
        subject_type = "respondent" if kind == "respondent" else "panel_member"
        token, secret = access.issue_token(session, study.id, kind, subject_type, respondent.id, days)
        return token.id, secret


def _coder_id(store) -> int:
    from casestudy.models import User

    with store.read() as session:
        return session.scalar(select(User.id).where(User.role == "coder"))


def _refusals(store, since: int = 0) -> list[AuditEvent]:
    with store.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "refused", AuditEvent.id > since)))


def _last_event_id(store) -> int:
    with store.read() as session:
        return session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def _page_modules():
    from casestudy.ui.navigation import _page_modules

    return _page_modules()


def _audiences() -> dict[str, set[str]]:
    return {m.PAGE.url_path: set(m.PAGE.audience) for m in _page_modules()}


# (principal label, its navigation audience); a coder is a researcher who is not an admin.
PRINCIPALS = [("respondent", {"respondent"}), ("expert", {"expert"}), ("coder", {"researcher"})]


def _forbidden_pages(audience: set[str]) -> list[str]:
    """Paths of pages outside ``audience``, less those that are also an alias of one of its own
    pages (a researcher typing the experts' /panel gets the researchers' Expert panel)."""
    from casestudy.ui import navigation

    own_aliases = {alias for m in navigation._page_modules() if set(m.PAGE.audience) & audience for alias in m.PAGE.aliases}
    return [path for path, allowed in _audiences().items()
            if not allowed & audience and "anonymous" not in allowed and path not in own_aliases]


def _start(demo_store, app_env, who: str, runner: Callable | None = None, args: tuple = ()):
    """An AppTest session signed in as ``who`` (token link or logged-in coder)."""
    from streamlit.testing.v1 import AppTest

    new_app = app_env(demo_store)
    if runner is None:
        at = new_app()
    else:
        at = AppTest.from_function(runner, args=args, default_timeout=30)
    if who in TOKEN_PAGES:
        at.query_params["token"] = _issue(demo_store, who)[1]
    else:
        at.session_state["_principal"] = access.Principal(access.RESEARCHER, _coder_id(demo_store), "coder1", role="coder")
    return at


# --- researcher / other-role pages by URL ---------------------------------------------------
@pytest.mark.parametrize("who, audience", PRINCIPALS)
def test_pages_outside_the_role_do_not_exist_for_it(demo_store, app_env, who, audience):
    """Typing a forbidden page's URL lands on the principal's own page; nothing else renders."""
    from streamlit.util import calc_hash

    forbidden = _forbidden_pages(audience)
    assert forbidden, "every principal has pages it must not reach"
    at = _start(demo_store, app_env, who)
    at.run()
    own_title = at.title[0].value
    for path in forbidden:
        at._page_hash = calc_hash(path)  # what the browser sends for /<path> (st.Page hashes url_path)
        at.run()
        assert not at.exception
        assert at.title[0].value == own_title, path
        assert len(at.dataframe) == 0 or who == "coder", path
    if who == "coder":  # control: the same mechanism does open a page the role has
        at._page_hash = calc_hash("cases")
        at.run()
        assert at.title[0].value == "Cases and respondents"


def _run_page(module_name: str) -> None:
    import importlib

    importlib.import_module(module_name).render()


@pytest.mark.parametrize("who, audience", PRINCIPALS)
def test_each_page_guard_refuses_and_logs(demo_store, app_env, who, audience):
    """Even when a forbidden page's code runs, its own guard stops it and the refusal is logged."""
    modules = {m.PAGE.url_path: m.__name__ for m in _page_modules()}
    for path in _forbidden_pages(audience):
        since = _last_event_id(demo_store)
        at = _start(demo_store, app_env, who, _run_page, (modules[path],))
        at.run()
        assert not at.exception, path
        assert [e.value for e in at.error] and "only" in at.error[0].value, path
        assert len(at.dataframe) == 0 and len(at.title) == 0, path  # stopped before any content
        refusals = _refusals(demo_store, since)
        assert [e.detail["where"] for e in refusals] == [f"page {path}"], path
        assert refusals[0].detail["kind"] == ("researcher" if who == "coder" else who)


# --- tokens -----------------------------------------------------------------------------------
@pytest.mark.parametrize("problem", ["expired", "revoked", "guessed", "too short", "too long", "empty"])
def test_bad_tokens_are_refused_and_logged_without_the_secret(demo_store, problem):
    token_id, secret = _issue(demo_store, "expert")
    if problem == "expired":
        with demo_store.write() as session:
            session.get(AccessToken, token_id).expires_at = utcnow() - dt.timedelta(seconds=1)
    elif problem == "revoked":
        with demo_store.write() as session:
            access.revoke_token(session, token_id)
    else:
        secret = {"guessed": security.new_token_secret(), "too short": secret[:10], "too long": secret * 10, "empty": ""}[problem]
    since = _last_event_id(demo_store)
    with pytest.raises(access.AccessDenied, match="not valid"):
        access.resolve_token(demo_store, secret)
    refusals = _refusals(demo_store, since)
    assert len(refusals) == 1
    reason = {"expired": "expired", "revoked": "revoked"}.get(problem, "unknown")
    assert refusals[0].detail == {"reason": reason}
    assert refusals[0].entity_id == (token_id if reason != "unknown" else None)
    with demo_store.read() as session:
        logged = json.dumps([e.detail for e in session.scalars(select(AuditEvent))])
    assert not secret or secret not in logged


def test_guessed_token_in_the_app_shows_only_the_login(demo_store, app_env):
    at = app_env(demo_store)({"token": security.new_token_secret()})
    at.run()
    assert any("not valid" in w.value for w in at.warning)
    assert at.title[0].value == "Casestudy" and len(at.dataframe) == 0


def test_token_cannot_be_replayed_across_purposes(demo_store):
    """A respondent link never yields an expert principal and vice versa."""
    _, respondent_secret = _issue(demo_store, "respondent")
    _, expert_secret = _issue(demo_store, "expert")
    assert access.resolve_token(demo_store, respondent_secret).kind == "respondent"
    assert access.resolve_token(demo_store, expert_secret).kind == "expert"


# --- library calls a token principal must not make ---------------------------------------------
def _researcher_only(session, principal):
    access.require_researcher(principal)


def _admin_only(session, principal):
    access.require_researcher(principal, admin=True)


def _transcripts(session, principal):

    interviews_store.list_interviews(session, studies.get_study(session), principal=principal)


def _one_transcript(session, principal):
    from casestudy.models import Interview

    first = session.scalars(select(Interview).limit(1)).one()
    interviews_store.get_interview(session, studies.get_study(session), first.id, principal)


def _other_roles_view(session, principal):
    """An expert asking for the member-check view, a respondent for the expert questionnaire."""

    if principal.kind == "expert":
        membercheck.review_for(session, principal)
    else:
        answers.expert_view(session, principal)


def _refi_export(session, principal):

    exchange_export.build_qdpx(session, studies.get_study(session), principal)


def _table1(session, principal):
    from casestudy.reports import render as reports

    reports.study_table1(session, studies.get_study(session), principal)


LIBRARY_DENIALS: list[tuple[str, Callable]] = [
    ("researcher data", _researcher_only),
    ("administration", _admin_only),
    ("transcripts", _transcripts),
    ("one transcript", _one_transcript),
    ("the other role's view", _other_roles_view),
    ("project export with raw transcripts", _refi_export),
    ("Table 1 with internal data", _table1),
]


@pytest.mark.parametrize("label, call", LIBRARY_DENIALS, ids=[d[0] for d in LIBRARY_DENIALS])
@pytest.mark.parametrize("kind", ["respondent", "expert"])
def test_library_refuses_token_principals(demo_store, kind, label, call):
    principal = access.resolve_token(demo_store, _issue(demo_store, kind)[1])
    with pytest.raises(access.AccessDenied) as info:
        with demo_store.read() as session:
            call(session, principal)
    assert info.value.principal == principal
    since = _last_event_id(demo_store)
    access.log_refusal(demo_store, info.value.principal, label, info.value.what)
    assert [e.actor for e in _refusals(demo_store, since)] == [principal.actor]


# --- uploads -----------------------------------------------------------------------------------
def test_oversized_upload_is_refused(monkeypatch):
    security.check_upload_size("ok.docx", config.MAX_UPLOAD_BYTES)  # exactly at the limit: fine
    with pytest.raises(UserError, match=r"big\.docx is 25\.0 MB; uploads are limited to 25\.0 MB|big\.docx is"):
        security.check_upload_size("big.docx", config.MAX_UPLOAD_BYTES + 1)
    monkeypatch.setattr(config, "MAX_UPLOAD_BYTES", 1024)
    with pytest.raises(UserError, match="limited to 0.0 MB"):
        security.read_upload("t.txt", io.BytesIO(b"x" * 5000))
    assert security.read_upload("t.txt", io.BytesIO(b"x" * 1024)) == b"x" * 1024


def test_streamlit_upload_limit_matches_the_library():
    import tomllib

    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["maxUploadSize"] * 1024 * 1024 == config.MAX_UPLOAD_BYTES
    assert settings["server"]["enableXsrfProtection"] is True
    assert settings["browser"]["gatherUsageStats"] is False


# --- formula injection in exports ----------------------------------------------------------------
HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1"]

# CLI commands whose --format csv output is a table export; later stages add theirs here.
CSV_EXPORTS = [("cases", "list"), ("respondents", "list"), ("consent", "list"), ("audit", "list", "--limit", "500")]


def _plant_hostile_text(store) -> None:
    with store.write("attacker") as session:
        study = studies.get_study(session)
        case = studies.get_case(session, study, "Case A")
        case.outcome_description = HOSTILE[0]
        respondent = studies.add_respondent(session, case, HOSTILE[3], "other")
        studies.record_consent(session, respondent, "interview", dt.date(2024, 1, 1), HOSTILE[1])
        studies.record_consent(session, respondent, "recording", dt.date(2024, 1, 1), HOSTILE[2])
        studies.record_consent(session, respondent, "member_check", dt.date(2024, 1, 1), HOSTILE[4])


def assert_no_live_formula(cells) -> int:
    """Every cell is inert; returns how many carry hostile text (so a test sees it checked some)."""
    carrying = 0
    for cell in cells:
        text = "" if cell is None else str(cell)
        assert not text.startswith(FORMULA_START), text
        carrying += any(h.lstrip("\t") in text for h in HOSTILE)
    return carrying


@pytest.mark.parametrize("command", CSV_EXPORTS, ids=[" ".join(c[:2]) for c in CSV_EXPORTS])
def test_cli_csv_exports_neutralise_formulas(demo_store, cli, command):
    _plant_hostile_text(demo_store)
    result = cli("--db", demo_store.url, *command, "--format", "csv")
    assert result.code == 0, result
    cells = [cell for row in csv.reader(io.StringIO(result.out)) for cell in row]
    assert assert_no_live_formula(cells) >= 1


def test_xlsx_cells_are_strings_not_formulas():
    import openpyxl

    data = tabular.xlsx_bytes({"quotes": (["text", "n"], [[h, -2] for h in HOSTILE])})
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert assert_no_live_formula([c.value for c in cells if c.column == 1]) == len(HOSTILE)
    assert all(c.data_type == "s" for c in cells if c.column == 1)
    assert [c.value for c in cells if c.column == 2] == [-2] * len(HOSTILE)  # numbers stay numbers
