"""The Reports page (AppTest): study panel via a provider, Table 2 with note, rankings, downloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from casestudy import access
from casestudy import users
from casestudy.ui.session import PRINCIPAL_KEY
from casestudy.reports import inputs
from casestudy.panel import results

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _page_script():
    from casestudy.ui.pages import reports

    reports.render()


def _app(demo_store, app_env, principal=None):
    from streamlit.testing.v1 import AppTest

    app_env(demo_store)  # points the app at the demo database
    if principal is None:
        with demo_store.read() as session:
            principal = access.researcher(users.get_user(session, "admin"))
    at = AppTest.from_function(_page_script, default_timeout=60)
    at.session_state[PRINCIPAL_KEY] = principal
    return at


@pytest.fixture
def panel(monkeypatch):
    """The study's panel stands in for the published reference answers."""
    ratings = inputs.load_ratings(EXAMPLES / "reference-ratings.csv")
    mentions = inputs.load_determinants(EXAMPLES / "reference-determinants.csv")
    monkeypatch.setattr(results, "panel_ratings", lambda s, st: ratings)
    monkeypatch.setattr(results, "panel_determinants", lambda s, st: mentions)
    monkeypatch.setattr(results, "panel_figures", lambda s, st: results.PanelFigures(20, 12, 90))


def test_page_without_panel_says_so(demo_store, app_env):
    from sqlalchemy import delete

    from casestudy.models import PanelMember

    with demo_store.write() as session:  # the demo comes with a panel: remove it here
        session.execute(delete(PanelMember))
    at = _app(demo_store, app_env)
    at.run()
    assert not at.exception
    assert any("No expert-panel answers are in the database yet" in i.value for i in at.info)
    assert at.dataframe  # Table 1 from the demo cases is still there


def test_page_with_panel_shows_table2_rankings_and_methods(demo_store, app_env, panel):
    at = _app(demo_store, app_env)
    at.run()
    assert not at.exception, at.exception
    table2 = at.dataframe[0].value
    assert table2.columns.tolist() == ["Statement", "A", "B", "C", "D", "E", "F", "G", "Average"]
    assert table2.iloc[0].tolist() == ["Outcome", "negative", "positive", "negative", "negative", "mixed", "positive", "mixed", ""]
    assert table2.iloc[3]["B"] == "4.5 (4-5)"
    assert any("n = 12 experts" in c.value for c in at.caption)
    ranking = next(d.value for d in at.dataframe if "Determinant" in d.value.columns and "Borda" in d.value.columns)
    assert ranking["Experts (n)"].tolist() == [8, 7, 7, 5, 5, 3, 3, 2]
    assert any("Of the 20 experts invited, 12 returned" in m.value for m in at.markdown)
    at.radio(key="rounding").set_value("half-even").run()
    assert at.dataframe[0].value.iloc[4]["C"] == "3.2 (3-4)"


def test_mapping_confirmation_is_stored(demo_store, app_env, panel):
    at = _app(demo_store, app_env)
    at.run()
    at.button(key="confirm_mapping").click().run()
    assert not at.exception
    assert any("Stored" in s.value for s in at.success)
    from casestudy.reports import rankings
    from casestudy import study as studies

    with demo_store.read() as session:
        principal = access.researcher(users.get_user(session, "admin"))
        mapping = rankings.study_mapping(session, studies.get_study(session), principal)
    assert mapping["leadership"] == "leadership" and len(mapping) > 10


def test_library_refuses_non_researchers(demo_store):
    from casestudy.reports import render as reports
    from casestudy.reports import rankings
    from casestudy import study as studies

    expert = access.Principal("expert", 1, "x")
    with demo_store.read() as session:
        study = studies.get_study(session)
        for fn in (reports.study_table1, reports.study_outcomes, rankings.study_mapping):
            with pytest.raises(access.AccessDenied):
                fn(session, study, expert)
    viewer = access.Principal("researcher", 1, "v", role="viewer")
    with demo_store.write() as session, pytest.raises(access.AccessDenied):
        rankings.confirm_mappings(session, studies.get_study(session), viewer, {"a": "b"})


def test_statistics_files_tab_prepares_a_labelled_stata_file(demo_store, app_env, panel, tmp_path):
    import pyreadstat

    at = _app(demo_store, app_env)
    at.run()
    at.selectbox(key="stat_dataset").set_value("ratings-wide")
    at.radio(key="stat_format").set_value("dta")
    at.button(key="stat_prepare").click().run()
    assert not at.exception, at.exception
    from casestudy.ui.pages import reports

    assert "dl_stat_file" in [b.key for b in at.get("download_button")]
    wanted, written = at.session_state["_stat_file"]
    assert wanted[:2] == ("ratings-wide", "dta") and written.media_type == "application/x-stata-dta"
    path = tmp_path / "wide.dta"
    path.write_bytes(written.data)
    frame, meta = pyreadstat.read_dta(str(path))
    assert len(frame) == 84 and meta.column_names_to_labels["item02"] == "Organizational factors contributed"
    assert reports.STAT_DATASET_LABELS.keys() == set(reports.STAT_DATASETS)
    at.selectbox(key="stat_dataset").set_value("segments").run()  # another data set: the old file is not offered
    assert "dl_stat_file" not in [b.key for b in at.get("download_button")]
