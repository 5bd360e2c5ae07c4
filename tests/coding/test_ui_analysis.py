"""AppTest of the analysis page: from a matrix cell to the passages behind it."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from casestudy import access, study as studies, users
from casestudy.coding import matrices
from tests.conftest import ROOT


def test_a_cell_lists_its_passages_with_links(demo_store, monkeypatch):
    monkeypatch.setenv("CASESTUDY_DATABASE_URL", demo_store.url)
    with demo_store.read() as session:
        principal = access.researcher(users.get_user(session, "admin"))
        found = matrices.code_matrix(session, studies.get_study(session), principal=principal)
    # The fullest cell, so that the page has passages to list.
    row, column = max(found.passages, key=lambda cell: len(found.passages[cell]))
    expected = found.passages[(row, column)]
    assert expected and len(expected) == found.matrix[row][column]
    at = AppTest.from_file(str(ROOT / "tests" / "apps" / "single_page.py"), default_timeout=60)
    at.session_state["_page_module"] = "casestudy.ui.pages.analysis"
    at.session_state["_principal"] = principal
    at.session_state["analysis_tab"] = "Matrices"  # the tabs are lazy: only the open one runs
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.selectbox(key="cell_row").select(found.rows[row]).run()
    at.selectbox(key="cell_code").select(found.columns[column]).run()
    assert not at.exception
    shown = [getattr(element, "proto", None) for element in at.get("page_link")]
    labels = [p.label for p in shown if p is not None]
    first = expected[0]
    assert f"Passage 1: interview {first.interview_id}, characters {first.start}-{first.end}" in labels
    assert len([label for label in labels if label.startswith("Passage ")]) == min(50, len(expected))
