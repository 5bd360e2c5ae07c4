"""AppTest of the coding workbench (the component's JS does not run here: state is injected)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from casestudy import access, users
from casestudy.coding import spans
from casestudy.interviews import store as interviews_store
from casestudy.models import AuditEvent, Coding
from casestudy.ui.pages import coding as page
from tests.coding.test_coding import TEXT_MANAGER, setup  # noqa: F401
from tests.conftest import ROOT


def _app(store, monkeypatch, username="coder1"):
    monkeypatch.setenv("CASESTUDY_DATABASE_URL", store.url)
    with store.read() as session:
        user = users.get_user(session, username)
        principal = access.researcher(user)
    at = AppTest.from_file(str(ROOT / "tests" / "apps" / "single_page.py"), default_timeout=30)
    at.session_state["_page_module"] = "casestudy.ui.pages.coding"
    at.session_state["_principal"] = principal
    return at


def _principal(store, username):
    with store.read() as session:
        return access.researcher(users.get_user(session, username))


def test_workbench_renders_and_answers_operations(store, setup, monkeypatch):  # noqa: F811
    at = _app(store, monkeypatch)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Case A" in at.selectbox(key="coding_interview").value
    # The transcript went out once; the next render sends marks only.
    assert at.session_state[page.TEXT_SENT].startswith(f"{setup['manager']}:")
    principal = _principal(store, "coder1")
    with store.read() as session:
        first = page.workbench_data(session, principal, setup["manager"], None)
        again = page.workbench_data(session, principal, setup["manager"], first["textKey"])
        leadership = next(c["id"] for c in first["codes"] if c["path"] == "Leadership")
    assert first["text"] == TEXT_MANAGER and again["text"] is None and again["canCode"]
    start = TEXT_MANAGER.index("Leadership was strong")
    ack = page.run_operation(principal, setup["manager"], {"id": 1, "kind": "apply", "codes": [leadership], "start": start, "end": start + 21})
    assert ack == {"op": 1, "ok": True, "message": "applied 1 code(s)"}
    with store.read() as session:
        (saved,) = session.query(Coding).all()
        assert (saved.start, saved.end, saved.coder.username) == (start, start + 21, "coder1")
        marks = page.workbench_data(session, principal, setup["manager"], first["textKey"])["marks"]
        assert page.workbench_data(session, principal, setup["manager"], None)["recent"] == [leadership]
    assert [(m[0], m[3], m[4]) for m in marks] == [(saved.id, start, start + 21)]
    # A stale version is refused with the library's edit-conflict message, nothing changes.
    ack = page.run_operation(principal, setup["manager"], {"id": 2, "kind": "remove", "codings": [{"id": saved.id, "version": 99}]})
    assert not ack["ok"] and "saved this item in the meantime" in ack["message"]
    ack = page.run_operation(principal, setup["manager"], {"id": 3, "kind": "remove", "codings": [{"id": saved.id, "version": marks[0][5]}]})
    assert ack["ok"]
    with store.read() as session:
        assert session.query(Coding).count() == 0
    assert page.run_operation(principal, setup["manager"], {"id": 4, "kind": "undo"})["ok"]
    with store.read() as session:
        assert session.query(Coding).count() == 1
    assert page.run_operation(principal, setup["manager"], {"id": 5, "kind": "redo"})["ok"]
    with store.read() as session:
        assert session.query(Coding).count() == 0
    at.run()
    assert not at.exception


def test_viewer_cannot_apply(store, setup, monkeypatch):  # noqa: F811
    at = _app(store, monkeypatch, "viewer")
    at.run()
    assert not at.exception
    viewer = _principal(store, "viewer")
    with store.read() as session:
        data = page.workbench_data(session, viewer, setup["manager"], None)
    assert not data["canCode"]
    ack = page.run_operation(viewer, setup["manager"], {"id": 1, "kind": "apply", "codes": [data["codes"][-1]["id"]], "start": 0, "end": 5})
    assert not ack["ok"] and "needs the role coder" in ack["message"]
    with store.read() as session:
        assert session.query(Coding).count() == 0
        refusal = session.query(AuditEvent).filter_by(entity="access", action="refused").order_by(AuditEvent.id.desc()).first()
        assert refusal.actor == "viewer" and refusal.detail["where"] == "coding workbench"


def test_quick_mode_codes_sentences(store, setup, monkeypatch):  # noqa: F811
    at = _app(store, monkeypatch)
    at.session_state["coding_mode"] = "Sentences"
    at.run()
    key = f"quick_{setup['manager']}"
    at.session_state[key] = {"edited_rows": {1: {"code": "Support/Budget"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="quick_save").click()
    at.run()
    assert not at.exception
    with store.read() as session:
        (saved,) = session.query(Coding).all()
        assert saved.code.name == "Budget"


def _page(store, monkeypatch, module, username="coder1"):
    at = _app(store, monkeypatch, username)
    at.session_state["_page_module"] = module
    return at


def test_analysis_and_agreement_pages(store, setup, monkeypatch):  # noqa: F811
    from casestudy import study as studies
    from casestudy.codebook import tree as codebook

    start = TEXT_MANAGER.index("Leadership was strong")
    with store.write() as session:
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, setup["manager"])
        for name in ("coder1", "coder2"):
            spans.apply_codes(session, interview, [codebook.get_code(session, study, "Leadership")], spans.get_coder(session, name), start, start + 21)
    at = _page(store, monkeypatch, "casestudy.ui.pages.analysis")
    at.run()
    assert not at.exception
    assert any("2 segment(s)" in c.value for c in at.caption)
    assert not any("Passages behind a cell" in m.value for m in at.markdown)  # only the open tab runs
    for tab, shown in (("Matrices", "Passages behind a cell"), ("Manager vs therapist", "'only' names the role")):
        at.session_state["analysis_tab"] = tab
        at.run()
        assert not at.exception
        assert any(shown in m.value for m in [*at.markdown, *at.caption]), tab
    at = _page(store, monkeypatch, "casestudy.ui.pages.agreement")
    at.run()
    at.button(key="agr_compute").click()
    at.run()
    assert not at.exception and not at.error
    left_out, table = at.dataframe[0].value, at.dataframe[1].value
    assert list(left_out["interview"]) == ["therapist.txt"] and list(left_out["reason"]) == ["coded by none of the chosen coders"]
    assert any("Interviews compared (1):** manager.txt" in m.value for m in at.markdown)
    assert list(table["code"]) == ["Leadership", "(all codes)"] and table["percent agreement"].iloc[0] == 1.0


def test_a_densely_coded_interview_offers_passages_and_narrowing(store, setup, monkeypatch):  # noqa: F811
    from casestudy import study as studies
    from casestudy.coding import stripes

    monkeypatch.setattr(stripes, "MAX_MARKS", 5)
    rows = "".join(f"{setup['manager']},{'coder1' if n % 3 else 'coder2'},Leadership,{n * 10},{n * 10 + 15}\n" for n in range(12))
    with store.write("coder1") as session:
        spans.import_codings_csv(session, studies.get_study(session), "interview,coder,code,start,end\n" + rows)
    at = _app(store, monkeypatch)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    passage = at.selectbox(key=page.PASSAGE)
    assert passage.options == ["1 of 3: characters 0-50", "2 of 3: characters 50-100", "3 of 3: characters 100-188"]
    assert any("12 codings match: the stripes show those of one passage at a time" in c.value for c in at.caption)
    passage.set_value(2).run()
    assert not at.exception and at.selectbox(key=page.PASSAGE).value == 2
    at.selectbox(key=page.NARROW_CODER).set_value("coder2").run()
    assert not at.exception and not at.error
    assert any(c.value == "4 codings match the code and coder chosen." for c in at.caption)
    assert at.selectbox(key=page.PASSAGE).options == ["1 of 1: characters 0-188"]
