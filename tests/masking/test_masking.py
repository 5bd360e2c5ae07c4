"""Masking: every matching rule, the CLI, the study workflow, privacy and the review page."""

from __future__ import annotations

import pytest

from casestudy import access
from casestudy.masking import engine as masking
from casestudy.masking import workflow as wf
from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.masking.engine import Register, make_entry
from casestudy.reconstruction import membercheck


def reg(*entries):
    return Register([make_entry(*e) if isinstance(e, tuple) else e for e in entries])


def masked(register, text):
    return register.mask(text, candidates=False).masked


# --- matching rules -------------------------------------------------------------------
def test_case_and_diacritics_insensitive():
    r = reg(("Zoë Dijkhuis", "[team leader]", "person"))
    assert masked(r, "Zoe Dijkhuis and ZOË DIJKHUIS and zoë dijkhuis.") == "[Team leader] and [team leader] and [team leader]."
    r = reg(("Zoe Jansen", "[x]", "person"))
    assert masked(r, "Zoë Jansen") == "[X]"


def test_whole_words_only():
    r = reg(("Post", "[p]", "other"), ("Amsterdam", "[city]", "place"))
    assert masked(r, "Postbus, Compost, Amsterdamned, Nieuw-Amsterdamer") == "Postbus, Compost, Amsterdamned, Nieuw-[city]"
    assert masked(r, "the Post office") == "the [p] office"


def test_possessive_and_genitive_forms():
    r = reg(("Verhoef", "[m]", "other"), ("Dijkhuis", "[t]", "other"))
    text = "Verhoef's plan, Verhoef’s team, Verhoefs aanpak, Dijkhuis' idea"
    assert masked(r, text) == "[M] plan, [m] team, [m] aanpak, [t] idea"


def test_quotes_around_names_are_kept():
    r = reg(("Verhoef", "[m]", "other"), ("Dijkhuis", "[t]", "other"))
    assert masked(r, "she said 'Verhoef' and ‘Dijkhuis’ and 'Verhoef's'") == "she said '[m]' and ‘[t]’ and '[m]'"
    assert masked(r, "'Verhoefx'") == "'Verhoefx'"


def test_hyphenated_compounds():
    r = reg(("Dijkhuis", "[t]", "other"))
    assert masked(r, "the Dijkhuis-team and team-Dijkhuis") == "the [t]-team and team-[t]"
    off = reg(make_entry("Dijkhuis", "[t]", "other", options={"compounds": False}))
    assert masked(off, "the Dijkhuis-team and Dijkhuis") == "the Dijkhuis-team and [t]"


def test_dutch_and_english_adjective_and_demonym_endings():
    r = reg(("Amsterdam", "[city]", "place"), ("Utrecht", "[city]", "place"), ("Groningen", "[city]", "place"), ("Europe", "[c]", "place"))
    text = "Amsterdamse zorg, Utrechter, Utrechtse, Amsterdammers, Groninger, Gronings, European"
    assert masked(r, text) == "[City] zorg, [city], [city], [city], [city], [city], [c]"
    assert masked(reg(make_entry("Utrecht", "[city]", "place", options={"endings": False})), "Utrechtse") == "Utrechtse"
    assert masked(reg(("Utrecht", "[p]", "person")), "Utrechtse") == "Utrechtse"  # endings are for places and organisations


def test_multiword_across_line_breaks_and_spaces():
    r = reg(("Zorggroep Veldhoven-Oost", "the institution", "organisation"))
    assert masked(r, "at Zorggroep\nVeldhoven  Oost today") == "at the institution today"
    assert masked(r, "at ZORGGROEP   veldhoven - oost") == "at the institution"
    off = reg(make_entry("Zorggroep Veldhoven-Oost", "x", "organisation", options={"multiword": False}))
    assert masked(off, "Zorggroep\nVeldhoven-Oost / Zorggroep Veldhoven-Oost") == "Zorggroep\nVeldhoven-Oost / x"


def test_person_name_forms_particles_and_titles():
    r = reg(("Femke van der Laan", "[therapist]", "person"), ("Marleen Verhoef", "[manager]", "person"))
    text = (
        "Femke van der Laan; F. van der Laan; F.van der Laan; Van der Laan; mevrouw Van der Laan; "
        "Dr. Verhoef; M. Verhoef; meneer Verhoef; prof. Marleen Verhoef; Marleen; Verhoef."
    )
    assert masked(r, text) == (
        "[Therapist]; [therapist]; [therapist]; [therapist]; [therapist]; "
        "[manager]; [manager]; [manager]; [manager]; [manager]; [manager]."
    )
    # The particle-less core 'Laan' is also a common word: only a capitalised Laan is masked.
    assert masked(r, "the laan, and Laan said") == "the laan, and [therapist] said"


def test_several_given_names():
    r = reg(("Anna Maria de Vries", "[a]", "person"), ("Jan Peter Jansen", "[j]", "person"))
    text = "Anna Maria de Vries, A.M. de Vries, A. de Vries, Anna de Vries, De Vries, Vries; J.P. Jansen, Jan Jansen, Jansen, Jan."
    assert masked(r, text) == "[A], [a], [a], [a], [a], [a]; [j], [j], [j], [j]."


def test_shared_word_surname_needs_a_capital():
    r = reg(("Willem Post", "[manager]", "person"))
    assert masked(r, "the post arrived; Post said so; Willem Post agreed") == "the post arrived; [manager] said so; [manager] agreed"


def test_titles_stay_when_entry_is_not_a_person():
    r = reg(("Hoogland", "[town]", "place"))
    assert masked(r, "mevrouw Hoogland") == "mevrouw [town]"


def test_case_sensitive_option():
    r = reg(make_entry("Baken", "[org]", "organisation", options={"case_insensitive": False}))
    assert masked(r, "Baken and baken") == "[Org] and baken"
    r = reg(make_entry("Zoë", "[z]", "other", options={"diacritics_insensitive": False}))
    assert masked(r, "Zoë and Zoe") == "[Z] and Zoe"


def test_variants():
    r = reg(make_entry("Stichting De Lindenhof", "the institution", "organisation", ["Lindenhof"]))
    assert masked(r, "De Lindenhof en Stichting De Lindenhof") == "De the institution en the institution"


def test_emails_phones_urls_always():
    r = reg(("Verhoef", "[m]", "other"))
    text = "Mail m.verhoef@zorg.nl, call 06-12345678 or +31 20 123 4567, see https://www.zorg.nl/team. In 2024-03-11 we had 12 groups."
    out = masked(r, text)
    assert out == "Mail [email], call [phone] or [phone], see [url]. In 2024-03-11 we had 12 groups."
    assert masked(r, "Years 2019 2020 2021, 10 000 000 words, (020) 123 4567, zorg.nl/x.") == "Years 2019 2020 2021, 10 000 000 words, [phone], [url]."


def test_offsets_map_to_original_text_with_non_ascii():
    r = reg(("Zoë Dijkhuis", "[t]", "person"))
    text = "Café — Zoe\u0308 Dijkhuis came 🙂 then Zoë Dijkhuis."
    result = r.mask(text, candidates=False)
    for rep in result.replacements:
        assert text[rep.start : rep.end] == rep.text
    assert result.masked.endswith("then [t].")
    assert "Dijkhuis" not in result.masked


def test_longest_match_wins_and_is_deterministic():
    r = reg(("GGZ Rivierenland-Noord", "the institution", "organisation"), ("Rivierenland", "[region]", "place"))
    assert masked(r, "GGZ Rivierenland-Noord in Rivierenland") == "The institution in [region]"
    assert [x.as_dict() for x in r.find("GGZ Rivierenland-Noord")] == [x.as_dict() for x in r.find("GGZ Rivierenland-Noord")]


def test_candidates_reported_not_changed():
    r = reg(("Zorggroep Veldhoven-Oost", "the institution", "organisation"))
    text = "We met at Veldhovn. Later Hendriksen joined the team at the hospital."
    result = r.mask(text)
    assert result.masked == text
    found = {(c.text, c.reason) for c in result.candidates}
    assert ("Veldhovn", "near miss") in found
    assert ("Hendriksen", "capitalised") in found
    assert not any(c.text in ("We", "Later", "team") for c in result.candidates)


def test_same_replacement_across_cases():
    r = reg(("Marleen Verhoef", "[manager]", "person"))
    assert masked(r, "Verhoef (case one)") == "[Manager] (case one)"
    assert masked(r, "Marleen Verhoef (case two)") == "[Manager] (case two)"


def test_leak_scan_line_and_column():
    r = reg(("Verhoef", "[m]", "person"))
    findings = r.scan("first line\n  Zoë and Verhoef's")
    assert [(f.line, f.column, f.text, f.term) for f in findings] == [(2, 11, "Verhoef's", "Verhoef")]


def test_register_validation():
    with pytest.raises(UserError, match="unknown kind"):
        masking.parse_register_csv("term,replacement,kind\nX,y,animal\n")
    with pytest.raises(UserError, match="empty term"):
        masking.parse_register_csv("term,replacement,kind\n,y,person\n")
    with pytest.raises(UserError, match="header"):
        masking.parse_register_csv("name,replacement,kind\nX,y,person\n")
    with pytest.raises(UserError, match="contains the register term"):
        masking.parse_register_csv("term,replacement,kind\nHoogland,Hoogland town,place\n")
    entries = masking.parse_register_csv("term,replacement,kind,variants\nA Org,the org,organisation,AO;A-O\n")
    assert entries[0].variants == ("AO", "A-O")
    assert masking.parse_register_csv(masking.register_csv(entries)) == entries


# --- CLI ------------------------------------------------------------------------------
@pytest.fixture
def register_file(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(
        "term,replacement,kind,variants\n"
        "Marleen Verhoef,[manager],person,\n"
        "Zorggroep Veldhoven-Oost,the institution,organisation,Veldhoven-Oost\n"
        "Amsterdam,[city],place,\n",
        encoding="utf-8",
    )
    return path


def test_cli_mask_single_to_stdout(cli, tmp_path, register_file):
    source = tmp_path / "a.txt"
    source.write_text("Marleen Verhoef of Veldhoven-Oost moved to Amsterdam.\n", encoding="utf-8")
    result = cli("mask", "--register", register_file, source)
    assert result.code == 0, result
    assert result.out == "[Manager] of the institution moved to [city].\n"


def test_cli_mask_several_to_output_dir(cli, tmp_path, register_file):
    (tmp_path / "in").mkdir()
    for name in ("x.txt", "y.txt"):
        (tmp_path / "in" / name).write_text(f"{name}: Verhoef", encoding="utf-8")
    result = cli("mask", "--register", register_file, tmp_path / "in" / "x.txt", tmp_path / "in" / "y.txt")
    assert result.code == 2 and result.err.startswith("error:")
    result = cli("mask", "--register", register_file, "--output-dir", tmp_path / "out", tmp_path / "in" / "x.txt", tmp_path / "in" / "y.txt")
    assert result.code == 0, result
    assert (tmp_path / "out" / "y.txt").read_text(encoding="utf-8") == "y.txt: [manager]"


def test_cli_check(cli, tmp_path, register_file):
    clean = tmp_path / "clean.txt"
    clean.write_text("[manager] of the institution\n", encoding="utf-8")
    dirty = tmp_path / "dirty.txt"
    dirty.write_text("ok\nZoë said Verhoef's and\n  the Amsterdamse one\n", encoding="utf-8")
    assert cli("mask", "--register", register_file, "--check", clean).code == 0
    result = cli("mask", "--register", register_file, "--check", clean, dirty)
    assert result.code == 1
    assert result.out.splitlines() == [
        f"{dirty}:2:10: Verhoef's (Marleen Verhoef)",
        f"{dirty}:3:7: Amsterdamse (Amsterdam)",
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        ("term,replacement\nX,y\n", "header"),
        ("term,replacement,kind\nX,y,animal\n", "unknown kind"),
        ("term,replacement,kind\n  ,y,person\n", "empty term"),
        ("term,replacement,kind\nX,y,person,extra\n", "fields"),
    ],
)
def test_cli_bad_register_exit_2(cli, tmp_path, content, message):
    path = tmp_path / "r.csv"
    path.write_text(content, encoding="utf-8")
    source = tmp_path / "a.txt"
    source.write_text("x", encoding="utf-8")
    result = cli("mask", "--register", path, source)
    assert result.code == 2 and result.err.startswith("error:") and message in result.err


def test_cli_unreadable_input_exit_2(cli, tmp_path, register_file):
    result = cli("mask", "--register", register_file, tmp_path / "missing.txt")
    assert result.code == 2 and result.err.startswith("error: cannot read")
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert cli("mask", "--register", register_file, "--check", binary).code == 2
    assert cli("mask", "--register", tmp_path / "nope.csv", binary).code == 2


# --- study workflow -------------------------------------------------------------------
SOURCE = "Ans Kuipers of GGZ Rivierenland-Noord worked with Unit 5 and Lieke. Later Hendriksen joined.\n"


def _draft(store, text=SOURCE, label="Case B"):
    with store.write("tester") as session:
        study = studies.get_study(session)
        case = studies.get_case(session, study, label)
        row = wf.generate_masked(session, case, text, "pasted")
        return row.id


def test_demo_register_loaded(demo_store):
    with demo_store.read() as session:
        entries = wf.list_entries(session, studies.get_study(session))
    terms = {e.term for e in entries}
    assert {"Marleen Verhoef", "Centrum Duinzicht", "Hoogland"} <= terms


def test_generate_masks_register_and_guards(demo_store):
    masked_id = _draft(demo_store)
    with demo_store.read() as session:
        row = wf.get_masked(session, masked_id)
        assert row.masked_text == "[Manager] of the institution worked with Case E and [principal therapist]. Later Hendriksen joined.\n"
        assert [c["text"] for c in row.candidates] == ["Hendriksen"]
        assert all(row.source_text[r["start"] : r["end"]] == r["text"] for r in row.replacements)


def test_release_refused_on_leak_then_allowed(demo_store):
    masked_id = _draft(demo_store)
    with demo_store.write("tester") as session:
        row = wf.get_masked(session, masked_id)
        index = next(i for i, r in enumerate(row.replacements) if r["text"] == "Unit 5")
        wf.review_replacement(session, masked_id, index, "Unit 5 again")  # an edit that re-exposes the label
    with pytest.raises(UserError, match="leak scan found 1"):
        with demo_store.write("tester") as session:
            wf.release(session, masked_id, "tester")
    with demo_store.write("tester") as session:
        wf.review_replacement(session, masked_id, index, "another department")
    with pytest.raises(UserError, match="candidate"):
        with demo_store.write("tester") as session:
            wf.release(session, masked_id, "tester")
    with demo_store.write("tester") as session:
        wf.decide_candidate(session, masked_id, 0, "mask", "[colleague]")
        row = wf.release(session, masked_id, "tester")
        assert row.status == "released" and len(row.released_hash) == 64
        assert "Hendriksen" not in row.masked_text
    with pytest.raises(UserError, match="frozen"):
        with demo_store.write("tester") as session:
            wf.accept_all(session, masked_id)


def test_released_texts_for_privacy(demo_store):
    released_id = _draft(demo_store, "Marleen Verhoef spoke.\n", "Case A")
    _draft(demo_store, "Draft text about Willem Post.\n", "Case G")
    with demo_store.write("tester") as session:
        wf.release(session, released_id, "tester")
        study = studies.get_study(session)
    expert = access.Principal(access.EXPERT, 1, "expert 1", study_id=study.id)
    with demo_store.read() as session:
        texts = wf.released_texts_for(session, expert)
        # The demo panel releases a sketch per case too; the draft about Case G never shows.
        ours = [t for t in texts if t["text"] == "[Manager] spoke.\n"]
        assert ours == [{"case": "Case A", "text": "[Manager] spoke.\n", "hash": ours[0]["hash"], "released_at": ours[0]["released_at"]}]
        assert not any("Draft text" in t["text"] for t in texts)
        assert set(texts[0]) == {"case", "text", "hash", "released_at"}
        other_study = access.Principal(access.EXPERT, 1, "expert 1", study_id=study.id + 99)
        assert wf.released_texts_for(session, other_study) == []
        with pytest.raises(access.AccessDenied):
            wf.released_texts_for(session, access.Principal(access.RESPONDENT, 1, "respondent 1", study_id=study.id))
        with pytest.raises(access.AccessDenied):
            wf.released_texts_for(session, None)


def test_guards_without_register(store):
    """Internal labels, respondents and organisations are masked and block a release even with an empty register."""
    with store.write("tester") as session:
        study = studies.create_study(session, "S")
        case = studies.add_case(session, study, "Unit 9", "Case Z", "Kliniek Zonnehoek")
        studies.add_respondent(session, case, "Bram Oosterhuis", "manager")
        row = wf.generate_masked(session, case, "Unit 9 of Kliniek Zonnehoek: Bram Oosterhuis and Oosterhuis.", "pasted")
        assert row.masked_text == "Case Z of the institution: [manager] and [manager]."
        wf.review_replacement(session, row.id, 1, "Kliniek Zonnehoek")
        with pytest.raises(UserError, match="leak scan"):
            wf.release(session, row.id, "tester")


def test_register_crud_and_csv_roundtrip(store):
    with store.write("tester") as session:
        study = studies.create_study(session, "S")
        row = wf.add_entry(session, study, "Hoogland", "[town]", "place", ["Hooglandt"])
        with pytest.raises(UserError, match="already"):
            wf.add_entry(session, study, "hoogland", "[x]", "place")
        wf.update_entry(session, row.id, row.version, replacement="[village]")
        csv_text = wf.export_register_csv(session, study)
        assert "Hoogland,[village],place,Hooglandt" in csv_text
        assert wf.import_register_csv(session, study, "term,replacement,kind\nHoogland,[t],place\nBaarn,[t],place\n") == {"added": 1, "updated": 1}
        wf.delete_entry(session, row.id)
        assert [e.term for e in wf.list_entries(session, study)] == ["Baarn"]


def test_cli_workflow(cli, demo_store, tmp_path):
    source = tmp_path / "r.txt"
    source.write_text("Karin Bosman said it.\n", encoding="utf-8")
    db = ("--db", demo_store.url)
    result = cli(*db, "masking", "generate", "--case", "Case F", "--file", source, "--source-ref", "reconstruction_version:3", "--format", "json")
    assert result.code == 0, result
    import json

    masked_id = json.loads(result.out)["id"]
    assert cli(*db, "masking", "scan", str(masked_id)).code == 0
    assert cli(*db, "masking", "review", str(masked_id), "--accept-all").code == 0
    released = cli(*db, "masking", "release", str(masked_id))
    assert released.code == 0 and "sha256" in released.out
    listed = json.loads(cli(*db, "masking", "list", "--format", "json").out)
    assert listed[0]["status"] == "released"
    exported = cli(*db, "masking", "register", "export")
    assert exported.out.startswith("term,replacement,kind,variants")
    assert cli(*db, "masking", "register", "add", "--term", "X", "--replacement", "y", "--kind", "animal").code == 2


# --- page -----------------------------------------------------------------------------
def _page_script():
    import time

    import streamlit as st

    from casestudy import access
    from casestudy import users
    from casestudy.ui import session as ui_session
    from casestudy.ui.pages import masking as page

    with ui_session.store().read() as db:
        user = next(u for u in users.list_users(db) if u.username == "admin")
        st.session_state[ui_session.PRINCIPAL_KEY] = access.researcher(user)
    st.session_state[ui_session.LAST_SEEN_KEY] = time.time()
    page.render()


def test_masking_page_generate_review_release(demo_store, app_env):
    from casestudy.ui.pages import masking as page

    assert page.PAGE.audience == ("researcher",)
    from streamlit.testing.v1 import AppTest

    app_env(demo_store)  # points the app at the demo store
    from sqlalchemy import delete

    from casestudy.models import MaskedText

    with demo_store.write("tester") as session:  # start without the demo panel's released case sketches
        session.execute(delete(MaskedText))
    at = AppTest.from_function(_page_script, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Masking"
    assert "Marleen Verhoef" in at.dataframe[0].value["term"].tolist()
    at.text_area(key="gen_text").input("Ans Kuipers met Dr. Verhoef <b>in</b> Hoogland; later Hendriksen came.")
    at.button(key="gen_button").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Draft" in s.value and "next tab" in s.value for s in at.success)
    # fresh state: the review tab lists the new draft in the same run, without navigating away
    assert not any("No masked texts yet" in i.value for i in at.info)
    assert len(at.selectbox(key="review_id").options) == 1
    body = at.get("html")[0].proto.body
    assert "&lt;b&gt;in&lt;/b&gt;" in body and "<b>in</b>" not in body  # escaped
    assert body.count('class="mask-rep"') == 3 and body.count('class="mask-cand"') == 1
    assert any("[Manager] met [manager] <b>in</b> [town]" in t.value for t in at.text)
    at.selectbox(key="cand_index").set_value(0)
    at.radio(key="cand_action").set_value("keep")
    [b for b in at.button if b.label == "Decide"][0].click()
    at.run()
    assert not at.exception, at.exception
    at.button(key="release_button").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Released" in s.value for s in at.success), ([e.value for e in at.error], [s.value for s in at.success], [i.value for i in at.info])


def test_masking_page_settles_linkage_findings(demo_store, app_env):
    """The review tab lists the linkage findings, refuses to release, and accepts one with a reason."""
    from sqlalchemy import delete
    from streamlit.testing.v1 import AppTest

    from casestudy.models import MaskedText

    app_env(demo_store)
    with demo_store.write("tester") as session:
        session.execute(delete(MaskedText))
        case = studies.get_case(session, studies.get_study(session), "Case B")
        row = wf.generate_masked(session, case, "The team worked as Case C did.", "pasted")
        wf.accept_all(session, row.id)
        masked_id = row.id
    at = AppTest.from_function(_page_script, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    assert any("1 linkage finding(s) must be masked or accepted" in w.value for w in at.warning)
    assert at.button(key="release_button").disabled
    at.radio(key="link_action").set_value("accept")
    at.text_input(key="link_reason").input("Case C is named in the comparison chapter anyway")
    next(b for b in at.button if b.label == "Decide").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.button(key="release_button").disabled
    with demo_store.read() as session:
        (record,) = [c for c in wf.get_masked(session, masked_id).candidates if c["reason"] == "linkage"]
        assert record["note"] == "Case C is named in the comparison chapter anyway" and record["accepted_by"] == "admin"


def test_page_refuses_non_researchers():
    with pytest.raises(access.AccessDenied):
        access.require_researcher(access.Principal(access.EXPERT, 1, "e"))


def test_stale_review_is_refused(demo_store):
    masked_id = _draft(demo_store)
    with demo_store.read() as session:
        version = wf.get_masked(session, masked_id).version
    with demo_store.write("a") as session:
        wf.review_replacement(session, masked_id, 0, None, version)
    with pytest.raises(UserError, match="someone else saved"):
        with demo_store.write("b") as session:
            wf.review_replacement(session, masked_id, 0, "[boss]", version)


def test_tampered_release_is_not_served(demo_store):
    masked_id = _draft(demo_store, "Marleen Verhoef spoke.\n", "Case A")
    with demo_store.write("tester") as session:
        row = wf.release(session, masked_id, "tester")
        row.masked_text = "Marleen Verhoef spoke.\n"
        study_id = row.study_id
    expert = access.Principal(access.EXPERT, 1, "expert 1", study_id=study_id)
    with pytest.raises(UserError, match="does not match its hash"):
        with demo_store.read() as session:
            wf.released_texts_for(session, expert)


def test_cli_register_import_errors_and_edit(cli, store, tmp_path):
    db = ("--db", store.url)
    assert cli(*db, "init", "--title", "S").code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("term,replacement,kind\nX,y,animal\n", encoding="utf-8")
    result = cli(*db, "masking", "register", "import", bad)
    assert result.code == 2 and "unknown kind" in result.err
    good = tmp_path / "good.csv"
    good.write_text("term,replacement,kind,variants\nHoogland,[town],place,Hooglandt\n", encoding="utf-8")
    assert cli(*db, "masking", "register", "import", good).code == 0
    import json

    entries = json.loads(cli(*db, "--format", "json", "masking", "register", "list").out)
    assert entries[0]["term"] == "Hoogland" and entries[0]["variants"] == "Hooglandt"
    edited = cli(*db, "masking", "register", "edit", str(entries[0]["id"]), "--option", "endings=off", "--expect-version", "1")
    assert edited.code == 0, edited
    assert cli(*db, "masking", "register", "list", "--format", "json").out.count("endings=off") == 1
    assert cli(*db, "masking", "register", "edit", str(entries[0]["id"]), "--replacement", "x", "--expect-version", "1").code == 2


def test_demo_releases_masked_agreed_reconstructions(demo_store, cli):
    from casestudy.masking import workflow as wf
    from casestudy import study as studies

    with demo_store.read() as session:
        study = studies.get_study(session)
        released = {m.case.public_label: m for m in wf.list_masked(session, study) if m.status == "released" and m.text_kind == "narrative"}
        for case in studies.list_cases(session, study):
            agreed = membercheck.agreed_version(session, case)
            if agreed is not None:
                assert released[case.public_label].source_ref == f"reconstruction_version:{agreed.id}"
                assert wf.leak_scan(session, released[case.public_label]) == []
                assert wf.open_findings(session, released[case.public_label]) == []
    result = cli("--db", demo_store.url, "masking", "generate", "--case", "Case G", "--from-agreed")
    assert result.code == 2 and "error:" in result.err  # Case G still waits for a respondent
    result = cli("--db", demo_store.url, "masking", "generate", "--case", "Case A", "--from-agreed", "--format", "json")
    assert result.code == 0, result
