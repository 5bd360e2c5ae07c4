"""The codebook library: tree operations, reference registries (coding safety), search, as-of, default codebook."""

from __future__ import annotations

import re
import sys
import types
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, func, select, update

from casestudy.codebook import exchange
from casestudy.codebook import tree as cb
from casestudy import seams
from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.models import AuditEvent, Code, utcnow

SEED = Path("/work/shared/seed/000_6535852686119ce3.txt")
SHIPPED = exchange.SHIPPED_DIR / "mbt-implementation.yaml"


@pytest.fixture
def study_store(store):
    with store.write("tester") as session:
        studies.create_study(session, "Codebook test")
    return store


def _study(session):
    return studies.get_study(session)


def _add(session, name, level="organization", parent=None, **kw):
    return cb.add_code(session, _study(session), name, level, parent, **kw)


def test_add_rejects_duplicates_unknown_levels_and_bad_colours(study_store):
    with study_store.write("tester") as session:
        org = _add(session, "Support", definition="Backing by the board.", colour="#abc")
        assert org.colour == "#AABBCC" and org.origin == "emergent" and org.origin_by == "tester"
        _add(session, "Leadership", "team", org)
        _add(session, "Leadership", "team")  # same name under another parent is fine
        with pytest.raises(UserError, match="already exists under 'Support'"):
            _add(session, "leadership", "team", org)
        with pytest.raises(UserError, match="already exists at the top"):
            _add(session, "SUPPORT")
        with pytest.raises(UserError, match="unknown level 'system'"):
            _add(session, "Policy", "system")
        with pytest.raises(UserError, match="unknown secondary level 'board'"):
            _add(session, "Policy", secondary_levels=["board"])
        with pytest.raises(UserError, match="invalid colour 'red'"):
            _add(session, "Policy", colour="red")
        with pytest.raises(UserError, match="unknown polarity"):
            _add(session, "Policy", polarity="good")
        with pytest.raises(UserError, match="needs a name"):
            _add(session, "   ")


def test_study_with_context_level_accepts_it(store):
    with store.write() as session:
        study = studies.create_study(session, "Four levels", levels=["organization", "team", "therapist", "context"])
        code = cb.add_code(session, study, "Insurers", "Context", secondary_levels=["organization", "context"])
        assert (code.level, code.secondary_levels) == ("context", ["organization"])


def test_edit_rename_and_stale_version(study_store):
    with study_store.write() as session:
        code = _add(session, "Budget")
        _add(session, "Money")
        version = code.version
        cb.rename_code(session, code, "Financial support", expected_version=version)
        with pytest.raises(UserError, match="someone else saved"):
            cb.edit_code(session, code, version, definition="x")
        with pytest.raises(UserError, match="already exists"):
            cb.rename_code(session, code, "money")
        with pytest.raises(UserError, match="cannot edit code field"):
            cb.edit_code(session, code, status="retired")
        cb.edit_code(session, code, level="team", secondary_levels=["organization", "team"], colour="", polarity="barrier")
        assert (code.level, code.secondary_levels, code.colour, code.polarity) == ("team", ["organization"], None, "barrier")
    with study_store.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "code", AuditEvent.entity_id == code.id)).all()
        assert [e.action for e in events][0] == "create" and any("name" in e.detail for e in events if e.action == "update")


def test_move_refuses_cycles(study_store):
    with study_store.write() as session:
        a = _add(session, "A")
        b = _add(session, "B", parent=a)
        c = _add(session, "C", parent=b)
        with pytest.raises(UserError, match="cycle"):
            cb.move_code(session, a, c)
        with pytest.raises(UserError, match="cycle"):
            cb.move_code(session, a, a)
        cb.move_code(session, c, None)
        assert c.parent_id is None and cb.code_path(session, c) == "C"
        cb.move_code(session, b, c)
        assert cb.code_path(session, b) == "C/B"
        _add(session, "B")
        with pytest.raises(UserError, match="already exists at the top"):
            cb.move_code(session, b, None)


def test_paths_escape_the_separator(study_store):
    with study_store.write() as session:
        top = _add(session, "Organization/team")
        child = _add(session, "Roles", parent=top)
        assert cb.code_path(session, child) == "Organization\\/team/Roles"
        assert cb.split_path("Organization\\/team/Roles") == ["Organization/team", "Roles"]
        assert cb.get_code(session, _study(session), "organization\\/TEAM/roles").id == child.id
        assert cb.get_code(session, _study(session), child.guid.upper()).id == child.id
        with pytest.raises(UserError, match="no code"):
            cb.get_code(session, _study(session), "Nope")
        with pytest.raises(UserError, match="a part is empty"):
            cb.split_path("a//b")


# --- a test-only reference kind, standing in for the codings of a later stage ------------------
@pytest.fixture
def refs(study_store, monkeypatch):
    """A real table of (code_id, span) rows with a registered mover, lister and counter."""
    meta = MetaData()
    table = Table("test_coding", meta, Column("id", Integer, primary_key=True), Column("code_id", Integer), Column("span", String(20)))
    meta.create_all(study_store.engine)
    fail = {"on": False}

    def mover(session, source_id, target_id, ids):
        if fail["on"]:
            raise UserError("mover refused")
        if ids is None:
            target_spans = set(session.scalars(select(table.c.span).where(table.c.code_id == target_id)))
            session.execute(delete(table).where(table.c.code_id == source_id, table.c.span.in_(target_spans)))  # duplicates collapse
            return session.execute(update(table).where(table.c.code_id == source_id).values(code_id=target_id)).rowcount
        return session.execute(update(table).where(table.c.code_id == source_id, table.c.id.in_(ids)).values(code_id=target_id)).rowcount

    def lister(session, code_id):
        return [(r.id, r.span) for r in session.execute(select(table).where(table.c.code_id == code_id))]

    def counter(session, study_id):
        return dict(session.execute(select(table.c.code_id, func.count()).group_by(table.c.code_id)).all())

    holder = types.ModuleType("test_code_holder")
    holder.CODE_REFERENCES = seams.CodeReferences("test codings", mover, lister, counter)
    sys.modules[holder.__name__] = holder
    monkeypatch.setattr(seams, "CODE_REFERENCE_HOLDERS", (*seams.CODE_REFERENCE_HOLDERS, holder.__name__))
    yield table, fail
    del sys.modules[holder.__name__]


def _spans(store, table):
    with store.read() as session:
        return sorted((r.code_id, r.span) for r in session.execute(select(table)))


def test_merge_moves_references_and_collapses_duplicates(study_store, refs):
    table, _ = refs
    with study_store.write() as session:
        parent = _add(session, "Support", codable=False)
        source = _add(session, "Backing", parent=parent)
        target = _add(session, "Commitment", parent=parent)
        sub = _add(session, "Board backing", parent=source)
        session.execute(table.insert(), [{"code_id": source.id, "span": "1-10"}, {"code_id": source.id, "span": "20-30"}, {"code_id": target.id, "span": "1-10"}])
        counts = {n.name: (n.count, n.total) for n in cb.flatten(cb.tree(session, _study(session)))}
        assert counts == {"Support": (0, 3), "Backing": (2, 2), "Board backing": (0, 0), "Commitment": (1, 1)}
        ids = (source.id, target.id, sub.id)
    with study_store.write() as session:
        source, target, sub = (session.get(Code, i) for i in ids)
        result = cb.merge_codes(session, source, target)
        assert result["moved"]["test codings"] == 1  # other stages' movers may report too
        assert (source.status, source.merged_into_id, sub.parent_id) == ("merged", target.id, target.id)
    assert _spans(study_store, table) == [(ids[1], "1-10"), (ids[1], "20-30")]
    with study_store.read() as session:
        assert [n.name for n in cb.flatten(cb.tree(session, _study(session)))] == ["Support", "Commitment", "Board backing"]
        merged = [n for n in cb.flatten(cb.tree(session, _study(session), include_inactive=True)) if n.status == "merged"]
        assert merged[0].merged_into == "Support/Commitment"
        event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "code", AuditEvent.action == "merge")).one()
        assert (event.entity_id, event.detail["moved"]["test codings"]) == (ids[0], 1)
        with pytest.raises(UserError, match="it is merged"):
            cb.merge_codes(session, session.get(Code, ids[0]), session.get(Code, ids[1]))


def test_merge_is_all_or_nothing_when_a_mover_fails(study_store, refs):
    table, fail = refs
    with study_store.write() as session:
        a, b = _add(session, "A"), _add(session, "B")
        session.execute(table.insert(), [{"code_id": a.id, "span": "1-2"}])
        ids = a.id, b.id
    fail["on"] = True
    with pytest.raises(UserError, match="mover refused"):
        with study_store.write() as session:
            cb.merge_codes(session, session.get(Code, ids[0]), session.get(Code, ids[1]))
    with study_store.read() as session:
        assert session.get(Code, ids[0]).status == "active"
    assert _spans(study_store, table) == [(ids[0], "1-2")]


def test_merge_refusals(study_store):
    with study_store.write() as session:
        a = _add(session, "A")
        b = _add(session, "B", parent=a)
        with pytest.raises(UserError, match="into itself"):
            cb.merge_codes(session, a, a)
        with pytest.raises(UserError, match="own sub-code"):
            cb.merge_codes(session, a, b)


def test_split_moves_only_the_chosen_references(study_store, refs):
    table, _ = refs
    with study_store.write() as session:
        code = _add(session, "Support", polarity="both", colour="#112233")
        session.execute(table.insert(), [{"code_id": code.id, "span": s} for s in ("1-2", "3-4", "5-6")])
        listed = cb.references_of(session, code)["test codings"]
        assert [label for _, label in listed] == ["1-2", "3-4", "5-6"]
        new = cb.split_code(session, code, "Support from the board", {"test codings": [listed[1][0]]}, definition="Board only.")
        assert (new.parent_id, new.level, new.polarity, new.colour, new.definition) == (None, "organization", "both", "#112233", "Board only.")
        with pytest.raises(UserError, match="unknown reference kind"):
            cb.split_code(session, code, "Other", {"quotes": [1]})
        ids = code.id, new.id
    assert _spans(study_store, table) == sorted([(ids[0], "1-2"), (ids[1], "3-4"), (ids[0], "5-6")])


def test_retire_and_reactivate(study_store):
    with study_store.write() as session:
        code = _add(session, "Old idea")
        cb.retire_code(session, code)
        assert cb.tree(session, _study(session)) == []
        assert cb.tree(session, _study(session), include_inactive=True)[0].status == "retired"
        with pytest.raises(UserError, match="it is retired"):
            cb.retire_code(session, code)
        cb.reactivate_code(session, code)
        assert code.status == "active"


def test_search_by_name_and_definition(study_store):
    with study_store.write() as session:
        _add(session, "Budget", definition="Money for training hours.")
        _add(session, "Leadership", "team", when_to_use="Talk about the team leader's budget authority.")
        retired = _add(session, "Money (old)")
        cb.retire_code(session, retired)
        hits = cb.search(session, _study(session), "BUDGET")
        assert [(h["name"], h["matched"]) for h in hits] == [("Budget", ["name"]), ("Leadership", ["when_to_use"])]
        assert [h["name"] for h in cb.search(session, _study(session), "money", include_inactive=True)] == ["Budget", "Money (old)"]
        with pytest.raises(UserError, match="give a word"):
            cb.search(session, _study(session), " ")


def test_as_of_rebuilds_earlier_states(study_store):
    before = utcnow()
    time.sleep(0.01)
    with study_store.write() as session:
        a = _add(session, "Support")
        b = _add(session, "Budget")
    time.sleep(0.01)
    first = utcnow()
    time.sleep(0.01)
    with study_store.write() as session:
        a, b = session.get(Code, a.id), session.get(Code, b.id)
        cb.rename_code(session, a, "Organisational support")
        cb.move_code(session, b, a)
        cb.retire_code(session, session.get(Code, _add(session, "Later").id))
    with study_store.read() as session:
        study = _study(session)
        assert cb.as_of(session, study, before) == []
        assert [n.path for n in cb.flatten(cb.as_of(session, study, first))] == ["Support", "Budget"]
        now = cb.flatten(cb.as_of(session, study, utcnow()))
        assert [n.path for n in now] == ["Organisational support", "Organisational support/Budget"]
        assert "Later" in [n.name for n in cb.flatten(cb.as_of(session, study, utcnow(), include_inactive=True))]
        assert [r.action for r in cb.history(session, session.get(Code, a.id))] == ["create", "update"]
    assert cb.parse_when("2026-01-31").date().isoformat() == "2026-01-31"
    with pytest.raises(UserError, match="invalid date"):
        cb.parse_when("31/01/2026")


def test_tree_by_level(study_store):
    with study_store.write() as session:
        org = _add(session, "Org", codable=False)
        _add(session, "Team thing", "team", org)
        grouped = cb.tree_by_level(session, _study(session))
        assert {k: [n.name for n in v] for k, v in grouped.items()} == {"organization": ["Org"], "team": ["Team thing"], "therapist": []}


# --- the shipped default codebook ------------------------------------------------------------
def _walk(nodes, prefix=()):
    for node in nodes:
        yield prefix, node
        yield from _walk(node.get("children", []), prefix + (node["name"],))


def test_default_codebook_is_complete_and_coherent():
    document = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    nodes = [node for _, node in _walk(document["codes"])]
    names = [n["name"].lower() for n in nodes]
    assert len(names) == len(set(names)), "no duplicate codes anywhere in the default tree"
    criteria = set()
    for node in nodes:
        assert node.get("sources"), node["name"]
        for match in re.finditer(r"adherence criteri(?:on|a) ([0-9][0-9 ,and\-]*)", node["sources"]):
            for part in re.split(r",|and", match.group(1)):
                bounds = [int(x) for x in part.strip().split("-") if x.strip()]
                criteria.update(range(bounds[0], bounds[-1] + 1) if bounds else [])
        if node.get("codable", True):
            for field in ("short_definition", "definition", "when_to_use", "when_not_to_use", "example"):
                assert node.get(field), (node["name"], field)
            assert re.search(r"adherence criteri|Table 1|expert", node["sources"]), node["name"]
    assert criteria == set(range(1, 21)), "all 20 adherence criteria are carried"
    text = " ".join(n["sources"] for n in nodes)
    for ranked in ("8 experts", "leadership, 7 experts", "selection of therapist, 7 experts", "training, 5 experts", "5 experts",
                   "methodical expertise, 3 experts", "budget, 3 experts", "team size, 2 experts"):
        assert ranked in text
    for n in range(1, 11):
        assert f"recommendation organization {n}" in text
        assert re.search(rf"recommendation team/therapist {n}\b", text)
    for case in "ABCDEFG":
        assert re.search(rf"Table 1 \(cases? [^)]*\b{case}\b", text), case
    criterion_levels = {n["name"]: (n["level"], n.get("secondary_levels", [])) for n in nodes}
    assert criterion_levels["Time for team reflection"] == ("organization", ["team"])
    assert criterion_levels["Mentalizing stance"] == ("therapist", [])


@pytest.mark.skipif(not SEED.exists(), reason="the reference study text is not on this machine")
def test_default_codebook_is_in_own_words():
    """No run of eight words from the reference study appears in any definition or example."""
    words = lambda text: re.findall(r"[a-z]+", text.lower())  # noqa: E731
    source = words(SEED.read_text(encoding="utf-8", errors="replace"))
    grams = {tuple(source[i:i + 8]) for i in range(len(source) - 7)}
    document = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    for _, node in _walk(document["codes"]):
        for field in ("short_definition", "definition", "when_to_use", "when_not_to_use", "example"):
            tokens = words(node.get(field, ""))
            copied = [" ".join(tokens[i:i + 8]) for i in range(len(tokens) - 7) if tuple(tokens[i:i + 8]) in grams]
            assert not copied, (node["name"], field, copied)


def test_demo_study_has_the_default_codebook(demo_store):
    with demo_store.read() as session:
        flat = cb.flatten(cb.tree(session, _study(session)))
        assert len(flat) == 44
        assert cb.get_code(session, _study(session), "Organization/Organisational commitment and support/Financial support and budget").polarity == "both"
