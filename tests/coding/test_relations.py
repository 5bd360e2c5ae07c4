"""Code relations per case: validation, listing with evidence links, merge of codes, the network
picture, the CLI, and the REFI-QDA round trip as Links (validated against the XSD)."""

from __future__ import annotations

import io
import json

import pytest

from casestudy import study as studies
from casestudy.codebook import tree as codebook
from casestudy.coding import blinding, network, relations, spans
from casestudy.errors import UserError
from casestudy.exchange import export as exchange_export
from casestudy.exchange import importer
from casestudy.models import CodeRelation

from tests.coding.test_coding import ADMIN, _apply, setup  # noqa: F401  (fixture)
from tests.exchange.test_refi_qda import check_xsd


@pytest.fixture
def related(store, setup):  # noqa: F811
    """A second case with an interview; in Case A, Board support reinforces Leadership with evidence."""
    board = _apply(store, setup, "manager", "coder1", "Support/Board support", "The board supported us")[0]
    leader = _apply(store, setup, "manager", "coder1", "Leadership", "Leadership was strong")[0]
    with store.write("coder1") as session:
        study = studies.get_study(session)
        case_b = studies.add_case(session, study, "Unit 2", "Case B")
        studies.add_respondent(session, case_b, "Cy", "manager")
        from casestudy.interviews import store as interviews_store

        (other,) = interviews_store.import_interviews(session, study, [interviews_store.ImportItem("b.txt", b"Cy: budget talk.\n", "Case B", "Cy")])
        relation = relations.add_relation(
            session, study, studies.get_case(session, study, "Case A"), codebook.get_code(session, study, "Support/Board support"),
            codebook.get_code(session, study, "Leadership"), "reinforces", by=spans.get_coder(session, "coder1"),
            note="the board backed the leads", evidence_ids=[board, leader])
    return {**setup, "board": board, "leader": leader, "relation": relation.id, "other_interview": other.id}


def _add(store, kind="weakens", source="Support/Budget", target="Leadership", case="Case A", evidence=(), by="coder1"):
    with store.write(by) as session:
        study = studies.get_study(session)
        return relations.add_relation(session, study, studies.get_case(session, study, case), codebook.get_code(session, study, source),
                                      codebook.get_code(session, study, target), kind, by=spans.get_coder(session, by),
                                      evidence_ids=list(evidence)).id


def test_relations_are_listed_with_their_evidence_and_its_place(store, related):
    with store.read() as session:
        (row,) = relations.relations(session, studies.get_study(session), principal=ADMIN)
    assert (row["source"], row["kind"], row["target"], row["case"], row["directed"]) == (
        "Support/Board support", "reinforces", "Leadership", "Case A", True)
    assert row["note"] == "the board backed the leads" and [e["id"] for e in row["evidence"]] == [related["board"], related["leader"]]
    assert row["evidence"][0]["text"] == "The board supported us"
    assert row["evidence"][0]["link"].startswith(f"coding?interview={related['manager']}&at=")


@pytest.mark.parametrize(("arguments", "message"), [
    ({"kind": "inspires"}, "unknown relation type"),
    ({"source": "Leadership"}, "two different codes"),
    ({"kind": "reinforces", "source": "Support/Board support"}, "already has this relation"),
    ({"source": "Support"}, None),  # a category may be related (it is a code of the study)
])
def test_relations_are_validated(store, related, arguments, message):
    if message is None:
        assert _add(store, **arguments)
        return
    with pytest.raises(UserError, match=message):
        _add(store, **arguments)


def test_evidence_must_come_from_the_case_and_be_visible(store, related):
    with pytest.raises(UserError, match="not in an interview of Case B"):
        _add(store, case="Case B", evidence=[related["board"]])
    with pytest.raises(UserError, match="no coding 999"):
        _add(store, evidence=[999])
    with store.write("admin") as session:
        blinding.set_blind_coding(session, studies.get_study(session), ADMIN, True)
    with pytest.raises(UserError, match="cite only your own codings"):
        _add(store, evidence=[related["board"]], by="coder2")


def test_co_occurs_is_one_relation_either_way(store, related):
    _add(store, kind="co-occurs", source="Leadership", target="Support/Budget")
    with pytest.raises(UserError, match="already has this relation"):
        _add(store, kind="co-occurs", source="Support/Budget", target="Leadership")


def test_merging_codes_moves_relations_and_drops_self_links(store, related):
    _add(store, kind="causes", source="Support/Budget", target="Support/Board support")
    with store.write("admin") as session:
        study = studies.get_study(session)
        result = codebook.merge_codes(session, codebook.get_code(session, study, "Support/Budget"), codebook.get_code(session, study, "Support/Board support"))
        assert result["moved"]["relations"] == 1
    with store.read() as session:
        rows = relations.relations(session, studies.get_study(session), principal=ADMIN)
    assert [(r["source"], r["kind"], r["target"]) for r in rows] == [("Support/Board support", "reinforces", "Leadership")]


def test_update_and_remove(store, related):
    with store.write("coder1") as session:
        study = studies.get_study(session)
        updated = relations.update_relation(session, study, related["relation"], 1, by=spans.get_coder(session, "coder1"),
                                            kind="causes", evidence_ids=[related["leader"]])
        assert updated.version == 2 and [c.id for c in updated.evidence] == [related["leader"]]
    with store.write("coder1") as session, pytest.raises(UserError, match="someone else saved"):
        relations.update_relation(session, studies.get_study(session), related["relation"], 1, by=spans.get_coder(session, "coder1"), note="x")
    with store.write("coder1") as session:
        relations.remove_relation(session, studies.get_study(session), related["relation"], by=spans.get_coder(session, "coder1"))
    with store.read() as session:
        assert session.get(CodeRelation, related["relation"]) is None


def test_the_network_picture_labels_every_edge_by_type(store, related):
    _add(store, kind="weakens")
    with store.read() as session:
        rows = relations.relations(session, studies.get_study(session), studies.get_case(session, studies.get_study(session), "Case A"), principal=ADMIN)
    figure = network.relation_figure(rows, "Case A")
    labels = [a.text for a in figure.layout.annotations if a.text]
    assert labels == ["reinforces<br><sup>2 coding(s)</sup>", "weakens<br><sup>no evidence yet</sup>"]
    lines = [t for t in figure.data if t.mode == "lines"]
    assert {(t.name, t.line.dash) for t in lines} == {("reinforces", "solid"), ("weakens", "dash")}
    arrows = [a for a in figure.layout.annotations if a.showarrow]
    assert len(arrows) == 2  # both types are directed
    nodes = next(t for t in figure.data if t.mode == "markers+text")
    assert sorted(nodes.text) == ["Board support", "Budget", "Leadership"]
    assert sorted(nodes.hovertext) == ["Leadership", "Support/Board support", "Support/Budget"]


def test_cli_relations(cli, store, related):
    db = store.url
    added = cli("--db", db, "coding", "relations", "add", "Support/Budget", "weakens", "Leadership", "--case", "Case A",
                "--coder", "coder1", "--note", "tight budget", "--evidence", str(related["leader"]))
    assert added.code == 0 and "weakens" in added.out and "1 evidence coding(s)" in added.out
    listed = json.loads(cli("--db", db, "coding", "relations", "list", "--case", "Case A", "--format", "json").out)
    assert [(r["source"], r["kind"]) for r in listed] == [("Support/Board support", "reinforces"), ("Support/Budget", "weakens")]
    bad = cli("--db", db, "coding", "relations", "add", "Leadership", "weakens", "Leadership", "--case", "Case A", "--coder", "coder1")
    assert bad.code == 2 and "two different codes" in bad.err
    assert cli("--db", db, "coding", "relations", "remove", str(listed[1]["id"]), "--coder", "coder1").code == 0
    assert len(json.loads(cli("--db", db, "coding", "relations", "list", "--format", "json").out)) == 1


def test_relations_go_to_refi_qda_as_links_and_come_back(store, related):
    _add(store, kind="co-occurs", source="Support/Budget", target="Leadership")
    buffer = io.BytesIO()
    with store.write("test") as session:
        report = exchange_export.export_qdpx(session, studies.get_study(session), buffer, ADMIN)
    assert report["relations"] == 2
    root = check_xsd(buffer.getvalue())
    ns = {"q": root.nsmap[None]}
    links = {link.get("name"): link for link in root.iterfind("q:Links/q:Link", ns)}
    reinforces = links["reinforces"]
    assert reinforces.get("direction") == "OneWay" and reinforces.get("color") == network.RELATION_STYLE["reinforces"][0]
    assert links["co-occurs"].get("direction") == "Bidirectional"
    assert len([link for link in root.iterfind("q:Links/q:Link", ns) if link.get("name") == "evidence"]) == 2
    with store.write("test") as session:
        imported = importer.import_qdpx(session, buffer.getvalue(), title="Round trip")
        assert imported["relations"] == 2
        study = studies.get_study(session, "Round trip")
        rows = relations.relations(session, study, principal=ADMIN)
    assert [(r["case"], r["source"], r["kind"], r["target"], r["note"]) for r in rows] == [
        ("Case A", "Leadership", "co-occurs", "Support/Budget", ""),  # undirected: shown in code-path order
        ("Case A", "Support/Board support", "reinforces", "Leadership", "the board backed the leads"),
    ]
    reinforced = next(r for r in rows if r["kind"] == "reinforces")
    assert sorted(e["text"] for e in reinforced["evidence"]) == ["Leadership was strong", "The board supported us"]
    with store.read() as session:
        # the relation's note came back as the relation's note, not as a memo
        assert not [m for m in spans.memos(session, studies.get_study(session, "Round trip")) if "board backed" in m["text"]]
