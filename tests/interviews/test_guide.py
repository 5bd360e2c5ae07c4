"""The interview guide: data, files (bounded), versions in a study, which item a turn asks and how
each turn was elicited (on constructed transcripts), and the `guide` commands."""

from __future__ import annotations

import io
import json

import docx
import pytest

from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.interviews import guide as guides
from casestudy.interviews import segment
from casestudy.interviews import store as interviews_store

GUIDE_YAML = """\
title: Implementation interview
note: Open questions first, then probes.
topics:
  - key: OPEN
    title: Course of the implementation
    questions:
      - Looking back, was the implementation of the programme a success?
      - text: What contributed to that outcome, in your view?
  - key: ORG
    title: The organisation
    probes:
      - text: How was the support from the board?
        level: organization
      - text: How did the referrals from other departments work?
        level: organization
        roles: [manager]
  - title: Team
    roles: therapist
    probes:
      - text: Were the roles in the team clearly defined?
        level: team
"""

TRANSCRIPT = (
    "Interviewer: Looking back, was the implementation of the programme a success?\n"  # turn 0: OPEN.1
    "Ann: Partly. The budget ran out in the second year.\n"                              # 1 spontaneous (after OPEN.1)
    "Interviewer: Can you say more?\n"                                                   # 2 no item
    "Ann: The board never really backed us.\n"                                           # 3 spontaneous (before any probe)
    "Interviewer: How was the support from the board in those years?\n"                  # 4 ORG.1 probe
    "Ann: Weak. They cut the training.\n"                                                # 5 probe (after ORG.1)
    "Interviewer: And then?\n"                                                           # 6 no item
    "Ann: Then the team fell apart.\n"                                                   # 7 probe (probe stage)
    "Interviewer: What contributed to that outcome, in your view?\n"                     # 8 OPEN.2
    "Ann: Mostly the turnover.\n"                                                        # 9 spontaneous (after open question)
)


def parsed_turns(text: str = TRANSCRIPT):
    parsed = segment.parse_transcript("t.txt", text.encode(), "en", respondent_name="Ann")
    return parsed.turns, parsed.text


def demo_guide() -> guides.Guide:
    return guides.read_guide("guide.yaml", GUIDE_YAML.encode())


# --- the guide as data ------------------------------------------------------------------------
def test_keys_numbered_roles_inherited_and_kinds_kept():
    guide = demo_guide()
    assert [t.key for t in guide.topics] == ["OPEN", "ORG", "T3"]
    assert [(i.key, i.kind, i.level, i.roles) for i in guide.items()] == [
        ("OPEN.Q1", "open", "", ()), ("OPEN.Q2", "open", "", ()),
        ("ORG.P1", "probe", "organization", ()), ("ORG.P2", "probe", "organization", ("manager",)),
        ("T3.P1", "probe", "team", ("therapist",)),
    ]
    assert [i.key for i in guide.items("manager")] == ["OPEN.Q1", "OPEN.Q2", "ORG.P1", "ORG.P2"]
    assert [i.key for i in guide.items("therapist")] == ["OPEN.Q1", "OPEN.Q2", "ORG.P1", "T3.P1"]
    assert guides.build_guide(guide.as_document()) == guide


@pytest.mark.parametrize("document, message", [
    ({"title": "G"}, "no topics"),
    ({"title": "", "topics": [{"title": "T", "questions": ["q"]}]}, "the guide's title: the text is missing"),
    ({"title": "G", "topics": [{"title": "T", "questions": ["q"], "colour": "red"}]}, "topic 1: unknown field(s) colour"),
    ({"title": "G", "topics": [{"title": "T"}]}, "no open questions and no probes"),
    ({"title": "G", "topics": [{"title": "T", "questions": [{"text": {"deeper": "x"}}]}]}, "expected text, found a mapping"),
    ({"title": "G", "topics": [{"title": "T", "questions": "q"}]}, "questions: expected a list"),
    ({"title": "G", "topics": [{"title": "T", "probes": [{"text": "p", "roles": ["nurse"]}]}]}, "unknown role 'nurse'"),
    ({"title": "G", "topics": [{"key": "A", "title": "T", "questions": [{"key": "A", "text": "q"}]}]}, "the key 'A' is used twice"),
    ({"title": "G", "topics": [{"title": "T", "questions": ["x" * (guides.MAX_TEXT + 1)]}]}, "longer than 4,000 characters"),
    (["not", "a", "mapping"], "a mapping with a title and topics"),
])
def test_malformed_guides_are_refused_with_the_place(document, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        guides.build_guide(document)


def test_size_and_count_bounds():
    many = {"title": "G", "topics": [{"title": f"T{n}", "questions": ["q"] * 20} for n in range(guides.MAX_ITEMS // 20 + 1)]}
    with pytest.raises(UserError, match="more than 2,000 questions"):
        guides.build_guide(many)
    with pytest.raises(UserError, match="topics; at most 200"):
        guides.build_guide({"title": "G", "topics": [{"title": "T", "questions": ["q"]}] * (guides.MAX_TOPICS + 1)})
    with pytest.raises(UserError, match="the limit for this kind of file"):
        guides.read_guide("big.yaml", b"#" * (guides.MAX_GUIDE_BYTES + 1))


def test_yaml_anchors_malformed_yaml_and_unknown_formats_are_refused():
    with pytest.raises(UserError, match="anchor or alias"):
        guides.read_guide("a.yaml", b"title: &t G\ntopics: [{title: *t, questions: [q]}]\n")
    with pytest.raises(UserError, match=r"a.yaml is not valid YAML \(line"):
        guides.read_guide("a.yaml", b"title: [unclosed\n")
    with pytest.raises(UserError, match="imported from YAML"):
        guides.read_guide("a.docx", b"PK")
    with pytest.raises(UserError, match="a.yml: topic 1"):
        guides.read_guide("a.yml", b"title: G\ntopics: [7]\n")


def test_yaml_and_csv_round_trip_to_the_same_guide():
    guide = demo_guide()
    assert guides.read_guide("g.yaml", guides.export_guide(guide, "yaml").encode()) == guide
    csv_text = guides.export_guide(guide, "csv")
    assert csv_text.splitlines()[:3] == ["title,Implementation interview", 'note,"Open questions first, then probes."', ""]
    assert csv_text.splitlines()[3] == ",".join(guides.CSV_COLUMNS)
    assert guides.read_guide("g.csv", csv_text.encode()) == guide


def test_csv_problems_name_the_line():
    with pytest.raises(UserError, match="line 4: kind 'question'; use open or probe"):
        guides.read_guide("g.csv", b"title,G\n\ntopic,topic_title,kind,key,level,roles,text\nT1,Topic,question,,,,Why?\n")
    with pytest.raises(UserError, match="need the header"):
        guides.read_guide("g.csv", b"title,G\n\ntopic,kind,text\n")
    with pytest.raises(UserError, match="unknown field 'colour'"):
        guides.read_guide("g.csv", b"colour,red\n\ntopic,topic_title,kind,key,level,roles,text\n")


def test_markdown_per_role_and_docx():
    guide = demo_guide()
    text = guides.guide_markdown(guide, "therapist", number=2)
    assert text.startswith("# Implementation interview (version 2)\n")
    assert "*For respondents in the role therapist.*" in text
    assert "1. Looking back, was the implementation of the programme a success? (OPEN.Q1)" in text
    assert "- How was the support from the board? (ORG.P1; level: organization)" in text
    assert "referrals" not in text  # a manager's probe
    assert "## T3. Team" in text
    document = docx.Document(io.BytesIO(guides.export_guide(guide, "docx", 2)))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "Implementation interview (version 2)"
    assert "How did the referrals from other departments work? (ORG.P2; level: organization; for: manager)" in paragraphs
    with pytest.raises(UserError, match="unknown format 'pdf'"):
        guides.export_guide(guide, "pdf")


# --- matching and elicitation on constructed transcripts -----------------------------------------
def test_match_item_needs_enough_shared_content_words():
    items = demo_guide().items("manager")
    assert guides.match_item("How was the support from the board in those years?", items).item.key == "ORG.P1"
    assert guides.match_item("And then?", items) is None
    assert guides.match_item("The board?", items) is None  # one of the probe's two content words
    # Inflections count as the same word (the first six letters).
    assert guides.match_item("Did the board's supporting role matter?", items).item.key == "ORG.P1"


def test_turn_elicitation_by_matched_item_and_by_position():
    turns, text = parsed_turns()
    result = guides.turn_elicitation(turns, text, demo_guide(), "manager")
    by_turn = {r.turn: r for r in result}
    assert [by_turn[n].value for n in (1, 3, 5, 7, 9)] == ["spontaneous", "spontaneous", "probe", "probe", "spontaneous"]
    assert by_turn[1].reason.startswith("after open question OPEN.Q1 (turn 0)")
    assert by_turn[3].reason == "no probe of the guide asked before it" and by_turn[3].asked_turn == 2
    assert by_turn[5].item.key == "ORG.P1" and by_turn[5].asked_turn == 4
    assert by_turn[7].reason == "in the probe stage (from turn 4, the first probe asked)"
    assert by_turn[9].item.key == "OPEN.Q2"
    # The interviewer's own turns take their stage.
    assert (by_turn[2].value, by_turn[4].value, by_turn[6].value) == ("spontaneous", "probe", "probe")


def test_a_probe_for_another_role_does_not_match():
    text = "Interviewer: Were the roles in the team clearly defined?\nAnn: Not at all.\n"
    turns, text = parsed_turns(text)
    manager = guides.turn_elicitation(turns, text, demo_guide(), "manager")
    therapist = guides.turn_elicitation(turns, text, demo_guide(), "therapist")
    assert manager[1].value == "spontaneous" and manager[1].item is None
    assert therapist[1].value == "probe" and therapist[1].item.key == "T3.P1"


def test_probe_start_set_by_hand_decides_the_position():
    turns, text = parsed_turns()
    result = {r.turn: r for r in guides.turn_elicitation(turns, text, demo_guide(), "manager", probe_start_turn=2)}
    assert result[3].value == "probe" and result[3].reason == "in the probe stage (from turn 2, set by hand)"
    # A matched item still decides the turn after it.
    assert result[1].value == "spontaneous" and result[9].value == "spontaneous"
    later = {r.turn: r for r in guides.turn_elicitation(turns, text, demo_guide(), "manager", probe_start_turn=8)}
    assert later[7].value == "spontaneous" and later[7].reason == "before the probe stage (from turn 8, set by hand)"


def test_without_guide_only_a_probe_start_tells():
    turns, text = parsed_turns()
    unknown = guides.turn_elicitation(turns, text, None)
    assert {r.value for r in unknown} == {""}
    assert "mark it by hand" in unknown[1].reason
    by_position = {r.turn: r.value for r in guides.turn_elicitation(turns, text, None, probe_start_turn=6)}
    assert (by_position[5], by_position[7]) == ("spontaneous", "probe")


def test_dutch_interviewer_turns_match_shared_words():
    guide = guides.build_guide({"title": "G", "topics": [{"title": "T", "probes": [{"text": "Hoe ging het met de training en supervisie?"}]}]})
    text = "Interviewer: Vertel eens over de training en de supervisie.\nLieke: Die was er nauwelijks.\n"
    turns, text = parsed_turns(text)
    assert guides.turn_elicitation(turns, text, guide)[1].value == "probe"


# --- versions in a study ---------------------------------------------------------------------------
@pytest.fixture
def study_store(store):
    with store.write("setup") as session:
        study = studies.create_study(session, "Guide study")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        studies.add_respondent(session, case, "Ann", "manager")
        interviews_store.import_interviews(session, study, [interviews_store.ImportItem("ann.txt", TRANSCRIPT.encode(), "Case A", "Ann")])
    return store


def test_versions_added_unchanged_and_assigned(study_store):
    guide = demo_guide()
    with study_store.write("ann") as session:
        study = studies.get_study(session)
        first, what = guides.store_guide(session, study, guide, "ann", "first")
        assert (first.number, what) == (1, "added")
        assert guides.store_guide(session, study, guide)[1] == "unchanged"
        changed = guides.build_guide({**guide.as_document(), "title": "Implementation interview, revised"})
        second, what = guides.store_guide(session, study, changed, "ann", "revised")
        assert (second.number, what) == (2, "added")
        interview = interviews_store.list_interviews(session, study)[0]
        assert guides.guide_for(session, interview).number == 2  # follows the newest
        guides.set_interview_guide(session, interview, 1)
        assert guides.guide_for(session, interview).number == 1
        records = guides.guide_records(session, study)
        assert [(r["number"], r["interviews"], r["open"], r["probes"]) for r in records] == [(1, 1, 2, 3), (2, 0, 2, 3)]
        with pytest.raises(UserError, match="no interview guide version 7; versions: 1, 2"):
            guides.get_guide(session, study, 7)


def test_levels_must_be_the_studys(study_store):
    guide = guides.build_guide({"title": "G", "topics": [{"title": "T", "probes": [{"text": "p", "level": "nation"}]}]})
    with study_store.write("ann") as session, pytest.raises(UserError, match="level\\(s\\) nation, which the study does not have"):
        guides.store_guide(session, studies.get_study(session), guide)


def test_a_study_without_guide_says_how_to_add_one(study_store):
    with study_store.read() as session, pytest.raises(UserError, match="import one with 'casestudy guide import FILE'"):
        guides.get_guide(session, studies.get_study(session))


# --- CLI ---------------------------------------------------------------------------------------------
def test_cli_import_list_show_export_assign_turns(study_store, cli, tmp_path):
    db = ("--db", study_store.url)
    source = tmp_path / "guide.yaml"
    source.write_text(GUIDE_YAML, encoding="utf-8")
    result = cli(*db, "guide", "import", source, "--note", "first version")
    assert result.code == 0, result
    assert result.out.strip() == "stored interview guide version 1 (Implementation interview): 3 topic(s), 2 open question(s), 3 probe(s)"
    assert cli(*db, "guide", "import", source).out.startswith("unchanged: interview guide version 1")
    listed = json.loads(cli(*db, "guide", "list", "--format", "json").out)
    assert [(g["number"], g["note"]) for g in listed] == [(1, "first version")]
    shown = cli(*db, "guide", "show", "--role", "manager").out
    assert shown.startswith("# Implementation interview (version 1)") and "T3. Team" not in shown
    assert json.loads(cli(*db, "guide", "show", "--format", "json").out)["topics"][0]["key"] == "OPEN"
    out_csv = tmp_path / "guide.csv"
    assert cli(*db, "guide", "export", "--format", "csv", "--output", out_csv).code == 0
    assert guides.read_guide("guide.csv", out_csv.read_bytes()) == demo_guide()
    refused = cli(*db, "guide", "export", "--format", "docx")
    assert refused.code == 2 and "error:" in refused.err
    assert cli(*db, "guide", "assign", "1", "--version", "1").out.strip() == "interview 1 follows guide version 1"
    turns = json.loads(cli(*db, "guide", "turns", "1", "--format", "json").out)
    assert [(t["turn"], t["elicitation"], t["item"]) for t in turns if t["turn"] in (4, 5, 7)] == [
        (4, "probe", "ORG.P1"), (5, "probe", "ORG.P1"), (7, "probe", "")]


def test_cli_refusals_are_one_line(study_store, cli, tmp_path):
    db = ("--db", study_store.url)
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: G\ntopics: [{title: T, questions: [q], colour: red}]\n", encoding="utf-8")
    result = cli(*db, "guide", "import", bad)
    assert result.code == 2 and result.err.strip() == "error: bad.yaml: topic 1: unknown field(s) colour; allowed: key, title, roles, questions, probes"
    assert "Traceback" not in result.err
    result = cli(*db, "guide", "show")
    assert result.code == 2 and "no interview guide" in result.err
