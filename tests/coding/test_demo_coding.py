"""The demo's two coders give the agreement, matrices and retrieval something real to show."""

from __future__ import annotations

from casestudy import study as studies
from casestudy.coding import matrices as coding_matrices
from casestudy.coding import retrieval as coding_retrieval
from casestudy.coding import comparison

from tests.coding.test_coding import ADMIN


def test_demo_codings_by_two_coders_with_imperfect_agreement(demo_store):
    with demo_store.read() as session:
        study = studies.get_study(session)
        rows, columns, matrix = coding_matrices.case_code_matrix(session, study, principal=ADMIN)
        assert rows == [f"Case {c}" for c in "ABCDEFG"] and len(columns) >= 8
        assert all(sum(row) > 0 for row in matrix)  # every case has coded evidence
        report = comparison.agreement_report(session, study, ["coder1", "coder2"], "sentence", principal=ADMIN)
        assert 0.5 < report.overall.alpha < 0.99 and report.disagreements
        by_coder = {s["coder"] for s in coding_retrieval.segments(session, study, with_context=False, principal=ADMIN)}
        assert by_coder == {"coder1", "coder2"}
