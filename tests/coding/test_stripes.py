"""Coding stripes: palette, lanes, word snapping and the workbench's edit operations."""

from __future__ import annotations

import pytest

from casestudy import access, users
from casestudy import study as studies
from casestudy.codebook import tree as codebook
from casestudy.coding import spans, stripes
from casestudy.errors import UserError
from casestudy.interviews import store as interviews_store
from casestudy.models import Coding
from tests.coding.test_coding import TEXT_MANAGER, setup  # noqa: F401


def test_colour_is_stable_per_code_and_explicit_colour_wins():
    assert stripes.code_colour(5) == stripes.code_colour(5) == stripes.PALETTE[5 % len(stripes.PALETTE)]
    assert len({stripes.code_colour(i) for i in range(1, 10)}) == 9  # neighbouring ids differ
    assert stripes.code_colour(5, "#123456") == "#123456"


def test_level_marker_by_position():
    levels = ["individual", "team", "organization"]
    assert [stripes.level_marker(lv, levels) for lv in levels] == ["●", "▲", "■"]
    assert stripes.level_marker("unknown", levels) == stripes.LEVEL_MARKERS[-1]


def test_lanes_separate_overlaps_and_reuse_free_lanes():
    lanes = stripes.assign_lanes([(1, 0, 10), (2, 5, 15), (3, 10, 20), (4, 16, 30), (5, 0, 40)])
    # 5 is longest of those starting at 0, so it goes first.
    assert lanes == {5: 0, 1: 1, 2: 2, 3: 1, 4: 2}
    for a, sa, ea in [(1, 0, 10), (2, 5, 15), (3, 10, 20), (4, 16, 30), (5, 0, 40)]:
        for b, sb, eb in [(1, 0, 10), (2, 5, 15), (3, 10, 20), (4, 16, 30), (5, 0, 40)]:
            if a != b and sa < eb and sb < ea:
                assert lanes[a] != lanes[b]
    assert stripes.assign_lanes([]) == {}
    assert stripes.assign_lanes([(1, 0, 5), (2, 5, 9)]) == {1: 0, 2: 0}  # touching spans share a lane


@pytest.mark.parametrize(
    "offset,edge,expected",
    [(6, "start", 4), (6, "end", 8), (4, "start", 4), (9, "end", 9), (3, "start", 3), (0, "start", 0), (99, "end", 18), (16, "end", 18), (16, "start", 15)],
)
def test_snap_to_word(offset, edge, expected):
    text = "One café day 😀 ünï"  # words: One | café | day | ünï; the emoji is no word character
    assert len(text) == 18
    assert stripes.snap_to_word(text, offset, edge) == expected


def test_snap_rejects_unknown_edge():
    with pytest.raises(ValueError):
        stripes.snap_to_word("abc", 1, "middle")


def _admin(session):
    return access.researcher(users.get_user(session, "coder1"))


def _context(session, setup):  # noqa: F811
    study = studies.get_study(session)
    interview = interviews_store.get_interview(session, study, setup["manager"])
    return study, interview, spans.get_coder(session, "coder1")


def test_perform_apply_move_recode_memo_remove(store, setup):  # noqa: F811
    start = TEXT_MANAGER.index("Leadership was strong")
    with store.write("coder1") as session:
        study, interview, coder = _context(session, setup)
        leadership = codebook.get_code(session, study, "Leadership").id
        budget = codebook.get_code(session, study, "Support/Budget").id
        assert stripes.perform(session, study, interview, coder, {"kind": "apply", "codes": [leadership, budget], "start": start + 2, "end": start + 12}) == "applied 2 code(s)"
    with store.read() as session:
        marks = stripes.workbench_marks(session, setup["manager"], _admin(session))
        assert sorted((m[1], m[3], m[4]) for m in marks) == sorted([(leadership, start + 2, start + 12), (budget, start + 2, start + 12)])
        assert sorted(m[6] for m in marks) == [0, 1]  # the same span twice: two lanes
    first, second = marks
    with store.write("coder1") as session:
        study, interview, coder = _context(session, setup)
        # Snapping moves "adership wa" out to whole words: "Leadership was".
        stripes.perform(session, study, interview, coder, {"kind": "move", "codings": [{"id": first[0], "version": first[5]}],
                                                           "start": start + 2, "end": start + 12, "snap": True})
        stripes.perform(session, study, interview, coder, {"kind": "memo", "codings": [{"id": second[0], "version": second[5]}], "memo": "why"})
    with store.read() as session:
        moved = session.get(Coding, first[0])
        assert TEXT_MANAGER[moved.start : moved.end] == "Leadership was"
        assert session.get(Coding, second[0]).memo == "why"
        marks = {m[0]: m for m in stripes.workbench_marks(session, setup["manager"], _admin(session))}
    with store.write("coder1") as session:
        study, interview, coder = _context(session, setup)
        board = codebook.get_code(session, study, "Support/Board support").id
        stripes.perform(session, study, interview, coder, {"kind": "recode", "code": board,
                                                           "codings": [{"id": i, "version": m[5]} for i, m in marks.items()]})
    with store.read() as session:
        assert {c.code.name for c in session.query(Coding)} == {"Board support"}
        marks = stripes.workbench_marks(session, setup["manager"], _admin(session))
    with store.write("coder1") as session:
        study, interview, coder = _context(session, setup)
        stripes.perform(session, study, interview, coder, {"kind": "remove", "codings": [{"id": m[0], "version": m[5]} for m in marks]})
    with store.read() as session:
        assert session.query(Coding).count() == 0


def test_perform_refuses_stale_versions_and_bad_input(store, setup):  # noqa: F811
    start = TEXT_MANAGER.index("Leadership was strong")
    with store.write("coder1") as session:
        study, interview, coder = _context(session, setup)
        leadership = codebook.get_code(session, study, "Leadership").id
        budget = codebook.get_code(session, study, "Support/Budget").id
        stripes.perform(session, study, interview, coder, {"kind": "apply", "codes": [leadership], "start": start, "end": start + 10})
    with store.read() as session:
        (mark,) = stripes.workbench_marks(session, setup["manager"], _admin(session))
    stale = [{"id": mark[0], "version": mark[5] + 7}]
    for op in ({"kind": "remove", "codings": stale}, {"kind": "move", "codings": stale, "start": 0, "end": 3},
               {"kind": "recode", "codings": stale, "code": budget}):
        with pytest.raises(UserError, match="saved this item in the meantime"):
            with store.write("coder1") as session:
                stripes.perform(session, *_context(session, setup)[:2], spans.get_coder(session, "coder1"), op)
    for op, message in (({"kind": "dance"}, "unknown coding action"), ({"kind": "apply", "codes": []}, "at least one code"),
                        ({"kind": "remove", "codings": []}, "at least one coding"),
                        ({"kind": "apply", "codes": [leadership], "start": "a", "end": 3}, "whole number")):
        with pytest.raises(UserError, match=message):
            with store.write("coder1") as session:
                stripes.perform(session, *_context(session, setup)[:2], spans.get_coder(session, "coder1"), op)
    with store.read() as session:
        assert session.query(Coding).count() == 1


def test_cli_stripes_and_snapped_move(cli, store, setup):  # noqa: F811
    import json

    start = TEXT_MANAGER.index("Leadership was strong")
    for code in ("Leadership", "Support/Budget"):
        assert cli("--db", store.url, "codings", "apply", str(setup["manager"]), "--code", code, "--coder", "coder1",
                   "--start", start + 2, "--end", start + 12).code == 0
    rows = json.loads(cli("--db", store.url, "codings", "stripes", str(setup["manager"]), "--format", "json").out)
    assert sorted(r["lane"] for r in rows) == [0, 1] and {r["code"] for r in rows} == {"Leadership", "Support/Budget"}
    assert all(r["colour"] in stripes.PALETTE for r in rows) and {r["marker"] for r in rows} <= set(stripes.LEVEL_MARKERS)
    moved = cli("--db", store.url, "codings", "move", str(rows[0]["id"]), "--start", start + 2, "--end", start + 12, "--coder", "coder1", "--snap")
    assert moved.code == 0, moved.err
    with store.read() as session:
        coding = session.get(Coding, rows[0]["id"])
        assert TEXT_MANAGER[coding.start : coding.end] == "Leadership was"


def test_passages_hold_at_most_the_limit_and_keep_codings_of_one_character_together():
    assert stripes.passages_of([], 100) == [(0, 100)]
    assert stripes.passages_of([1, 2, 3], 100, limit=2) == [(0, 3), (3, 100)]
    assert stripes.passages_of([0, 0, 0, 5, 6], 10, limit=2) == [(0, 5), (5, 10)]
    assert stripes.passages_of(list(range(10)), 5, limit=3) == [(0, 3), (3, 6), (6, 9), (9, 10)]


def test_a_densely_coded_interview_is_shown_passage_by_passage_or_narrowed(cli, store, setup, monkeypatch):  # noqa: F811
    import json

    monkeypatch.setattr(stripes, "MAX_MARKS", 5)
    rows = ["interview,coder,code,start,end"]
    for n in range(12):
        rows.append(f"{setup['manager']},{'coder1' if n % 3 else 'coder2'},{'Leadership' if n % 2 else 'Support/Budget'},{n * 10},{n * 10 + 15}")
    with store.write("coder1") as session:
        spans.import_codings_csv(session, studies.get_study(session), "\n".join(rows) + "\n")
    with store.read() as session:
        admin = _admin(session)
        whole = stripes.workbench_window(session, setup["manager"], admin)
        assert (whole.total, whole.paged, whole.passages) == (12, True, [(0, 50), (50, 100), (100, 188)])
        assert sorted(m[3] for m in whole.marks) == [0, 10, 20, 30, 40]  # those starting in [0, 50), nothing reaches in
        second = stripes.workbench_window(session, setup["manager"], admin, passage=1)
        assert sorted(m[3] for m in second.marks) == [40, 50, 60, 70, 80, 90]  # 40-55 reaches into [50, 100)
        linked = stripes.workbench_window(session, setup["manager"], admin, at=105)
        assert linked.passage == 2 and sorted(m[3] for m in linked.marks) == [90, 100, 110]
        coder2 = stripes.workbench_window(session, setup["manager"], admin, coder_id=spans.get_coder(session, "coder2").id)
        assert (coder2.total, coder2.paged, {m[2] for m in coder2.marks}) == (4, False, {"coder2"})
        assert coder2.coders == ("coder1", "coder2")
        leadership = codebook.get_code(session, studies.get_study(session), "Leadership").id
        only = stripes.workbench_window(session, setup["manager"], admin, code_id=leadership)
        assert (only.total, only.paged, {m[1] for m in only.marks}) == (6, True, {leadership})
    result = cli("--db", store.url, "codings", "stripes", str(setup["manager"]), "--passage", "2", "--format", "json")
    assert result.code == 0, result
    assert sorted(r["start"] for r in json.loads(result.out)) == [40, 50, 60, 70, 80, 90]
    assert "12 codings match: passage 2 of 3" in result.err
    narrowed = cli("--db", store.url, "codings", "stripes", str(setup["manager"]), "--coder", "coder2", "--format", "json")
    assert {r["coder"] for r in json.loads(narrowed.out)} == {"coder2"} and narrowed.err == ""
