"""The Audits and Periods-and-focus-groups pages (AppTest): an empty study, the demo, scoring an
item and viewing the summary; a viewer cannot score."""

from __future__ import annotations

from casestudy import access, users
from casestudy import study as studies
from casestudy.panel import audits
from casestudy.ui.session import PRINCIPAL_KEY


def _audits_page():
    from casestudy.ui.pages import audits as page

    page.render()


def _focus_page():
    from casestudy.ui.pages import focus_group as page

    page.render()


def _app(store, app_env, script, username="admin"):
    from streamlit.testing.v1 import AppTest

    app_env(store)
    with store.read() as session:
        user = users.get_user(session, username)
    at = AppTest.from_function(script, default_timeout=90)
    at.session_state[PRINCIPAL_KEY] = access.researcher(user)
    return at


def _labelled(widgets, label):
    return next(w for w in widgets if w.label == label)


def _errors(at) -> list[str]:
    return [e.value for e in at.error] + [str(x.value) for x in at.exception]


def test_pages_on_an_empty_study(store, app_env):
    with store.write("test") as session:
        studies.create_study(session, "Empty")
        users.add_user(session, "admin", "a long enough pass phrase", "admin")
    at = _app(store, app_env, _audits_page).run()
    assert not _errors(at) and any("No audits yet" in i.value for i in at.info)
    at = _app(store, app_env, _focus_page).run()
    assert not _errors(at) and any("no cases yet" in i.value for i in at.info)


def test_score_an_item_on_the_audit_page_and_see_the_summary(demo_store, app_env):
    with demo_store.write("test") as session:
        study = studies.get_study(session)
        audits.new_audit(session, study, studies.get_case(session, study, "Case B"), "mbt-adherence-audit", period="REORG", label="spring")
    at = _app(demo_store, app_env, _audits_page).run()
    assert not _errors(at)
    _labelled(at.radio, "Score").set_value(2)
    _labelled(at.text_input, "Evidence: documents").set_value("board minutes 2009")
    _labelled(at.button, "Save score").click().run()
    assert not _errors(at)
    with demo_store.read() as session:
        summary = audits.audit_summary(session, audits.get_audit(session, studies.get_study(session), "spring"))
    assert summary["items"][0]["scores"] == {"admin": 2}
    assert summary["items"][0]["evidence"]["admin"]["documents"] == ["board minutes 2009"]
    assert _labelled(at.selectbox, "Item").value.startswith("2. ")  # moved on to the next item
    _labelled(at.button, "Next").click().run()
    _labelled(at.button, "Next").click().run()  # item 4: its threshold is in view while scoring
    assert any("threshold: at most four weeks from referral" in m.value for m in at.markdown)


def test_focus_page_on_the_demo_and_a_viewer(demo_store, app_env):
    at = _app(demo_store, app_env, _focus_page)
    at.run()
    _labelled(at.selectbox, "Case").set_value("Case B").run()
    assert not _errors(at)
    for part in ("Round 2: summary and notes", "Round 3: consensus", "Table 4"):
        _labelled(at.radio, "Part").set_value(part).run()
        assert not _errors(at), part
    assert any("6.1 (4-7)" in str(df.value.to_dict()) for df in at.dataframe)
    with demo_store.write("test") as session:
        users.add_user(session, "viewer1", "a long enough pass phrase", "viewer")
    at = _app(demo_store, app_env, _audits_page, "viewer1").run()
    assert not _errors(at) and not [b for b in at.button if b.label == "Save score"]


def test_instruments_on_the_audit_page_imported_frozen_and_exported(demo_store, app_env):
    """The page stores a shipped instrument and an uploaded file through the library; an edited
    frozen version is refused with the hint to give it a new version, which then imports."""
    import yaml

    from casestudy.panel import instrument_store
    from casestudy.panel import instruments as ins

    with demo_store.write("test") as session:
        study = studies.get_study(session)
        audits.new_audit(session, study, studies.get_case(session, study, "Case B"), "mbt-adherence-audit", period="REORG", label="spring")
    at = _app(demo_store, app_env, _audits_page).run()
    assert not _errors(at)
    shown = at.dataframe[0].value
    row = shown[shown["name"] == "mbt-adherence-audit"].iloc[0]
    assert (row["version"], row["items"]) == (ins.load_shipped("mbt-adherence-audit").version, 20)
    assert row["frozen by"].startswith("audit")
    at.selectbox(key="instrument_show").set_value(next(o for o in at.selectbox(key="instrument_show").options if o.startswith("mbt-adherence-audit")))
    at.run()
    assert any(c.value.startswith("Scale 1-5: 1 = very poor") for c in at.caption)
    assert len(at.get("download_button")) >= 3
    # An edited copy under the same (used) version: refused, nothing changes.
    document = ins.load_shipped("mbt-adherence-audit").as_document()
    document["title"] = document["title"] + " (local edit)"
    at.file_uploader(key="instrument_upload").set_value([("audit.yaml", yaml.safe_dump(document).encode(), "application/x-yaml")])
    at.run()
    at.button(key="instrument_import").click()
    at.run()
    assert any("is in use" in e and "new version" in e for e in _errors(at))
    document["version"] = "99"
    at.file_uploader(key="instrument_upload").set_value([("audit.yaml", yaml.safe_dump(document).encode(), "application/x-yaml")])
    at.run()
    at.button(key="instrument_import").click()
    at.run()
    assert not at.exception and any("mbt-adherence-audit, version 99: added." in s.value for s in at.success)
    with demo_store.read() as session:
        versions = {(s.name, s.instrument_version, s.title) for s in instrument_store.list_stored(session, studies.get_study(session))}
    assert ("mbt-adherence-audit", "99", document["title"]) in versions


def test_compared_audits_carry_the_instrument_legend(demo_store, app_env):
    with demo_store.write("test") as session:
        study = studies.get_study(session)
        case = studies.get_case(session, study, "Case B")
        for label, period, score in (("pre", "PRE-REORG", 5), ("reorg", "REORG", 2)):
            audit = audits.new_audit(session, study, case, "mbt-adherence-audit", period=period, label=label)
            audits.score_item(session, audit, "1", "alice", score)
    at = _app(demo_store, app_env, _audits_page).run()
    at.multiselect(key="audit_compare").set_value(list(at.multiselect(key="audit_compare").options)).run()
    assert not _errors(at)
    assert any(c.value.endswith("Scale 1-5: 1 = very poor; 2 = poor; 3 = adequate; 4 = good; 5 = very good.") for c in at.caption)
    frame = next(d.value for d in at.dataframe if "pre (PRE-REORG)" in d.value.columns)
    assert frame[frame["Item"] == "1"][["pre (PRE-REORG)", "reorg (REORG)"]].values.tolist() == [[5, 2]]
