"""From numbers to text: links to passages, the matrix by coder (union, intersection, each), and
agreement that names the interviews used and left out and why a value is undefined."""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pytest

from casestudy import study as studies
from casestudy.coding import agreement, comparison, matrices, places, retrieval, spans
from casestudy.coding.agreement import Document, Span, compute
from casestudy.errors import UserError
from casestudy.ui.pages import coding as coding_page

from tests.coding.test_coding import ADMIN, TEXT_MANAGER, _apply, setup  # noqa: F401  (fixture)


def test_a_place_is_a_link_to_the_coding_page_and_back():
    assert places.CODING_PAGE == coding_page.PAGE.url_path
    place = places.Place(7, 12, 40)
    assert place.link == "coding?interview=7&at=12-40" and place.query == {"interview": "7", "at": "12-40"}
    assert places.parse_place(place.query) == place
    assert places.parse_place({"interview": "7"}) == places.Place(7, 0, 0)
    assert places.parse_place({"interview": "x", "at": "1-2"}) is None
    assert places.parse_place({"interview": "3", "at": "9-2"}) == places.Place(3, 0, 0)  # a backwards span is ignored


def test_retrieved_segments_link_to_their_place(store, setup):  # noqa: F811
    _apply(store, setup, "manager", "coder1", "Leadership", "Leadership was strong")
    start = TEXT_MANAGER.index("Leadership was strong")
    with store.read() as session:
        (segment,) = retrieval.segments(session, studies.get_study(session), principal=ADMIN)
    assert segment["link"] == f"coding?interview={setup['manager']}&at={start}-{start + 21}"


@pytest.fixture
def two_coders(store, setup):  # noqa: F811
    """Leadership: coder1 'Leadership was strong', coder2 'Leadership was' (overlap) and 'The team
    was small' (coder2 only); Budget: coder1 only."""
    _apply(store, setup, "manager", "coder1", "Leadership", "Leadership was strong")
    _apply(store, setup, "manager", "coder2", "Leadership", "Leadership was")
    _apply(store, setup, "manager", "coder2", "Leadership", "The team was small")
    _apply(store, setup, "manager", "coder1", "Support/Budget", "the budget was enough")
    return setup


def _ids(store, *names):
    with store.read() as session:
        return [spans.get_coder(session, n).id for n in names]


def test_matrix_union_intersection_and_each(store, two_coders):
    both = _ids(store, "coder1", "coder2")
    with store.read() as session:
        study = studies.get_study(session)
        union = matrices.code_matrix(session, study, "counts", principal=ADMIN, coders=both, combine="union")
        assert union.rows == ["Case A"] and union.columns == ["Leadership", "Support/Budget"]
        assert union.matrix == [[2, 1]]  # the two overlapping Leadership codings are one passage
        chars = matrices.code_matrix(session, study, "characters", principal=ADMIN, coders=both, combine="union")
        assert chars.matrix == [[len("Leadership was strong") + len("The team was small"), len("the budget was enough")]]
        common = matrices.code_matrix(session, study, "characters", principal=ADMIN, coders=both, combine="intersection")
        assert common.columns == ["Leadership"] and common.matrix == [[len("Leadership was")]]
        start = TEXT_MANAGER.index("Leadership was")
        assert common.passages[(0, 0)] == [places.Place(two_coders["manager"], start, start + len("Leadership was"))]
        assert common.links() == [[f"coding?interview={two_coders['manager']}&at={start}-{start + 14}"]]
        each = matrices.code_matrix(session, study, "counts", principal=ADMIN, coders=both, combine="each")
        assert each.rows == ["Case A · coder1", "Case A · coder2"] and each.matrix == [[1, 1], [2, 0]]
        presence = matrices.code_matrix(session, study, "presence", principal=ADMIN, combine="each")
        assert presence.coders == ["coder1", "coder2"] and presence.matrix == [[1, 1], [1, 0]]
        with pytest.raises(UserError, match="unknown way to combine"):
            matrices.code_matrix(session, study, principal=ADMIN, combine="sum")


def test_cli_matrix_by_coder(cli, store, two_coders):
    out = json.loads(cli("--db", store.url, "matrix", "--coders", "coder1", "coder2", "--combine", "intersection", "--format", "json").out)
    assert (out["columns"], out["matrix"], out["combine"], out["coders"]) == (["Leadership"], [[1]], "intersection", ["coder1", "coder2"])
    assert out["links"][0][0].startswith(f"coding?interview={two_coders['manager']}&at=")
    table = cli("--db", store.url, "matrix", "--combine", "each").out
    assert "Case A · coder1" in table and "Case A · coder2" in table


def test_agreement_names_interviews_used_and_left_out(store, two_coders):
    with store.read() as session:
        report = comparison.agreement_report(session, studies.get_study(session), ["coder1", "coder2"], principal=ADMIN)
    assert report.interviews_used == [{"id": two_coders["manager"], "interview": "manager.txt"}]
    assert report.interviews_left_out == [{"id": two_coders["therapist"], "interview": "therapist.txt",
                                           "reason": "coded by none of the chosen coders"}]
    _apply(store, two_coders, "therapist", "coder1", "Leadership", "leadership helped")
    with store.read() as session:
        report = comparison.agreement_report(session, studies.get_study(session), ["coder1", "coder2"], principal=ADMIN)
    assert report.interviews_left_out[0]["reason"] == "not coded by coder2"
    budget = next(d for d in report.disagreements if d.code == "Support/Budget")
    assert budget.link == f"coding?interview={two_coders['manager']}&at={budget.start}-{budget.end}"


def test_cli_agreement_prints_interviews_and_reasons(cli, store, two_coders):
    out = cli("--db", store.url, "agreement", "--coders", "coder1", "coder2").out
    assert "interviews used: manager.txt" in out and "left out: therapist.txt (coded by none of the chosen coders)" in out
    data = json.loads(cli("--db", store.url, "agreement", "--coders", "coder1", "coder2", "--format", "json").out)
    assert data["interviews_left_out"][0]["reason"] == "coded by none of the chosen coders"


@pytest.mark.parametrize(("spans_a", "spans_b", "reason_kappa", "reason_alpha"), [
    ([], [], "no variation: both coders coded nothing", "no variation: both coders coded nothing"),
    ([(0, 10)], [(0, 10)], "only one category: both coders coded every unit", "only one category: both coders coded every unit"),
])
def test_undefined_values_say_why(spans_a, spans_b, reason_kappa, reason_alpha):
    spans_ = [Span("A", "c", s, e) for s, e in spans_a] + [Span("B", "c", s, e) for s, e in spans_b]
    result = compute([Document("d", 10, [], spans_)], ["A", "B"], codes=["c"]).per_code[0]
    assert result.kappa is None and result.alpha is None and result.percent_agreement == 1.0
    assert result.undefined == {"kappa": reason_kappa, "alpha": reason_alpha}
    assert agreement.undefined_text(result) == f"kappa and alpha: {reason_kappa}"


def test_three_coders_have_no_kappa_and_say_so():
    spans_ = [Span("A", "c", 0, 4), Span("B", "c", 2, 6), Span("C", "c", 0, 6)]
    result = compute([Document("d", 10, [], spans_)], ["A", "B", "C"]).per_code[0]
    assert result.kappa is None and result.undefined == {"kappa": "Cohen's kappa is for two coders; see Krippendorff's alpha"}
    expected = krippendorff.alpha(reliability_data=_rows(spans_, ["A", "B", "C"], 10), level_of_measurement="nominal")
    assert result.alpha == pytest.approx(expected)


def _rows(spans_, coders, length):
    data = np.zeros((len(coders), length))
    for span in spans_:
        data[coders.index(span.coder), span.start:span.end] = 1
    return data


@pytest.mark.parametrize("seed", range(5))
def test_alpha_matches_the_krippendorff_package(seed):
    rng = np.random.default_rng(seed)
    spans_ = []
    for coder in ("A", "B"):
        for _ in range(6):
            start = int(rng.integers(0, 180))
            spans_.append(Span(coder, "c", start, start + int(rng.integers(1, 20))))
    result = compute([Document("d", 200, [], spans_)], ["A", "B"]).per_code[0]
    expected = krippendorff.alpha(reliability_data=_rows(spans_, ["A", "B"], 200), level_of_measurement="nominal")
    assert result.alpha == pytest.approx(expected, abs=1e-9)
