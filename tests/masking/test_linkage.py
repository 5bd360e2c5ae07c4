"""Masking that protects linkage between cases, and masked text that reads as prose.

The linkage scan on English and Dutch texts (every kind of finding), the derivation of an entry's
case, the release gate (masked or accepted with a reason, stored and audited), the CLI commands,
and the prose rules (a capital at a sentence start, no doubled article, a role before its own
replacement collapses).
"""

from __future__ import annotations

import json

import pytest

from casestudy import audit
from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.masking import engine as masking
from casestudy.masking import workflow as wf
from casestudy.masking import linkage
from casestudy.masking.engine import Register, make_entry
from casestudy.masking.linkage import CaseMarks


def kinds(findings):
    return [(f.kind, f.text, f.cases) for f in findings]


# --- the scan, as a pure function -------------------------------------------------------
def test_labels_of_another_case_english():
    other = CaseMarks("Case B", "Unit 2")
    text = "We worked as Case B did.\nThe unit 2 team helped; in case b it was different, and Case Bravo is a word."
    found = linkage.linkage_scan(text, [other])
    assert kinds(found) == [("public label", "Case B", ("Case B",)), ("internal label", "unit 2", ("Case B",))]
    assert (found[0].line, found[0].column, found[1].line, found[1].column) == (1, 14, 2, 5)
    assert found[0].acceptable and not found[1].acceptable
    assert linkage.linkage_scan(text, [CaseMarks("Case C", "Unit 3")]) == []  # other cases' labels only


def test_register_term_of_another_case_with_derived_forms_dutch():
    other = CaseMarks("Casus B", "Afdeling 2", (make_entry("Stichting Westerlicht", "de instelling", "organisation", ["Westerlicht"]),))
    text = "De Westerlichtse aanpak leek op die van Stichting Westerlicht, zoals Casus B en afdeling 2 lieten zien."
    assert kinds(linkage.linkage_scan(text, [other])) == [
        ("register term", "Westerlichtse", ("Casus B",)),
        ("register term", "Stichting Westerlicht", ("Casus B",)),
        ("public label", "Casus B", ("Casus B",)),
        ("internal label", "afdeling 2", ("Casus B",)),
    ]


def test_shared_names_english_and_dutch():
    register = Register([make_entry("Marleen Verhoef", "[manager]", "person")])
    b = CaseMarks("Case B", "Unit 2", texts=("Our trainers came from Harwick College in Zwolle.",))
    c = CaseMarks("Case C", "Unit 3", texts=("Harwick trained us too.",))
    text = "The team was trained by Harwick. Zwolle was far away, and the college was new."
    found = linkage.linkage_scan(text, [b, c], register, "en")
    # Harwick is a candidate name here and in B; Zwolle only starts a sentence here but is a
    # candidate in B; College is written lower case here, so it is no name.
    assert kinds(found) == [("shared name", "Harwick", ("Case B", "Case C")), ("shared name", "Zwolle", ("Case B",))]
    assert found[0].line == 1 and found[0].column == 25
    dutch = CaseMarks("Casus B", "Afdeling 2", texts=("Het team werkte samen met Hogeschool Deventer.",))
    found = linkage.linkage_scan("Wij volgden de training in Deventer, net als anderen.", [dutch], register, "nl")
    assert kinds(found) == [("shared name", "Deventer", ("Casus B",))]
    assert linkage.linkage_scan("Wij volgden de training in Arnhem.", [dutch], register, "nl") == []


def test_one_finding_per_span():
    other = CaseMarks("Case B", "Unit 2", (make_entry("Unit 2", "Case B", "unit"),), ("Unit 2 did it.",))
    found = linkage.linkage_scan("Then Unit 2 did it.", [other], Register([]), "en")
    assert kinds(found) == [("internal label", "Unit 2", ("Case B",))]


# --- the study workflow ---------------------------------------------------------------
@pytest.fixture
def linked(store):
    """Three cases; B's texts name Harwick; the register has a place inside B's organisation name."""
    with store.write("tester") as session:
        study = studies.create_study(session, "Linked")
        cases = {
            "Case A": studies.add_case(session, study, "Unit 1", "Case A", "Kliniek Zonnehoek"),
            "Case B": studies.add_case(session, study, "Unit 2", "Case B", "Stichting Westerlicht"),
            "Case C": studies.add_case(session, study, "Unit 3", "Case C", "Huize Vredenoord"),
        }
        studies.add_respondent(session, cases["Case A"], "Bram Oosterhuis", "manager")
        studies.add_respondent(session, cases["Case B"], "Noor Kalkman", "therapist")
        wf.add_entry(session, study, "Westerlicht", "[town]", "place")
        wf.add_entry(session, study, "Nina Brons", "[trainer]", "person")
        b = wf.generate_masked(session, cases["Case B"], "Our trainers came from Harwick.", "pasted")
        assert wf.linkage_scan(session, b) == []
    return store


def _generate(store, label, text):
    with store.write("tester") as session:
        case = studies.get_case(session, studies.get_study(session), label)
        row = wf.generate_masked(session, case, text, "pasted")
        wf.accept_all(session, row.id)
        for index, candidate in enumerate(row.candidates):
            wf.decide_candidate(session, row.id, index, "keep")
        return row.id


def test_entry_cases_are_derived_from_the_study(linked):
    with linked.read() as session:
        study = studies.get_study(session)
        ids = {c.public_label: c.id for c in studies.list_cases(session, study)}
        owners = {entry.term: cases for entry, cases in wf.entry_cases(session, study)}
    assert owners["Westerlicht"] == (ids["Case B"],)  # a place inside the organisation's name
    assert owners["Noor Kalkman"] == (ids["Case B"],) and owners["Unit 2"] == (ids["Case B"],)
    assert owners["Nina Brons"] == ()  # study-wide


def test_release_refused_until_accepted_with_reason_or_masked(linked):
    masked_id = _generate(linked, "Case A", "Unit 1 worked like Case C. The Harwick trainers came.")
    with linked.read() as session:
        row = wf.get_masked(session, masked_id)
        assert row.masked_text == "Case A worked like Case C. The Harwick trainers came."  # own label is fine
        assert kinds(wf.linkage_scan(session, row)) == [
            ("public label", "Case C", ("Case C",)), ("shared name", "Harwick", ("Case B",))
        ]
    with pytest.raises(UserError, match="2 linkage finding"), linked.write("tester") as session:
        wf.release(session, masked_id, "tester")
    with pytest.raises(UserError, match="reason"), linked.write("tester") as session:
        wf.accept_finding(session, masked_id, "public label", "Case C", "  ", "ann")
    with linked.write("ann") as session:
        wf.accept_finding(session, masked_id, "public label", "case c", "the cases are compared openly in the report", "ann")
        wf.mask_finding(session, masked_id, "shared name", "Harwick", "[training college]")
    with pytest.raises(UserError, match="is an accepted linkage finding"), linked.write("tester") as session:
        candidates = wf.get_masked(session, masked_id).candidates
        index = next(i for i, c in enumerate(candidates) if c["reason"] == "linkage")
        wf.decide_candidate(session, masked_id, index, "mask", "[x]")
    with linked.write("tester") as session:
        row = wf.release(session, masked_id, "tester")
        assert row.masked_text == "Case A worked like Case C. The [training college] trainers came."
        (record,) = [c for c in row.candidates if c["reason"] == "linkage"]
        assert record["status"] == "accepted" and record["note"] == "the cases are compared openly in the report"
        assert record["accepted_by"] == "ann" and record["accepted_at"] and record["cases"] == ["Case C"]
        assert record["where"] == ["line 1, column 20"]
        events = audit.events(session, "masked_text", masked_id)
        accepted = [e for e in events if e.action == "accept linkage finding"]
        assert len(accepted) == 1 and accepted[0].actor == "ann"
        assert accepted[0].detail["reason"] == "the cases are compared openly in the report"
        assert accepted[0].detail["kind"] == "public label"


def test_internal_labels_and_register_terms_can_only_be_masked(linked):
    masked_id = _generate(linked, "Case A", "We copied Unit 2 and the Westerlicht approach.")
    with linked.write("tester") as session:
        row = wf.get_masked(session, masked_id)
        assert row.masked_text == "We copied Case B and the [town] approach."
        assert kinds(wf.linkage_scan(session, row)) == [("public label", "Case B", ("Case B",))]
        labels = [i for i, r in enumerate(row.replacements) if r["text"] == "Unit 2"]
        towns = [i for i, r in enumerate(row.replacements) if r["text"] == "Westerlicht"]
        wf.review_replacement(session, masked_id, labels[0], "Unit 2 too")  # edits that re-expose both
        wf.review_replacement(session, masked_id, towns[0], "Westerlicht")
        row = wf.get_masked(session, masked_id)
        assert kinds(wf.linkage_scan(session, row)) == [
            ("internal label", "Unit 2", ("Case B",)), ("register term", "Westerlicht", ("Case B",))
        ]
        for kind, term in (("internal label", "Unit 2"), ("register term", "Westerlicht")):
            with pytest.raises(UserError, match="can only be masked"):
                wf.accept_finding(session, masked_id, kind, term, "a reason", "tester")
        with pytest.raises(UserError, match="no shared name finding"):
            wf.mask_finding(session, masked_id, "shared name", "Unit 2", "[x]")
        with pytest.raises(UserError, match="unknown kind"):
            wf.mask_finding(session, masked_id, "label", "Unit 2", "[x]")
        with pytest.raises(UserError, match="replacement text"):
            wf.mask_finding(session, masked_id, "internal label", "Unit 2", " ")
        with pytest.raises(UserError, match="still contains"):
            wf.mask_finding(session, masked_id, "internal label", "Unit 2", "Unit 2")
        # An occurrence inside a replacement edits that replacement.
        wf.mask_finding(session, masked_id, "internal label", "Unit 2", "[another unit]")
        wf.mask_finding(session, masked_id, "register term", "Westerlicht", "[town]")
        row = wf.get_masked(session, masked_id)
        assert row.masked_text == "We copied [another unit] too and the [town] approach."
        assert wf.linkage_scan(session, row) == [] and wf.leak_scan(session, row) == []
        assert wf.release(session, masked_id, "tester").status == "released"


def test_shared_name_resolved_on_either_side(linked):
    """Masking the name in one case's text ends the finding in the other's as well."""
    a_id = _generate(linked, "Case A", "We hired the Harwick trainers.")
    with linked.write("tester") as session:
        b = next(r for r in wf.list_masked(session, studies.get_study(session)) if r.case.public_label == "Case B")
        assert kinds(wf.linkage_scan(session, b)) == [("shared name", "Harwick", ("Case A",))]
        wf.mask_finding(session, a_id, "shared name", "Harwick", "[a training firm]")
        assert wf.linkage_scan(session, b) == []


# --- the CLI --------------------------------------------------------------------------
def test_cli_linkage_accept_mask_release(cli, linked):
    masked_id = str(_generate(linked, "Case A", "Like Case C, we hired the Harwick trainers."))
    db = ("--db", linked.url)
    result = cli(*db, "masking", "linkage", masked_id, "--format", "json")
    assert result.code == 1, result
    records = json.loads(result.out)
    assert [(r["kind"], r["term"], r["cases"], r["status"], r["line"]) for r in records] == [
        ("public label", "Case C", "Case C", "open", 1), ("shared name", "Harwick", "Case B", "open", 1)
    ]
    scan = cli(*db, "masking", "scan", masked_id)
    assert scan.code == 1 and f"masked:{masked_id}:1:6: Case C (public label 'Case C' of Case C)" in scan.out
    refused = cli(*db, "masking", "release", masked_id)
    assert refused.code == 2 and refused.err.startswith("error: release refused") and "linkage" in refused.err
    for bad in (
        ("accept-finding", masked_id, "--kind", "label", "--term", "Case C", "--reason", "r"),  # not a kind
        ("accept-finding", masked_id, "--kind", "public label", "--term", "Case C"),  # no reason
        ("accept-finding", masked_id, "--kind", "public label", "--term", "Case C", "--reason", " "),
        ("accept-finding", masked_id, "--kind", "public label", "--term", "Case Q", "--reason", "r"),
        ("accept-finding", "999", "--kind", "public label", "--term", "Case C", "--reason", "r"),
        ("mask-finding", masked_id, "--kind", "shared name", "--term", "Harwick", "--text", ""),
    ):
        result = cli(*db, "masking", *bad)
        assert result.code == 2 and "error:" in result.err and "Traceback" not in result.err, (bad, result)
    accepted = cli(*db, "masking", "accept-finding", masked_id, "--kind", "public label", "--term", "Case C",
                   "--reason", "named in the comparison anyway", "--actor", "ann")
    assert accepted.code == 0, accepted
    assert cli(*db, "masking", "mask-finding", masked_id, "--kind", "shared name", "--term", "Harwick", "--text", "[a firm]").code == 0
    result = cli(*db, "masking", "linkage", masked_id, "--format", "json")
    assert result.code == 0, result
    (record,) = json.loads(result.out)
    assert (record["status"], record["reason"], record["accepted_by"]) == ("accepted", "named in the comparison anyway", "ann")
    shown = cli(*db, "masking", "show", masked_id)
    assert "accepted public label 'Case C' of Case C by ann" in shown.err
    assert cli(*db, "masking", "release", masked_id).code == 0


# --- prose ------------------------------------------------------------------------------
def prose(text, *entries):
    return masking.mask_text(text, [make_entry(*e) for e in entries], candidates=False).masked


def test_capital_at_a_sentence_start_english_and_dutch():
    manager = ("Marleen Verhoef", "[the manager]", "person")
    assert prose("Verhoef said so. Then Verhoef left! Verhoef? yes", manager) == (
        "[The manager] said so. Then [the manager] left! [The manager]? yes"
    )
    assert prose("Intro:\n\nVerhoef said so, e.g. Verhoef and\nVerhoef.", manager) == (
        "Intro:\n\n[The manager] said so, e.g. [the manager] and\n[the manager]."
    )
    assert prose('He paused. "Verhoef said it."', manager) == 'He paused. "[The manager] said it."'
    assert prose("Lindenhof grew. We left Lindenhof.", ("Lindenhof", "the institution", "organisation")) == (
        "The institution grew. We left the institution."
    )
    dutch = ("Marleen Verhoef", "[de manager]", "person")
    assert prose("Verhoef zei het. Daarna kwam Verhoef, bijv. Verhoef.", dutch) == (
        "[De manager] zei het. Daarna kwam [de manager], bijv. [de manager]."
    )
    assert prose("- Verhoef\n- 2. Verhoef", ("Marleen Verhoef", "[manager]", "person")) == "- [Manager]\n- 2. [Manager]"


def test_no_doubled_article_english_and_dutch():
    org = ("Lindenhof", "the institution", "organisation")
    assert prose("We joined the Lindenhof team. The Lindenhof grew.", org) == "We joined the institution team. The institution grew."
    assert prose("the Lindenhof", ("Lindenhof", "[the institution]", "organisation")) == "the [institution]"
    assert prose("a Harwick course", ("Harwick", "a college", "organisation")) == "a college course"
    assert prose("Zij werkt bij de Lindenhof.", ("Lindenhof", "de instelling", "organisation")) == "Zij werkt bij de instelling."
    assert prose("Zij werkt bij het Baken.", ("Baken", "het centrum", "organisation")) == "Zij werkt bij het centrum."
    assert prose("Er is een Zorgpunt in de stad.", ("Zorgpunt", "een zorginstelling", "organisation")) == (
        "Er is een zorginstelling in de stad."
    )
    # Different articles are the researcher's choice: only a doubled one is dropped.
    assert prose("Zij werkt bij de Lindenhof.", ("Lindenhof", "het centrum", "organisation")) == "Zij werkt bij de het centrum."


def test_role_before_its_own_replacement_collapses():
    assert prose("The psychiatrist Jansen said so.", ("Piet Jansen", "[psychiatrist]", "person")) == "The [psychiatrist] said so."
    assert prose("psychiatrist Dr. Jansen agreed", ("Piet Jansen", "[psychiatrist]", "person")) == "[Psychiatrist] agreed"
    assert prose("the principal therapist Femke van der Laan left", ("Femke van der Laan", "[principal therapist]", "person")) == (
        "the [principal therapist] left"
    )
    assert prose("our therapist Van der Laan", ("Femke van der Laan", "[principal therapist]", "person")) == "our [principal therapist]"
    assert prose("the manager Verhoef", ("Marleen Verhoef", "[the manager]", "person")) == "the [manager]"
    assert prose("De psychiater Jansen zei dat.", ("Piet Jansen", "[psychiater]", "person")) == "De [psychiater] zei dat."
    assert prose("nurse Jansen came", ("Piet Jansen", "[psychiatrist]", "person")) == "nurse [psychiatrist] came"


def test_stored_replacements_keep_what_the_researcher_wrote(store):
    with store.write("tester") as session:
        study = studies.create_study(session, "P")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        wf.add_entry(session, study, "Piet Jansen", "[psychiatrist]", "person")
        row = wf.generate_masked(session, case, "psychiatrist Jansen spoke. Later Jansen left.", "pasted")
        assert row.masked_text == "[Psychiatrist] spoke. Later [psychiatrist] left."
        assert [r["replacement"] for r in row.replacements] == ["[psychiatrist]", "[psychiatrist]"]
        assert [r["text"] for r in row.replacements] == ["Jansen", "Jansen"]
