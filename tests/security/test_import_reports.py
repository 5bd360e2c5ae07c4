"""Imports report exactly what they stored: merged duplicate codings (memos kept), malformed cues."""

from __future__ import annotations

from sqlalchemy import select

from casestudy import study as studies
from casestudy.codebook import tree as codebook
from casestudy.coding import spans
from casestudy.interviews import convert
from casestudy.models import Coding, Interview


def _code_path(session, study) -> str:
    codes = codebook.all_codes(session, study)
    paths = codebook.code_paths(codes)
    return next(paths[c.id] for c in codes if c.codable and c.status == "active")


def test_codings_import_reports_merged_duplicates_and_keeps_their_memos(demo_store, cli, tmp_path):
    with demo_store.read() as session:
        study = studies.get_study(session)
        interview = session.scalars(select(Interview).where(Interview.study_id == study.id).order_by(Interview.id)).first()
        name, length = interview.file_name, len(interview.text)
        code = _code_path(session, study)
        before = session.query(Coding).count()
    start, end = 0, min(40, length)
    other_start = min(50, length - 10)
    rows = [
        f"{name},coder1,{code},{start},{end},first memo",
        f"{name},coder1,{code},{start},{end},second memo",  # exact duplicate of the row above
        f"{name},coder1,{code},{start},{end},first memo",  # and again, same memo
        f"{name},coder2,{code},{other_start},{other_start + 5},",
    ]
    path = tmp_path / "codings.csv"
    path.write_text("interview,coder,code,start,end,memo\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = cli("--db", demo_store.url, "codings", "import", path)
    assert result.code == 0, result
    assert result.out.strip() == (
        "read 4 row(s) from codings.csv: stored 2 new coding(s); 2 row(s) repeated an earlier row exactly and were "
        "merged into it; 1 memo(s) of merged rows appended to the coding's memo"
    )
    with demo_store.read() as session:
        assert session.query(Coding).count() == before + 2
        memo = session.scalar(select(Coding.memo).where(Coding.interview_id == interview.id, Coding.start == start,
                                                        Coding.end == end, Coding.origin == "import"))
    assert memo == "first memo\n\nsecond memo"
    again = cli("--db", demo_store.url, "codings", "import", path)
    assert again.code == 0 and "stored 0 new coding(s)" in again.out and "2 row(s) matched a coding already stored" in again.out


def test_codings_import_report_counts(demo_store):
    with demo_store.write() as session:
        study = studies.get_study(session)
        interview = session.scalars(select(Interview).where(Interview.study_id == study.id).order_by(Interview.id)).first()
        code = _code_path(session, study)
        data = f"interview,coder,code,start,end,memo\n{interview.file_name},coder1,{code},0,5,a\n{interview.file_name},coder1,{code},0,5,b\n"
        report = spans.import_codings_csv(session, study, data)
    assert (report.rows, report.stored, report.merged_in_file, report.already_stored, report.memos_added) == (2, 1, 1, 0, 1)


def test_a_malformed_vtt_cue_is_reported():
    vtt = (
        "WEBVTT\n\nNOTE a comment\n\n1\n00:00:01.000 --> 00:00:04.000\n<v Ann>Hello there.\n\n"
        "2\n00:00:05 -> 00:00:07.000\n<v Bob>This cue has a broken timing line.\n\n"
        "00:00:08.000 --> 00:00:09.000\n<v Bob>Fine again.\n"
    )
    converted = convert.convert("talk.vtt", vtt.encode())
    assert "broken timing" not in converted.text and "Fine again." in converted.text
    assert converted.warnings == [
        "a cue without a valid timing line was left out (expected 00:00:01.000 --> 00:00:04.000): "
        "'2 00:00:05 -> 00:00:07.000 <v Bob>This cue has a broken timing line.'"
    ]


def test_a_qdpx_source_with_a_utf16_mark_that_is_not_utf16_is_refused(store):
    import pytest

    from casestudy.errors import UserError
    from tests.exchange.test_refi_qda import C2, S1, archive, do_import, project, selection

    def source(content: bytes) -> bytes:
        xml = project(f'<TextSource guid="{S1}" name="Talk" plainTextPath="internal://talk.txt">'
                      + selection("BBBBBBBB-0000-0000-0000-000000000001", 0, 3, C2) + "</TextSource>")
        return archive(xml, {"sources/talk.txt": content})

    with pytest.raises(UserError, match="starts with a UTF-16 byte-order mark but is not UTF-16 text"):
        do_import(store, source(b"\xff\xfeabcdef"))  # would read as three CJK signs
    with pytest.raises(UserError, match="not UTF-16 text"):
        do_import(store, source(b"\xff\xfeabc"))  # odd length: not UTF-16 at all
    report = do_import(store, source("\ufeffCosts rose.".encode("utf-16-le")))
    with store.read() as session:
        assert session.scalar(select(Interview.text).where(Interview.study_id == report["study_id"])).startswith("Costs rose.")
