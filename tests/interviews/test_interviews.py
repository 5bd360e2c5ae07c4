"""Interviews: turns, sentences, line numbers, all-or-nothing import, manifest, consent, privacy, CLI."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from sqlalchemy import func, select

from casestudy import access
from casestudy import config
from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.models import AuditEvent, Interview, Sentence, SpeakerTurn
from casestudy.demo import interviews as demo_interviews
from casestudy.interviews import segment as interviews_segment
from casestudy.interviews import store as interviews_store
from casestudy import demo
from casestudy.reports import progress
from casestudy import migrate

TRANSCRIPT = (
    "Interview Case A, 11 March\n"
    "\n"
    "[00:00:05] Interviewer: Welcome! How did the programme start? 🙂\n"
    "Marleen: It started slowly. The café next door was our meeting room.\n"
    "We had no budget… Dr. Smit helped.\n"
    "\n"
    "00:01:10 Interviewer: And then?\n"
    "Marleen (00:01:12): Then it grew. Naïve, perhaps.\n"
)


@pytest.fixture
def demo_store(demo_store):
    """The demo without its transcripts (they come from interviews/): every test starts from none."""
    with demo_store.write() as session:
        for interview in interviews_store.list_interviews(session, studies.get_study(session)):
            interviews_store.delete_interview(session, interview)
    return demo_store


def imported_ids(output: str) -> list[str]:
    return re.findall(r"^imported \S+ as interview (\d+):", output, re.MULTILINE)


def sentences_texts(parsed):
    return [parsed.text[s.start : s.end] for s in parsed.sentences]


# --- segmentation -----------------------------------------------------------------------
def test_turns_labels_timestamps_preamble_and_continuations():
    parsed = interviews_segment.parse_transcript("a.txt", TRANSCRIPT.encode(), "en", respondent_name="Marleen Verhoef")
    text = parsed.text
    assert [(t.speaker, t.role, t.time) for t in parsed.turns] == [
        ("", "other", ""),
        ("Interviewer", "interviewer", "00:00:05"),
        ("Marleen", "respondent", ""),
        ("Interviewer", "interviewer", "00:01:10"),
        ("Marleen", "respondent", "00:01:12"),
    ]
    turn = parsed.turns[2]
    assert text[turn.start : turn.end] == "Marleen: It started slowly. The café next door was our meeting room.\nWe had no budget… Dr. Smit helped."
    assert text[turn.text_start : turn.end].startswith("It started slowly.")
    assert text[parsed.turns[1].start : parsed.turns[1].text_start] == "[00:00:05] Interviewer: "
    assert parsed.speaker_roles == {"Interviewer": "interviewer", "Marleen": "respondent"}
    assert parsed.warnings == []


def test_sentences_stay_inside_turn_words_and_lines():
    parsed = interviews_segment.parse_transcript("a.txt", TRANSCRIPT.encode(), "en")
    assert sentences_texts(parsed) == [
        "Interview Case A, 11 March",
        "Welcome!",
        "How did the programme start?",
        "🙂",  # spaCy's sentencizer: a token after '?' starts a sentence
        "It started slowly.",
        "The café next door was our meeting room.",
        "We had no budget… Dr. Smit helped.",  # an ellipsis is a pause, not an end ("Dr." is one token)
        "And then?",
        "Then it grew.",
        "Naïve, perhaps.",
    ]
    assert [s.turn_ordinal for s in parsed.sentences] == [0, 1, 1, 1, 2, 2, 2, 3, 4, 4]


def test_sentence_boundaries_equal_spacy_sentencizer_per_line():
    text = (
        'R: He said "Stop!" and left. (Really?) Yes. "Quoted." Next one!? Fine... 3.5 is e.g. a number. Dr. Who came.\n'
        "I: no punctuation here\nR: Ja. Bijv. dit o.a. Mevr. Jansen. Ok!\n"
    )
    for language in ("en", "nl"):
        turns = interviews_segment.find_turns(text)
        mine = [(s.start, s.end) for s in interviews_segment.find_sentences(text, turns, language)]
        nlp = interviews_segment.sentence_pipeline(language)
        reference = []
        for turn in turns:
            body = text[turn.text_start : turn.end]
            for sent in nlp(body).sents:
                start, end = turn.text_start + sent.start_char, turn.text_start + sent.end_char
                segment = text[start:end]
                start += len(segment) - len(segment.lstrip())
                end -= len(segment) - len(segment.rstrip())
                if end > start:
                    reference.append((start, end))
        assert mine == reference, language


def _spacy_reference(text, turns, language):
    nlp = interviews_segment.sentence_pipeline(language)
    reference = []
    for turn in turns:
        position = turn.text_start
        for line in text[turn.text_start : turn.end].split("\n"):
            for sent in nlp(line).sents:
                start, end = position + sent.start_char, position + sent.end_char
                segment = text[start:end]
                start += len(segment) - len(segment.lstrip())
                end -= len(segment) - len(segment.rstrip())
                if end > start:
                    reference.append((start, end))
            position += len(line) + 1
    return reference


@pytest.mark.parametrize("language", ["en", "nl", "de"])
def test_fast_sentencizer_equals_spacy_on_random_punctuation_heavy_text(language):
    import random

    rng = random.Random(language)
    atoms = ["word", "Dr.", "e.g.", "bijv.", "o.a.", "3.5", "U.S.", "etc.", "a.m.", "...", "…", ".", "!", "?", "?!", '"', "'", "(", ")", "[",
             "]", "-", "--", "—", ",", ";", ":", "🙂", "café", "naïve", "http://x.org/a.b", "x@y.nl", "1.", "2)", "«", "»", "¿", "。", "Next"]
    lines = []
    for n in range(1500):
        tokens = [rng.choice(atoms) for _ in range(rng.randint(1, 25))]
        glue = [rng.choice([" ", " ", " ", "", "  ", "\t"]) for _ in tokens]
        lines.append(("I: " if n % 2 else "R: ") + "".join(t + g for t, g in zip(tokens, glue)))
    text = "\n".join(lines) + "\n"
    turns = interviews_segment.find_turns(text)
    mine = [(s.start, s.end) for s in interviews_segment.find_sentences(text, turns, language)]
    assert mine == _spacy_reference(text, turns, language)


def test_markdown_labels_unlabelled_text_and_unknown_language():
    parsed = interviews_segment.parse_transcript("a.md", b"**Interviewer:** Hi.\n**Anna:** Hello. Bye.\n", "en")
    assert [t.speaker for t in parsed.turns] == ["Interviewer", "Anna"]
    plain = interviews_segment.parse_transcript("b.txt", b"Just a text without labels. Two sentences.\n", "nl")
    assert len(plain.turns) == 1 and plain.turns[0].speaker == ""
    assert any("no speaker labels" in w for w in plain.warnings)
    with pytest.raises(UserError, match="unknown language code 'zz'"):
        interviews_segment.sentence_pipeline("zz")


def test_vtt_turns_carry_cue_times():
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Interviewer>Hi. Ready?\n\n00:00:03.000 --> 00:00:05.000\n<v Anna>Yes.\n"
    parsed = interviews_segment.parse_transcript("c.vtt", vtt.encode(), "en")
    assert [(t.speaker, t.time) for t in parsed.turns] == [("Interviewer", "00:00:01.000 --> 00:00:02.000"), ("Anna", "00:00:03.000 --> 00:00:05.000")]
    assert sentences_texts(parsed) == ["Hi.", "Ready?", "Yes."]
    assert parsed.speaker_roles == {"Interviewer": "interviewer", "Anna": "respondent"}


def test_line_numbers():
    text = "one\ntwo\n\nfour 🙂\n"
    index = interviews_segment.LineIndex(text)
    assert [interviews_segment.line_number_at(text, o) for o in (0, 3, 4, 8, 9, 10, len(text))] == [1, 1, 2, 3, 4, 4, 5]
    assert index.span(4) == (9, 15) and text[slice(*index.span(4))] == "four 🙂"
    assert len(index) == 5
    with pytest.raises(ValueError):
        index.line_of(len(text) + 1)


def test_guess_roles_by_names_and_wordiness():
    text = "Q: Why?\nPeter: Because of many, many reasons here.\nJan: Ok.\n"
    parsed = interviews_segment.parse_transcript("d.txt", text.encode(), "en")
    assert parsed.speaker_roles == {"Q": "interviewer", "Peter": "respondent", "Jan": "other"}
    parsed = interviews_segment.parse_transcript("d.txt", text.encode(), "en", interviewer_name="Jan de Boer")
    assert parsed.speaker_roles["Jan"] == "interviewer"


# --- import into the store -----------------------------------------------------------------
def item(name="a.txt", data=TRANSCRIPT.encode(), case="Case A", respondent="Marleen Verhoef", **kw):
    return interviews_store.ImportItem(name, data, case, respondent, **kw)


def counts(store):
    with store.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Interview, SpeakerTurn, Sentence))


def test_import_stores_text_turns_sentences_and_one_audit_summary(demo_store):
    with demo_store.write("tester") as session:
        study = studies.get_study(session)
        before = session.scalar(select(func.max(AuditEvent.id)))
        [interview] = interviews_store.import_interviews(session, study, [item(role="manager", date="2024-03-11", interviewer="Noor", duration_minutes=62)])
        interview_id = interview.id
    with demo_store.read() as session:
        study = studies.get_study(session)
        interview = interviews_store.get_interview(session, study, interview_id)
        assert interview.text == TRANSCRIPT and interview.encoding == "utf-8" and interview.date == dt.date(2024, 3, 11)
        detail = interviews_store.interview_detail(session, interview)
        assert detail["turns"][1] == {"ordinal": 1, "speaker": "Interviewer", "role": "interviewer", "start": 28, "end": 91, "text_start": 52, "line": 3, "time": "00:00:05"}
        for s in detail["sentences"]:
            assert interview.text[s["start"] : s["end"]] == interview.text[s["start"] : s["end"]].strip()
        emoji = next(s for s in detail["sentences"] if "🙂" in interview.text[s["start"] : s["end"]])
        assert interview.text[emoji["start"] : emoji["end"]] == "🙂"
        assert emoji["start"] == TRANSCRIPT.index("🙂") and emoji["end"] == emoji["start"] + 1  # code points, not UTF-16 units
        assert interviews_segment.line_number_at(interview.text, emoji["start"]) == 3
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.entity == "interview", AuditEvent.id > before)))
        assert [e.action for e in events] == ["create", "import"]  # the row itself and one summary for the bulk inserts
        summary = next(e for e in events if e.action == "import")
        assert summary.actor == "tester" and summary.detail["sentences"] == len(detail["sentences"])
        record = interviews_store.interview_records(session, [interview])[0]
        assert record["turns"] == 5 and record["consent_withdrawn"] is False and record["interviewer"] == "Noor"


def test_duplicate_file_is_refused_naming_the_earlier_interview(demo_store):
    with demo_store.write() as session:
        [first] = interviews_store.import_interviews(session, studies.get_study(session), [item()])
        first_id = first.id
    with pytest.raises(UserError) as info, demo_store.write() as session:
        interviews_store.import_interviews(session, studies.get_study(session), [item("copy.txt", respondent="Thijs Brandsma")])
    assert info.value.message == f"copy.txt: this file was already imported as interview {first_id} (a.txt, Case A, Marleen Verhoef)"
    with pytest.raises(UserError, match="the same file as a.txt in this batch"), demo_store.write() as session:
        interviews_store.import_interviews(session, studies.get_study(session), [item(data=b"I: x\n"), item("b.txt", data=b"I: x\n")])


@pytest.mark.parametrize(
    "bad, message",
    [
        (item("empty.txt", data=b""), "empty.txt: the file is empty"),
        (item("bin.txt", data=b"\x00\x01\x02binary" * 20), "bin.txt: this is a binary file"),
        (item("mixed.txt", data="Café ".encode() + b"\xff\xfe"), "mixed.txt: undecodable bytes"),
        (item("fake.docx", data=b"not a zip at all"), "fake.docx: not a valid .docx file"),
        (item("b.txt", case="Case Z"), "b.txt: unknown case 'Case Z'"),
        (item("b.txt", respondent="Nobody"), "b.txt: unknown respondent 'Nobody' in Case A"),
        (item("b.txt", role="therapist"), "b.txt: Marleen Verhoef is registered as manager, not therapist"),
        (item("b.txt", date="11-03-2024"), "b.txt: invalid date '11-03-2024'"),
    ],
)
def test_every_bad_input_gives_one_message_and_nothing_of_the_batch_is_stored(demo_store, bad, message):
    good = item("good.txt", data=b"Interviewer: Fine.\nR: Yes.\n")
    with pytest.raises(UserError) as info, demo_store.write() as session:
        interviews_store.import_interviews(session, studies.get_study(session), [good, bad])
    assert info.value.message.startswith(message)
    assert counts(demo_store) == (0, 0, 0)


def test_a_batch_resolves_labels_as_single_lookups_do(demo_store):
    """The batch reads the study's cases and respondents once (``studies.Roster``): labels and
    names still match trimmed and case-insensitively, by internal or public case label."""
    with demo_store.write() as session:
        study = studies.get_study(session)
        internal = studies.get_case(session, study, "Case A").internal_label
        imported = interviews_store.import_interviews(session, study, [
            item("one.txt", case="  case a ", respondent="MARLEEN VERHOEF "),
            item("two.txt", data=b"I: other\n", case=internal.upper(), respondent="thijs brandsma", role="therapist")])
        assert [(i.case.public_label, i.respondent.name) for i in imported] == [("Case A", "Marleen Verhoef"), ("Case A", "Thijs Brandsma")]
        assert studies.Roster(session, study).case("CASE A") is studies.get_case(session, study, "Case A")


def test_size_limit_and_zip_bomb_in_a_batch(demo_store, monkeypatch):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b" " * (300 * 1024 * 1024))
    with pytest.raises(UserError, match="bomb.docx: refused: .* zip bomb"), demo_store.write() as session:
        interviews_store.import_interviews(session, studies.get_study(session), [item("ok.txt"), item("bomb.docx", data=buffer.getvalue())])
    monkeypatch.setattr(config, "MAX_UPLOAD_BYTES", 50)
    with pytest.raises(UserError, match="a.txt: the file is .* over the limit"), demo_store.write() as session:
        interviews_store.import_interviews(session, studies.get_study(session), [item()])
    assert counts(demo_store) == (0, 0, 0)


def test_withdrawn_consent_blocks_import_and_is_shown(demo_store):
    with demo_store.write() as session:
        study = studies.get_study(session)
        [interview] = interviews_store.import_interviews(session, study, [item()])
        respondent = interview.respondent
        studies.withdraw_consent(session, respondent, "interview", dt.date(2024, 6, 1))
    with demo_store.read() as session:
        study = studies.get_study(session)
        interview = interviews_store.list_interviews(session, study)[0]
        assert interviews_store.interview_records(session, [interview])[0]["consent_withdrawn"] is True
        with pytest.raises(UserError, match="withdrew consent"):
            interviews_store.require_analysable(interview)
        probe = progress.overview(session, study)[0]
        assert probe.stages["interviews"] == "1 transcript; 1 consent withdrawn"
    with pytest.raises(UserError, match="b.txt: Marleen Verhoef .* withdrew consent"), demo_store.write() as session:
        interviews_store.import_interviews(session, studies.get_study(session), [item("b.txt", data=b"I: other\n")])


def test_speaker_mapping_edit_and_conflict(demo_store):
    with demo_store.write() as session:
        [interview] = interviews_store.import_interviews(session, studies.get_study(session), [item()])
        interview_id, version = interview.id, interview.version
    with demo_store.write() as session:
        interview = session.get(Interview, interview_id)
        interviews_store.set_speaker_roles(session, interview, {"Marleen": "other"})
    with demo_store.read() as session:
        interview = session.get(Interview, interview_id)
        assert interview.speaker_roles["Marleen"] == "other" and interview.version == version + 1
        assert {t.role for t in interviews_store.turns_of(session, interview) if t.speaker == "Marleen"} == {"other"}
    with pytest.raises(UserError, match="in the meantime"), demo_store.write() as session:
        interviews_store.set_speaker_roles(session, session.get(Interview, interview_id), {"Marleen": "respondent"}, expected_version=version)
    with pytest.raises(UserError, match="no speaker labelled 'X'"), demo_store.write() as session:
        interviews_store.set_speaker_roles(session, session.get(Interview, interview_id), {"X": "respondent"})
    with pytest.raises(UserError, match="unknown speaker role 'boss'"), demo_store.write() as session:
        interviews_store.set_speaker_roles(session, session.get(Interview, interview_id), {"Marleen": "boss"})


def test_speaker_roles_given_at_import(demo_store):
    with demo_store.write() as session:
        [interview] = interviews_store.import_interviews(session, studies.get_study(session), [item(speaker_roles={"Interviewer": "other"})])
        assert interview.speaker_roles == {"Interviewer": "other", "Marleen": "respondent"}


def test_metadata_edit_and_delete(demo_store):
    with demo_store.write() as session:
        [interview] = interviews_store.import_interviews(session, studies.get_study(session), [item()])
        interviews_store.update_metadata(session, interview, observer="Jesse", date="2024-03-12", audio_ref="audio/a.m4a")
        assert (interview.observer, interview.date, interview.audio_ref) == ("Jesse", dt.date(2024, 3, 12), "audio/a.m4a")
        with pytest.raises(UserError, match="cannot edit text"):
            interviews_store.update_metadata(session, interview, text="x")
        interviews_store.delete_interview(session, interview)
    assert counts(demo_store) == (0, 0, 0)


def test_privacy_transcripts_are_for_researchers_only(demo_store):
    with demo_store.write() as session:
        study = studies.get_study(session)
        own, other = interviews_store.import_interviews(session, study, [item(), item("t.txt", data=b"I: Hi.\nR: Hello.\n", respondent="Thijs Brandsma")])
        own_id, other_id, respondent_id = own.id, other.id, own.respondent_id
    me = access.Principal(access.RESPONDENT, respondent_id, "respondent", study_id=1)
    expert = access.Principal(access.EXPERT, 1, "expert", study_id=1)
    with demo_store.read() as session:
        study = studies.get_study(session)
        researcher = access.Principal(access.RESEARCHER, 1, "admin", role="admin")
        assert own_id in [i.id for i in interviews_store.list_interviews(session, study, principal=researcher)]
        # A respondent reviews the reconstruction, never transcripts, not even their own.
        for interview_id in (own_id, other_id):
            with pytest.raises(access.AccessDenied):
                interviews_store.get_interview(session, study, interview_id, me)
        with pytest.raises(access.AccessDenied):
            interviews_store.list_interviews(session, study, principal=me)
        with pytest.raises(access.AccessDenied):
            interviews_store.get_interview(session, study, own_id, expert)
        with pytest.raises(access.AccessDenied):
            interviews_store.list_interviews(session, study, principal=expert)


# --- manifest ---------------------------------------------------------------------------
def write_manifest(folder, rows, header="file,case,respondent,role,language,date"):
    (folder / "manifest.csv").write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return folder / "manifest.csv"


def test_manifest_relative_paths_and_all_or_nothing(demo_store, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_bytes(TRANSCRIPT.encode())
    (tmp_path / "b.txt").write_bytes("Interviewer: Hoe ging het?\nLieke: Goed. Naïef, echt.\n".encode("cp1252"))
    rows = ["sub/a.txt,Case A,Marleen Verhoef,manager,en,2024-03-11", "b.txt,Case D,Lieke Jansma,therapist,nl,2024-04-03"]
    manifest = write_manifest(tmp_path, rows + ["missing.txt,Case A,Thijs Brandsma,therapist,en,"])
    with pytest.raises(UserError, match="missing.txt: no such file"), demo_store.write() as session:
        interviews_store.import_manifest(session, studies.get_study(session), manifest)
    assert counts(demo_store) == (0, 0, 0)
    manifest = write_manifest(tmp_path, rows)
    with demo_store.write() as session:
        imported = interviews_store.import_manifest(session, studies.get_study(session), manifest)
        assert [(i.file_name, i.language, i.encoding) for i in imported] == [("a.txt", "en", "utf-8"), ("b.txt", "nl", "cp1252")]


def test_manifest_missing_columns_and_empty(demo_store, tmp_path):
    manifest = write_manifest(tmp_path, ["a.txt,Case A"], header="file,case")
    with pytest.raises(UserError, match="manifest.csv: the manifest lacks the column\\(s\\) respondent, role, language, date"), demo_store.write() as session:
        interviews_store.import_manifest(session, studies.get_study(session), manifest)
    manifest = write_manifest(tmp_path, [])
    with pytest.raises(UserError, match="lists no files"), demo_store.write() as session:
        interviews_store.import_manifest(session, studies.get_study(session), manifest)


def test_demo_loads_all_fourteen_transcripts(demo_template, db_url, tmp_path):
    import shutil

    from casestudy import db as dbmod

    # This module's demo_store fixture removes the transcripts, so build the full demo here.
    if demo_template is not None:
        shutil.copy(demo_template, tmp_path / "demo.sqlite")
        demo_store = dbmod.Store(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    else:
        demo_store = dbmod.Store(db_url)
        migrate.upgrade(demo_store)
        demo.load_demo(demo_store)

    assert demo_interviews.load_demo_interviews in demo.demo_steps()
    with demo_store.read() as session:
        loaded = interviews_store.list_interviews(session, studies.get_study(session))
        assert len(loaded) == 14
        assert sorted((i.case.public_label, i.respondent.role) for i in loaded) == sorted(
            (f"Case {c}", role) for c in "ABCDEFG" for role in ("manager", "therapist"))
        assert {i.file_name for i in loaded if i.language == "nl"} == {"case-d-therapist.txt", "case-f-manager.txt"}
        assert all(len(i.text.split()) >= 1900 for i in loaded)
        assert all(len(interviews_store.turns_of(session, i)) > 20 for i in loaded)


def test_demo_with_a_missing_transcript_fails_whole(store, tmp_path, monkeypatch):

    (tmp_path / "manifest.csv").write_text(
        "file,case,respondent,role,language,date\ncase-a-manager.txt,Case A,Marleen Verhoef,manager,en,2024-03-11\n", encoding="utf-8")
    monkeypatch.setattr(demo_interviews, "DATA_FOLDER", tmp_path)
    with pytest.raises(UserError, match="case-a-manager.txt"):
        demo.load_demo(store)
    with store.read() as session:
        assert studies.list_studies(session) == []


def test_demo_manifest_lists_fourteen_transcripts():
    rows = interviews_store.read_manifest(demo_interviews.DATA_FOLDER / "manifest.csv")
    assert len(rows) == 14 and {r["case"] for r in rows} == {f"Case {c}" for c in "ABCDEFG"}
    assert any(r["language"] == "nl" for r in rows)


# --- CLI -----------------------------------------------------------------------------------
def test_cli_import_list_show_text(cli, demo_store, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.vtt"
    a.write_bytes(TRANSCRIPT.replace("\n", "\r\n").encode("utf-8-sig"))
    b.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Interviewer>Hi.\n\n00:00:03.000 --> 00:00:04.000\n<v Marleen>Hello 🙂.\n", encoding="utf-8")
    result = cli("--db", demo_store.url, "interviews", "import", a, b, "--case", "Case A", "--respondent", "Marleen Verhoef", "--role", "manager", "--date", "2024-03-11")
    assert result.code == 0, result
    first, second = imported_ids(result.out)
    assert [line.split(" as ")[0] for line in result.out.splitlines() if line.startswith("imported")] == ["imported a.txt", "imported b.vtt"]
    listed = json.loads(cli("--db", demo_store.url, "interviews", "list", "--format", "json").out)
    required = {"id", "case", "respondent", "role", "file", "sha256", "encoding", "characters", "turns", "sentences", "speakers", "language"}
    assert required <= set(listed[0]) and listed[0]["encoding"] == "utf-8 (BOM)" and listed[0]["characters"] == len(TRANSCRIPT)
    shown = json.loads(cli("--db", demo_store.url, "interviews", "show", second, "--format", "json").out)
    assert shown["turns"][1] == {"ordinal": 1, "speaker": "Marleen", "role": "respondent", "start": 17, "end": 34, "text_start": 26, "line": 2, "time": "00:00:03.000 --> 00:00:04.000"}
    text = cli("--db", demo_store.url, "interviews", "text", second).out
    assert text == "Interviewer: Hi.\nMarleen: Hello 🙂."
    assert [text[s["start"] : s["end"]] for s in shown["sentences"]] == ["Hi.", "Hello 🙂."]
    assert cli("--db", demo_store.url, "interviews", "text", first).out == TRANSCRIPT
    numbered = cli("--db", demo_store.url, "interviews", "text", first, "--line-numbers").out
    assert numbered.splitlines()[2] == "3  [00:00:05] Interviewer: Welcome! How did the programme start? 🙂"
    table = cli("--db", demo_store.url, "interviews", "show", first)
    assert table.code == 0 and "Interviewer" in table.out


def test_cli_all_or_nothing_and_errors(cli, demo_store, tmp_path):
    good, empty = tmp_path / "good.txt", tmp_path / "empty.txt"
    good.write_text("Interviewer: Hi.\n", encoding="utf-8")
    empty.write_bytes(b"")
    result = cli("--db", demo_store.url, "interviews", "import", good, empty, "--case", "Case A", "--respondent", "Marleen Verhoef")
    assert (result.code, result.err) == (2, "error: empty.txt: the file is empty\n") and result.out == ""
    assert json.loads(cli("--db", demo_store.url, "interviews", "list", "--format", "json").out) == []
    result = cli("--db", demo_store.url, "interviews", "import", tmp_path / "nope.txt", "--case", "Case A", "--respondent", "X")
    assert result.code == 2 and "nope.txt: no such file" in result.err
    assert cli("--db", demo_store.url, "interviews", "show", "99").err == "error: no interview 99 in this study\n"
    result = cli("--db", demo_store.url, "interviews", "import", good, "--case", "Case A", "--respondent", "Marleen Verhoef", "--role", "boss")
    assert result.code == 2


def test_cli_manifest_speakers_edit_delete(cli, demo_store, tmp_path):
    (tmp_path / "a.txt").write_text(TRANSCRIPT, encoding="utf-8")
    manifest = write_manifest(tmp_path, ["a.txt,Case A,Marleen Verhoef,manager,en,2024-03-11"])
    result = cli("--db", demo_store.url, "interviews", "import-manifest", manifest)
    [first] = imported_ids(result.out)
    assert result.code == 0 and result.out.startswith(f"imported a.txt as interview {first}:")
    result = cli("--db", demo_store.url, "interviews", "speakers", first, "--set", "Marleen=other", "--format", "json")
    assert json.loads(result.out) == [{"speaker": "Interviewer", "role": "interviewer"}, {"speaker": "Marleen", "role": "other"}]
    assert cli("--db", demo_store.url, "interviews", "speakers", first, "--set", "bad").code == 2
    assert cli("--db", demo_store.url, "interviews", "edit", first, "--observer", "Jesse", "--duration", "55").code == 0
    assert json.loads(cli("--db", demo_store.url, "interviews", "show", first, "--format", "json").out)["duration_minutes"] == 55
    assert cli("--db", demo_store.url, "interviews", "edit", first).code == 2
    assert cli("--db", demo_store.url, "interviews", "delete", first).out == f"deleted interview {first} (a.txt)\n"
    bad = write_manifest(tmp_path, ["a.txt,Case A"], header="file,case")
    result = cli("--db", demo_store.url, "interviews", "import-manifest", bad)
    assert result.code == 2 and "lacks the column(s)" in result.err
