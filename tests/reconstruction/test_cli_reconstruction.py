"""The reconstruction and membercheck commands, end to end over a demo database; demo content."""

from __future__ import annotations

import io
import json
import re

from docx import Document

from casestudy.demo import reconstruction as membercheck_demo
from casestudy import study as studies
from casestudy.demo.cases import DEMO_CASES
from casestudy.reconstruction import narrative as reconstruction_narrative
from casestudy.reconstruction import membercheck as reconstruction_membercheck
from casestudy.reconstruction import summary as reconstruction_summary
from casestudy.reports import progress


def test_version_diff_send_respond_status_history(demo_store, cli, tmp_path):
    db = demo_store.url
    draft = tmp_path / "v.md"
    draft.write_text("# Case A\n\nA short new text.\n\nSecond paragraph.\n", encoding="utf-8")
    result = cli("--db", db, "reconstruction", "version", "--case", "Case A", "--file", draft, "--note", "rewrite", "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["number"] == 3
    again = cli("--db", db, "reconstruction", "version", "--case", "Case A", "--file", draft)
    assert again.code == 2 and "nothing changed" in again.err
    listing = json.loads(cli("--db", db, "reconstruction", "versions", "--case", "Case A", "--format", "json").out)
    assert [(v["number"], v["status"]) for v in listing] == [(1, "superseded"), (2, "superseded"), (3, "draft")]
    diff = cli("--db", db, "reconstruction", "diff", "--case", "Case A", "2", "3")
    assert diff.code == 0 and "{+" in diff.out and "[-" in diff.out
    assert "<del" in cli("--db", db, "reconstruction", "diff", "--case", "Case A", "2", "3", "--html").out
    assert cli("--db", db, "reconstruction", "show", "--case", "Case A", "--version", "3").out == draft.read_text()

    sent = cli("--db", db, "membercheck", "send", "--case", "Case A", "--base-url", "https://study.example")
    assert sent.code == 0, sent.err
    assert len(re.findall(r"https://study\.example/\?token=\S{20,}", sent.out)) == 2
    comments = tmp_path / "returned.txt"
    comments.write_text("2: Say 'short' only once.\n", encoding="utf-8")
    answer = cli("--db", db, "membercheck", "respond", "--case", "Case A", "--respondent", "Thijs Brandsma",
                 "--decision", "changes_needed", "--comments-file", comments, "--comment", "Otherwise fine.")
    assert answer.code == 0 and "changes requested" in answer.out
    board = json.loads(cli("--db", db, "membercheck", "dashboard", "--case", "Case A", "--format", "json").out)
    [comment] = board["open_comments"]
    assert (comment["paragraph"], comment["respondent"]) == (2, "Thijs Brandsma")
    processed = cli("--db", db, "membercheck", "process", "--case", "Case A", "--comment-id", comment["id"], "--how", "kept as is")
    assert processed.code == 0
    refused = cli("--db", db, "membercheck", "process", "--case", "Case A", "--comment-id", comment["id"])
    assert refused.code == 2 and "say how" in refused.err

    status = json.loads(cli("--db", db, "membercheck", "status", "--format", "json").out)
    assert {s["case"]: s["state"] for s in status} == {
        "Case A": "changes requested", "Case B": "agreed", "Case C": "agreed", "Case D": "agreed",
        "Case E": "agreed", "Case F": "agreed", "Case G": "under review",
    }
    out = tmp_path / "v3.docx"
    assert cli("--db", db, "membercheck", "export", "--case", "Case A", "--out", out).code == 0
    assert "[2] A short new text." in "\n".join(p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs)
    md = cli("--db", db, "membercheck", "history", "--case", "Case A")
    assert "## Member-check round 3" in md.out and "kept as is" in md.out
    docx_out = tmp_path / "history.docx"
    assert cli("--db", db, "membercheck", "history", "--case", "Case A", "--out", docx_out).code == 0
    assert docx_out.stat().st_size > 5000


def test_summary_and_table1_and_errors(demo_store, cli):
    db = demo_store.url
    ok = cli("--db", db, "reconstruction", "summary", "--case", "Case E", "--outcome", "mixed", "--descriptors", "PH loses money",
             "--component-outcome", "PH=mixed", "--component-outcome", "IOP=negative",
             "--determinant", "Co-leadership|facilitator|team/leadership")
    assert ok.code == 0, ok.err
    rows = {r["case"]: r for r in json.loads(cli("--db", db, "reconstruction", "table1", "--format", "json").out)}
    assert rows["Case E"]["outcome"] == "Mixed (mixed for PH; negative for IOP): PH loses money"
    assert rows["Case E"]["determinants"] == [{"label": "Co-leadership", "polarity": "facilitator", "code_ref": "team/leadership"}]
    assert len(rows["Case C"]["determinants"]) == 8  # from the demo
    bad = cli("--db", db, "reconstruction", "summary", "--case", "Case E", "--determinant", "just a label")
    assert bad.code == 2 and "LABEL|facilitator" in bad.err
    missing = cli("--db", db, "reconstruction", "version", "--case", "Case E", "--file", "/nonexistent.md")
    assert missing.code == 2 and "not found" in missing.err
    agreed = cli("--db", db, "membercheck", "send", "--case", "Case B")
    assert agreed.code == 2 and "already agreed" in agreed.err
    refs = cli("--db", db, "reconstruction", "references", "--case", "Case B", "--format", "json")
    assert refs.code == 0 and json.loads(refs.out) == []
    quote = cli("--db", db, "reconstruction", "quote", "--case", "Case B", "--interview", "999", "--phrase", "anything")
    assert quote.code == 2 and "has no interview 999" in quote.err


def test_demo_member_check_states_and_texts(demo_store):
    with demo_store.read() as session:
        study = studies.get_study(session)
        states = {s.case: s for s in reconstruction_membercheck.status_all(session, study)}
        assert [c for c, s in states.items() if s.state != "agreed"] == ["Case G"]
        assert states["Case G"].answered == 1
        for case in studies.list_cases(session, study):
            assert 2 <= len(reconstruction_narrative.list_versions(session, case)) <= 3
        stages = {row.public_label: row.stages for row in progress.overview(session, study)}
    assert stages["Case B"]["member check"] == "agreed (version 3)" and stages["Case B"]["reconstruction"] == "3 versions"
    assert stages["Case G"]["member check"] == "round 2: 1/2 answered"
    organisations = {c.organisation for c in DEMO_CASES}
    for narrative in membercheck_demo.NARRATIVES:
        words = len(re.findall(r"\w+", narrative.text))
        assert 400 <= words <= 700, (narrative.public, words)
        assert not any(org in narrative.text for org in organisations)
        assert "Unit " not in narrative.text


def test_demo_determinants_point_at_default_codebook_codes(demo_store):
    from casestudy.codebook import tree as codebook

    with demo_store.read() as session:
        study = studies.get_study(session)
        refs = [d["code_ref"] for row in reconstruction_summary.table1_rows(session, study) for d in row["determinants"]]
        assert len(refs) == 42
        for ref in refs:
            assert codebook.get_code(session, study, ref).codable
