"""Instruments stored in a study (import/export round trips, freezing), audits of a case on an
instrument (summaries, evidence, comparison) and rater agreement checked against pingouin and
the krippendorff package."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from casestudy import periods
from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.panel import audits, instrument_store
from casestudy.panel import instruments as ins
from casestudy.reports import rater_agreement

SCORES = {  # rater -> scores of the audit's items 1..6
    "alice": [2, 3, 4, 5, 1, 3],
    "bob": [3, 3, 5, 4, 2, 3],
    "carol": [2, 4, 4, 5, 1, 2],
}


@pytest.fixture
def study_store(store):
    with store.write("test") as session:
        study = studies.create_study(session, "Audits")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        periods.add_period(session, case, "PRE-REORG", "2004-08", "2007-12")
        periods.add_period(session, case, "REORG", "2008-09", "2011-04")
    return store


def _study(session):
    return studies.get_study(session)


@pytest.mark.parametrize("fmt", ["yaml", "csv", "xlsx"])
def test_import_export_round_trip_through_the_study(study_store, fmt):
    shipped = ins.load_shipped("mbt-adherence-audit")
    data = ins.export(shipped, fmt)
    data = data.encode("utf-8") if isinstance(data, str) else data
    with study_store.write("test") as session:
        stored, what = instrument_store.import_data(session, _study(session), data, fmt, f"audit.{fmt}")
        assert what == "added" and stored.instrument_version == "2"
        assert instrument_store.instrument_of(stored) == shipped
        again, what = instrument_store.import_data(session, _study(session), data, fmt)
        assert (again.id, what) == (stored.id, "unchanged")
        exported = ins.export(instrument_store.instrument_of(stored), fmt)
        assert ins.read_instrument(exported.encode() if isinstance(exported, str) else exported, fmt) == shipped


def test_a_used_version_is_frozen_and_a_new_version_can_be_imported(study_store):
    with study_store.write("test") as session:
        study = _study(session)
        stored, _ = instrument_store.import_shipped(session, study, "mbt-adherence-audit")
        edited = ins.build_instrument({**stored.document, "title": "Edited title"})
        _, what = instrument_store.store_instrument(session, study, edited)
        assert what == "updated"  # not used yet: the version may still change
        audits.new_audit(session, study, studies.get_case(session, study, "Case A"), "mbt-adherence-audit", label="first")
        assert stored.frozen_at is not None and stored.frozen_by == "audit first"
        with pytest.raises(UserError, match=r"version 2 of mbt-adherence-audit is in use \(audit first\).*new version.*\"3\""):
            instrument_store.store_instrument(session, study, ins.build_instrument({**stored.document, "title": "Again"}))
        newer, what = instrument_store.store_instrument(session, study, ins.build_instrument({**stored.document, "version": "3"}))
        assert what == "added" and instrument_store.find_stored(session, study, "mbt-adherence-audit").id == newer.id


def _scored_audit(session, label="spring", period=None, scores=SCORES):
    study = _study(session)
    audit = audits.new_audit(session, study, studies.get_case(session, study, "Case A"), "mbt-adherence-audit",
                             period=period, label=label, held_on=dt.date(2026, 4, 1))
    for rater, values in scores.items():
        for key, score in zip(("1", "2", "3", "11", "12", "19"), values):
            audits.score_item(session, audit, key, rater, score, documents=["minutes.pdf"] if rater == "alice" else [],
                              note="board minutes" if key == "1" else "")
    return audit


def test_audit_summary_per_item_level_and_overall(study_store):
    with study_store.write("test") as session:
        summary = audits.audit_summary(session, _scored_audit(session, period="REORG"))
    assert summary["period"] == "REORG" and summary["raters"] == ["alice", "bob", "carol"]
    item = {i["key"]: i for i in summary["items"]}
    assert item["1"]["scores"] == {"alice": 2, "bob": 3, "carol": 2} and item["1"]["mean"] == pytest.approx(7 / 3)
    assert item["1"]["evidence"]["alice"] == {"codings": [], "documents": ["minutes.pdf"], "note": "board minutes"}
    assert item["4"]["mean"] is None and item["4"]["scores"] == {}
    # organization: items 1-3 means 7/3, 10/3, 13/3 -> 10/3; team: 11 and 12 -> 14/3 and 4/3 -> 3
    assert summary["levels"]["organization"] == {"mean": pytest.approx(10 / 3), "n_items": 3, "of": 10}
    assert summary["levels"]["team"]["mean"] == pytest.approx(3)
    assert summary["levels"]["therapist"]["mean"] == pytest.approx(8 / 3)
    assert summary["overall"]["mean"] == pytest.approx((7 + 10 + 13 + 14 + 4 + 8) / 18)
    assert summary["missing"]["bob"][:3] == ["4", "5", "6"]
    assert [p["label"] for p in summary["instrument"]["points"]] == ["very poor", "poor", "adequate", "good", "very good"]


def test_scores_are_checked(study_store):
    with study_store.write("test") as session:
        audit = _scored_audit(session)
        with pytest.raises(UserError, match="score 6 lies outside the scale 1-5"):
            audits.score_item(session, audit, "1", "alice", 6)
        with pytest.raises(UserError, match="no item '21'"):
            audits.score_item(session, audit, "21", "alice", 3)
        with pytest.raises(UserError, match="no coding 999 in this study"):
            audits.score_item(session, audit, "1", "alice", 3, coding_ids=["999"])
        with pytest.raises(UserError, match="needs its rater"):
            audits.score_item(session, audit, "1", " ", 3)
        with pytest.raises(UserError, match="labelled 'spring' exists already"):
            _scored_audit(session)


def test_evidence_is_of_the_audited_case(study_store):
    """A coding or a stored document given as evidence must be of the case the audit is about."""
    from casestudy import users
    from casestudy.codebook import tree as codebook
    from casestudy.coding import spans
    from casestudy.interviews import store as interviews_store

    with study_store.write("test") as session:
        study = _study(session)
        other = studies.add_case(session, study, "Unit 2", "Case B")
        code = codebook.add_code(session, study, "Leadership", "team", origin="a priori")
        coder = users.add_user(session, "coder1", "a long enough pass phrase", "coder")
        own_doc, other_doc = interviews_store.import_interviews(session, study, [
            interviews_store.ImportItem("minutes-a.txt", b"The board met in May.\n", "Case A", "", kind="document", document_type="minutes"),
            interviews_store.ImportItem("minutes-b.txt", b"The board met in June.\n", "Case B", "", kind="document", document_type="minutes"),
        ])
        (own_coding,) = spans.apply_codes(session, own_doc, [code], coder, 0, 9)
        (other_coding,) = spans.apply_codes(session, other_doc, [code], coder, 0, 9)
        audit = _scored_audit(session)
        row = audits.score_item(session, audit, "1", "alice", 3, coding_ids=[own_coding.id], documents=[f"document:{own_doc.id}", "site visit"])
        assert (row.coding_ids, row.documents) == ([own_coding.id], [f"document:{own_doc.id}", "site visit"])
        with pytest.raises(UserError, match=f"coding {other_coding.id} is not of Case A, the case this audit is about"):
            audits.score_item(session, audit, "1", "alice", 3, coding_ids=[other_coding.id])
        with pytest.raises(UserError, match=f"document:{other_doc.id} is not a document of Case A"):
            audits.score_item(session, audit, "1", "alice", 3, documents=[f"document:{other_doc.id}"])
        assert other.id != audit.case_id


def test_rater_agreement_matches_pingouin_and_krippendorff():
    import krippendorff
    import pandas as pd
    import pingouin

    cells = [(str(unit), rater, score) for rater, values in SCORES.items() for unit, score in enumerate(values)]
    result = rater_agreement.agreement(cells)
    matrix = np.array([SCORES[r] for r in SCORES], dtype=float)  # raters x units
    for metric in ("ordinal", "interval"):
        expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=metric)
        assert result[f"alpha_{metric}"] == pytest.approx(expected, abs=1e-9)
    long = pd.DataFrame([{"unit": u, "rater": r, "score": s} for u, r, s in cells])
    table = pingouin.intraclass_corr(data=long, targets="unit", raters="rater", ratings="score").set_index("Type")
    for ours, theirs in (("ICC(1,1)", "ICC(1,1)"), ("ICC(2,1)", "ICC(A,1)"), ("ICC(3,1)", "ICC(C,1)"),
                         ("ICC(1,k)", "ICC(1,k)"), ("ICC(2,k)", "ICC(A,k)"), ("ICC(3,k)", "ICC(C,k)")):
        assert result["icc"][ours]["value"] == pytest.approx(table.loc[theirs, "ICC"], abs=1e-9)
    assert result["exact"] == 0  # no item has the same score from all three raters
    assert result["within_one"] == pytest.approx(6 / 6)


def test_missing_scores_and_single_rater():
    one = rater_agreement.agreement([("1", "alice", 3), ("2", "alice", 4)])
    assert one["notes"] == ["agreement needs at least two raters"] and one["alpha_interval"] is None
    partial = rater_agreement.agreement([("1", "a", 3), ("1", "b", 3), ("2", "a", 4), ("2", "b", None), ("3", "a", 2), ("3", "b", 2)])
    assert partial["complete_units"] == 2 and partial["exact"] == 1.0


def test_compare_periods_and_repeated_audits(study_store):
    with study_store.write("test") as session:
        pre = _scored_audit(session, "pre", "PRE-REORG", {"alice": [5, 5, 4, 5, 4, 5]})
        reorg = _scored_audit(session, "reorg", "REORG", {"alice": [2, 2, 1, 3, 2, 2]})
        result = audits.compare_audits(session, [pre, reorg])
        assert result["audits"] == ["pre (PRE-REORG)", "reorg (REORG)"]
        assert result["items"][0]["means"] == {"pre (PRE-REORG)": 5, "reorg (REORG)": 2}
        assert result["overall"] == {"pre (PRE-REORG)": pytest.approx(28 / 6), "reorg (REORG)": 2}
        with pytest.raises(UserError, match="at least two"):
            audits.compare_audits(session, [pre])


def test_cli_instruments_and_audits(study_store, cli, tmp_path):
    db = study_store.url
    assert cli("--db", db, "instruments", "import", "--shipped", "mbt-adherence-audit").code == 0
    target = tmp_path / "audit.xlsx"
    assert cli("--db", db, "instruments", "export", "mbt-adherence-audit", "--format", "xlsx", "--output", target).code == 0
    again = json.loads(cli("--db", db, "instruments", "import", target, "--format", "json").out)
    assert again["result"] == "unchanged" and again["frozen_at"] is None
    new = cli("--db", db, "audit", "new", "--case", "Case A", "--instrument", "mbt-adherence-audit", "--period", "REORG",
              "--label", "2026 spring", "--date", "2026-04-01", "--format", "json")
    assert new.code == 0, new
    for rater, score in (("alice", "2"), ("bob", "3")):
        result = cli("--db", db, "audit", "score", "2026 spring", "--item", "4", "--rater", rater, "--score", score,
                     "--document", "referral log", "--note", "four weeks exceeded")
        assert result.code == 0, result
    shown = json.loads(cli("--db", db, "audit", "show", "2026 spring", "--format", "json").out)
    assert shown["items"][3]["scores"] == {"alice": 2, "bob": 3} and shown["agreement"]["raters"] == ["alice", "bob"]
    assert shown["instrument"]["legend"].startswith("Scale 1-5: 1 = very poor")
    bad = cli("--db", db, "audit", "score", "2026 spring", "--item", "4", "--rater", "x", "--score", "0")
    assert bad.code == 2 and bad.err == "error: score 0 lies outside the scale 1-5 of mbt-adherence-audit\n"
    listed = json.loads(cli("--db", db, "instruments", "list", "--format", "json").out)
    assert listed[0]["frozen_by"] == "audit 2026 spring"
    (tmp_path / "edited.yaml").write_text(cli("--db", db, "instruments", "export", "mbt-adherence-audit").out.replace("very good", "superb"))
    refused = cli("--db", db, "instruments", "import", tmp_path / "edited.yaml")
    assert refused.code == 2 and "is in use (audit 2026 spring)" in refused.err and "new version" in refused.err
    overview = json.loads(cli("--db", db, "audit", "overview", "--format", "json").out)
    assert overview[0]["label"] == "2026 spring" and overview[0]["overall_mean"] == 2.5
    assert cli("--db", db, "audit", "list", "--limit", "1").code == 0  # the audit log is still there
