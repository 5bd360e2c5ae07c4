"""`panel round ...` and `report delphi`: the researcher's Delphi commands, every format, errors."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from casestudy import study as studies
from casestudy.demo.panel import DELPHI_RULE, delphi_revisions
from casestudy.panel import delphi

from tests.panel.test_delphi import _panel


def test_round_commands_run_a_two_round_panel(store, cli):
    study_id, experts = _panel(store)
    db = ("--db", store.url)
    status = cli(*db, "panel", "round", "status", "--format", "json")
    assert status.code == 0, status
    data = json.loads(status.out)
    assert [(r["round"], r["status"], r["experts"]) for r in data["rounds"]] == [(1, "open", 4)]
    assert not data["rule_fixed"] and data["stopping_rule"]["rule"] == "consensus"

    refused = cli(*db, "panel", "round", "open")
    assert refused.code == 2 and "error: round 1 is still open; close it first" in refused.err
    bad = cli(*db, "panel", "round", "rule", "stability", "--change", "2")
    assert bad.code == 2 and "share from 0 to 1" in bad.err
    rule = cli(*db, "panel", "round", "rule", "stability", "--change", "0.25", "--quartiles", "weibull")
    assert rule.code == 0 and "at most 25 % of the experts changed" in rule.out and "Hyndman-Fan type 6" in rule.out

    closed = cli(*db, "panel", "round", "close")
    assert closed.code == 0 and "closed round 1; its answers are frozen" in closed.out and "stopping rule (fixed)" in closed.out
    fixed = cli(*db, "panel", "round", "rule", "consensus")
    assert fixed.code == 2 and "fixed when round 1 closed" in fixed.err
    opened = cli(*db, "panel", "round", "open", "--links", "--base-url", "https://panel.example.org", "--format", "json")
    assert opened.code == 0, opened
    record = json.loads(opened.out)
    assert record["round"] == 2 and record["experts"] == ["E01", "E02", "E03", "E04"]
    assert [r["link"].startswith("https://panel.example.org/?token=") for r in record["links"]] == [True] * 4

    with store.write("tester") as session:
        delphi.save_revision(session, experts[0], "team", "Case A", 2, "nearer the group")
    links = cli(*db, "panel", "round", "links", "--base-url", "https://panel.example.org", "--format", "json")
    assert links.code == 0 and len(json.loads(links.out)) == 4  # nobody has submitted round 2 yet

    report = cli(*db, "report", "delphi", "--format", "json")
    assert report.code == 0, report
    data = json.loads(report.out)
    assert set(data) == {"stopping_rule", "quartile_method", "rounds", "items", "revisions"}
    assert data["quartile_method"] == "weibull"
    assert set(data["items"][0]) == {"item", "label", "case", "first_met", "rounds"}
    assert set(data["items"][0]["rounds"][0]) == {"round", "n", "median", "q1", "q3", "iqr", "consensus", "changed", "compared",
                                                  "changed_share", "stable", "rule_met"}
    assert [r["status"] for r in data["rounds"]] == ["closed", "open"]


def test_report_delphi_on_the_demo_shows_movement(demo_store, cli, tmp_path):
    db = ("--db", demo_store.url)
    result = cli(*db, "report", "delphi", "--format", "json")
    assert result.code == 0, result
    data = json.loads(result.out)
    assert data["stopping_rule"]["rule"] == DELPHI_RULE[0] and data["stopping_rule"]["iqr_max"] == 0.5
    assert [(r["round"], r["status"], r["experts"], r["items"], r["consensus"], r["met"]) for r in data["rounds"]] == [
        (1, "closed", 12, 28, 17, 17), (2, "closed", 12, 28, 24, 28)]
    assert len(data["revisions"]) == len(delphi_revisions()) and all(r["reason"] for r in data["revisions"])
    therapist_a = next(i for i in data["items"] if (i["item"], i["case"]) == ("therapist", "Case A"))
    assert [(r["median"], r["iqr"]) for r in therapist_a["rounds"]] == [(2.0, 1.0), (2.0, 0.25)] and therapist_a["first_met"] == 2

    md = cli(*db, "report", "delphi", "--format", "md")
    assert md.code == 0 and "| Therapist factors contributed | Case A | 2 (1) | 2 (0.25) \\* | 3 of 12 (25 %) | 2 |" in md.out
    assert "Delphi movement between rounds" in md.out and "Delphi revisions with the experts' reasons" in md.out
    rows = list(csv.DictReader(io.StringIO(cli(*db, "report", "delphi", "--format", "csv").out)))
    assert len(rows) == 56 and rows[0]["round"] == "1" and set(rows[0]) >= {"median", "q1", "q3", "iqr", "changed_share", "rule_met"}
    binary = cli(*db, "report", "delphi", "--format", "xlsx")
    assert binary.code == 2 and "binary: pass --output FILE" in binary.err
    for fmt in ("xlsx", "docx"):
        path = tmp_path / f"delphi.{fmt}"
        assert cli(*db, "report", "delphi", "--format", fmt, "--output", str(path)).code == 0
        assert zipfile.is_zipfile(path)
    status = cli(*db, "panel", "round", "status")
    assert status.code == 0 and "next: every item meets the stopping rule after round 2: the panel can stop" in status.out


def test_a_viewer_of_another_study_is_refused_and_logged(demo_store, cli):
    from casestudy import users
    from casestudy.models import AuditEvent

    with demo_store.write("tester") as session:
        users.add_user(session, "outsider", "a-long-password-2026", role="viewer")
        studies.add_member(session, studies.create_study(session, "Another study"), "outsider", "viewer")
    result = cli("--db", demo_store.url, "--user", "outsider", "--study", "1", "report", "delphi", "--format", "json")
    assert result.code == 2 and "not a member of this study" in result.err
    with demo_store.read() as session:
        assert session.query(AuditEvent).filter_by(entity="access", action="refused").count() >= 1
