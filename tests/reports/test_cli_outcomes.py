"""CLI: outcomes, report outcomes, report table1's note, report integration, map-code, plot
integration and recommendation, on the demo study."""

from __future__ import annotations

import json

from casestudy import study as studies
from casestudy import users


def test_outcomes_commands(demo_store, cli):
    db = ("--db", demo_store.url)
    rows = json.loads(cli(*db, "outcomes", "list", "--format", "json").out)
    assert rows[0]["case"] == "Case A" and rows[0]["components"][0]["discontinued_on"] == "2022-12-31"
    assert "programme stopped" in cli(*db, "outcomes", "descriptors").out
    assert cli(*db, "outcomes", "descriptor-add", "waiting list grew", "--description", "more than 6 months").code == 0
    result = cli(*db, "outcomes", "descriptor-add", "--defaults")
    assert result.code == 0 and "the study has them all" in result.out
    assert cli(*db, "outcomes", "tag", "Case B", "waiting list grew", "--note", "after the nurses left").code == 0
    result = cli(*db, "outcomes", "tag", "Case B", "charisma")
    assert result.code == 2 and result.err.startswith("error: the study has no outcome descriptor 'charisma'")
    result = cli(*db, "outcomes", "sustainment", "Case F", "PH", "discontinued")
    assert result.code == 2 and "needs the date it stopped" in result.err
    result = cli(*db, "outcomes", "sustainment", "Case F", "PH", "discontinued", "--on", "2025-01-31", "--note", "merged")
    assert result.code == 0 and "discontinued on 2025-01-31: merged" in result.out
    assert cli(*db, "outcomes", "sustainment", "Case F", "PH", "sustained", "--on", "31-01-2025").code == 2  # not ISO
    assert cli(*db, "outcomes", "tag", "Case B", "waiting list grew", "--remove").code == 0
    assert "0 case tag(s)" in cli(*db, "outcomes", "descriptor-remove", "waiting list grew").out


def test_report_outcomes_and_table1_note(demo_store, cli, tmp_path):
    db = ("--db", demo_store.url)
    md = cli(*db, "report", "outcomes").out
    assert "| Negative | 3 | 43 |" in md and "The percentages add to 101% instead of 100% because of rounding." in md
    assert "| Discontinued | 3 | 30 | Case A PH (2022-12-31); Case C PH (2023-06-30); Case D PH (2024-03-01) |" in md
    data = json.loads(cli(*db, "report", "outcomes", "--decimals", "1", "--format", "json").out)
    assert [r["%"] for r in data[0]["rows"]] == [28.6, 28.6, 42.9] and "100.1%" in data[0]["notes"][1]
    out = tmp_path / "outcomes.xlsx"
    assert cli(*db, "report", "outcomes", "--format", "xlsx", "--output", str(out)).code == 0 and out.read_bytes()[:2] == b"PK"
    table1 = cli(*db, "report", "table1").out
    assert "*Note.* PH = partial hospitalisation; IOP = intensive outpatient programme." in table1


def test_report_integration_map_code_and_plot(demo_store, cli, tmp_path):
    db = ("--db", demo_store.url)
    data = json.loads(cli(*db, "report", "integration", "--format", "json").out)
    support = data["rows"][0]
    assert (support["determinant"], support["n_experts"], support["code"]) == (
        "support within the organization", 8, "Organization/Organisational commitment and support")
    assert support["cases"]["Case A"]["in_table1"] and data["unmapped"] == []
    result = cli(*db, "report", "map-code", "team size", "--clear")
    assert result.code == 0
    result = cli(*db, "report", "integration", "--format", "csv")
    assert "1 ranked determinant(s) not mapped to a code" in result.err and "team size" in result.err
    assert result.out.splitlines()[0] == "Rank,Determinant,Experts (n),Experts (%),Code,Case A,Case B,Case C,Case D,Case E,Case F,Case G"
    assert cli(*db, "report", "map-code", "team size").code == 2  # neither a code nor --clear
    assert cli(*db, "report", "map-code", "team size", "No such code").code == 2
    assert cli(*db, "report", "map-code", "team size", "Organization and team/Balanced mentalizing team/Team size").code == 0
    html = cli(*db, "report", "plot", "integration").out
    assert "<html" in html and "Ranked determinants in the cases" in html
    out = tmp_path / "integration.docx"
    assert cli(*db, "report", "integration", "--format", "docx", "--output", str(out)).code == 0


def test_recommendation_commands(demo_store, cli, tmp_path):
    db = ("--db", demo_store.url)
    rows = json.loads(cli(*db, "recommendation", "list", "--format", "json").out)
    assert [r["list"] for r in rows] == ["organisation"] * 3 + ["team"] * 2
    result = cli(*db, "recommendation", "add", "team", "Pair every new therapist with an MBT mentor.", "--determinant", "training;leadership")
    assert result.code == 0 and "number 3" in result.out
    result = cli(*db, "recommendation", "add", "team", "x", "--determinant", "charisma")
    assert result.code == 2 and "not one of the panel's determinants" in result.err
    new = json.loads(cli(*db, "recommendation", "list", "--format", "json").out)[-1]
    assert new["determinants"] == ["training", "leadership"]
    assert cli(*db, "recommendation", "edit", str(new["id"]), "--no-determinants", "--expected-version", str(new["version"])).code == 0
    assert cli(*db, "recommendation", "edit", str(new["id"]), "--text", "y", "--expected-version", str(new["version"])).code == 2  # edited meanwhile
    md = cli(*db, "recommendation", "list", "--format", "md").out
    assert "**Recommendations for the team and therapists**" in md and "| 3 | Pair every new therapist with an MBT mentor. |  |" in md
    assert "selection of therapist (rank 2, 7 experts)" in md
    out = tmp_path / "recommendations.docx"
    assert cli(*db, "recommendation", "list", "--format", "docx", "--output", str(out)).code == 0
    assert cli(*db, "recommendation", "list", "--format", "csv").out.startswith("list,number,text,determinants")
    assert cli(*db, "recommendation", "remove", str(new["id"])).code == 0
    assert cli(*db, "recommendation", "remove", str(new["id"])).code == 2


def test_a_viewer_reads_but_does_not_change_and_an_outsider_is_refused(demo_store, cli):
    with demo_store.write("admin") as session:
        study = studies.get_study(session)
        users.add_user(session, "reader", "a long password", "viewer")
        studies.add_member(session, study, "reader")
        users.add_user(session, "outsider", "a long password", "coder")
    db = ("--db", demo_store.url)
    assert cli(*db, "--user", "reader", "report", "integration", "--format", "json").code == 0
    assert cli(*db, "--user", "reader", "report", "outcomes").code == 0
    result = cli(*db, "--user", "reader", "recommendation", "add", "team", "x")
    assert result.code == 2 and "error:" in result.err
    result = cli(*db, "--user", "outsider", "report", "integration")
    assert result.code == 2 and "not a member" in result.err
