"""The Expert panel page's Delphi tab: the rule, the rounds, open and close, the report."""

from __future__ import annotations

from casestudy import study as studies
from casestudy.panel import delphi

from tests.panel.test_delphi import ADMIN
from tests.panel.test_panel import _researcher_page


def test_delphi_tab_shows_the_demo_rounds_and_opens_round_three(demo_store, app_env):
    at = _researcher_page(demo_store, app_env)
    at.run()
    assert not at.exception
    assert any("Stopping rule (fixed when round 1 closed):" in m.value and "IQR is at most 0.5" in m.value for m in at.markdown)
    frames = [d.value for d in at.dataframe]
    rounds = next(f for f in frames if "met" in f.columns)
    assert rounds[["round", "status", "experts", "met"]].values.tolist() == [[1, "closed", 12, 17], [2, "closed", 12, 28]]
    items = next(f for f in frames if "Rule met in round" in f.columns)
    therapist_a = items[(items["Statement"] == "Therapist factors contributed") & (items["Case"] == "Case A")].iloc[0]
    assert (therapist_a["Round 1: Mdn (IQR)"], therapist_a["Round 2: Mdn (IQR)"]) == ("2 (1)", "2 (0.25) *")
    assert any(i.value.startswith("Next: every item meets the stopping rule") for i in at.info)
    assert at.get("download_button")
    at.button(key="delphi_open").click().run()
    assert not at.exception and not at.error
    assert any("Round 3 is open" in s.value for s in at.success)
    with demo_store.read() as session:
        status = delphi.round_status(session, studies.get_study(session), ADMIN)
    assert [(r["round"], r["status"]) for r in status["rounds"]][-1] == (3, "open")
    assert at.button(key="delphi_close").label == "Close round 3"


def test_delphi_tab_on_an_empty_study(store, app_env):
    from casestudy import users

    with store.write("tester") as session:
        users.add_user(session, "owner", "a-long-password-2026", role="admin")
        studies.create_study(session, "Empty study")
    at = _researcher_page(store, app_env)
    at.run()
    assert not at.exception
    assert any(i.value.startswith("Next: round 1 is open") for i in at.info)
    at.button(key="delphi_close").click().run()
    assert any("round 1 has no submitted answers yet" in e.value for e in at.error)
