"""Blind coding per study: only the owner toggles it; while on, a coder sees only their own codings
in the coding page's data, retrieval, matrices, exports and the CLI; agreement is for the owner."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from sqlalchemy import select

from casestudy import access, audit
from casestudy import study as studies
from casestudy.access import AccessDenied
from casestudy.coding import blinding, comparison, matrices, retrieval, spans
from casestudy.exchange import export as exchange_export
from casestudy.models import AuditEvent, Coding

from tests.coding.test_coding import ADMIN, _apply, setup  # noqa: F401  (fixture)


def _as(session, name):
    return access.researcher(spans.get_coder(session, name))


@pytest.fixture
def coded(store, setup):  # noqa: F811
    """coder1 and coder2 each coded the manager interview; the study is blind."""
    first = _apply(store, setup, "manager", "coder1", "Leadership", "Leadership was strong")
    second = _apply(store, setup, "manager", "coder2", "Support/Budget", "the budget was enough")
    with store.write("admin") as session:
        assert blinding.set_blind_coding(session, studies.get_study(session), ADMIN, True)
    return {"coder1": first[0], "coder2": second[0], **setup}


def test_only_the_owner_turns_blind_coding_on_or_off(store, setup):  # noqa: F811
    with store.write("coder1") as session, pytest.raises(AccessDenied, match="needs the role owner"):
        blinding.set_blind_coding(session, studies.get_study(session), _as(session, "coder1"), True)
    with store.write("admin") as session:
        study = studies.get_study(session)
        assert blinding.set_blind_coding(session, study, ADMIN, True) and not blinding.set_blind_coding(session, study, ADMIN, True)
    with store.read() as session:
        study = studies.get_study(session)
        assert study.blind_coding
        (event,) = [e for e in audit.events(session, entity="study") if e.action == "blind_coding"]
        assert event.detail == {"on": True, "by": "admin"}


def test_while_blind_a_coder_sees_only_their_own_codings_everywhere(store, coded):
    with store.read() as session:
        study = studies.get_study(session)
        coder2 = _as(session, "coder2")
        assert [r.coder for r in spans.coding_rows(session, coded["manager"], principal=coder2)] == ["coder2"]
        assert [s["coder"] for s in retrieval.segments(session, study, principal=coder2)] == ["coder2"]
        rows = list(csv.DictReader(io.StringIO(retrieval.export_segments(session, study, "csv", principal=coder2))))
        assert [r["coder"] for r in rows] == ["coder2"]
        assert matrices.case_code_matrix(session, study, principal=coder2)[1:] == (["Support/Budget"], [[1]])
        labels, _ = matrices.cooccurrence_matrix(session, study, principal=coder2)
        assert labels == ["Support/Budget"]
        assert list(matrices.role_comparison(session, study, studies.get_case(session, study, "Case A"), principal=coder2)[0]) == [
            "code", "manager", "therapist", "only"]
        data, report = exchange_export.build_qdpx(session, study, coder2)
        assert report["codings"] == 1
        assert "coder1" not in zipfile.ZipFile(io.BytesIO(data)).read("project.qde").decode()
        # the owner sees everyone's
        assert {s["coder"] for s in retrieval.segments(session, study, principal=ADMIN)} == {"coder1", "coder2"}
        assert exchange_export.build_qdpx(session, study, ADMIN)[1]["codings"] == 2


def test_while_blind_asking_for_another_coder_comparing_or_editing_is_refused(store, coded):
    with store.read() as session:
        study = studies.get_study(session)
        coder2 = _as(session, "coder2")
        coder1_id = spans.get_coder(session, "coder1").id
        with pytest.raises(AccessDenied, match="only your own codings"):
            retrieval.segments(session, study, retrieval.SegmentFilter(coder_ids=[coder1_id]), principal=coder2)
        with pytest.raises(AccessDenied, match="only your own codings"):
            matrices.code_matrix(session, study, principal=coder2, coders=[coder1_id])
        with pytest.raises(AccessDenied, match="comparing coders is for the study owner"):
            comparison.agreement_report(session, study, ["coder1", "coder2"], principal=coder2)
        assert comparison.agreement_report(session, study, ["coder1", "coder2"], principal=ADMIN).interviews_used
    with store.write("coder2") as session, pytest.raises(AccessDenied, match="change only your own codings"):
        spans.remove_coding(session, coded["coder1"], by=spans.get_coder(session, "coder2"))
    with store.read() as session:
        assert session.get(Coding, coded["coder1"]) is not None


def test_after_unblinding_coders_see_each_other_again(store, coded):
    with store.write("admin") as session:
        blinding.set_blind_coding(session, studies.get_study(session), ADMIN, False)
    with store.read() as session:
        study = studies.get_study(session)
        assert {s["coder"] for s in retrieval.segments(session, study, principal=_as(session, "coder2"))} == {"coder1", "coder2"}


def _refusals(store) -> list[dict]:
    with store.read() as session:
        return [e.detail for e in session.scalars(select(AuditEvent).where(AuditEvent.entity == "access", AuditEvent.action == "refused"))]


def test_cli_blinding_toggle_is_for_the_owner_and_refusals_are_logged(cli, store, setup):  # noqa: F811
    db = store.url
    refused = cli("--db", db, "--user", "coder2", "coding", "blind", "on")
    assert refused.code == 2 and "needs the role owner" in refused.err
    assert _refusals(store)[-1]["where"] == "cli coding" and "needs owner" in _refusals(store)[-1]["reason"]
    assert json.loads(cli("--db", db, "coding", "blind", "status", "--format", "json").out)["blind_coding"] is False
    assert "now on" in cli("--db", db, "coding", "blind", "on").out
    assert json.loads(cli("--db", db, "--user", "coder1", "coding", "blind", "status", "--format", "json").out)["blind_coding"] is True


def test_cli_reads_as_the_user_while_blind(cli, store, coded, tmp_path):
    db = store.url
    as_coder2 = ("--db", db, "--user", "coder2")
    assert [r["coder"] for r in json.loads(cli(*as_coder2, "retrieve", "--format", "json").out)] == ["coder2"]
    assert json.loads(cli(*as_coder2, "matrix", "--format", "json").out)["columns"] == ["Support/Budget"]
    exported = list(csv.DictReader(io.StringIO(cli(*as_coder2, "codings", "export").out)))
    assert [r["coder"] for r in exported] == ["coder2"]
    assert [c["coder"] for c in json.loads(cli(*as_coder2, "codings", "list", str(coded["manager"]), "--format", "json").out)] == ["coder2"]
    assert cli(*as_coder2, "export", "qdpx", "--output", tmp_path / "p.qdpx").code == 0
    assert "coder1" not in zipfile.ZipFile(tmp_path / "p.qdpx").read("project.qde").decode()
    other = cli(*as_coder2, "retrieve", "--coder", "coder1")
    assert other.code == 2 and "blind coding is on" in other.err
    agreement = cli(*as_coder2, "agreement", "--coders", "coder1", "coder2")
    assert agreement.code == 2 and "comparing coders is for the study owner" in agreement.err
    assert [r["reason"] for r in _refusals(store)][-2:] == ["blind coding: other coders' codings (study 1)", "blind coding: agreement (study 1)"]
    # the operator (no --user) is the owner: sees both
    assert {r["coder"] for r in json.loads(cli("--db", db, "retrieve", "--format", "json").out)} == {"coder1", "coder2"}


def test_while_blind_the_workbench_window_counts_pages_and_lists_only_ones_own_codings(store, coded):
    """The window of the workbench filters in the database (starts, passage rows, coders): blind
    coding holds there too, and narrowing to a coder one may not see shows nothing."""
    from casestudy.coding import stripes

    with store.read() as session:
        coder2 = _as(session, "coder2")
        window = stripes.workbench_window(session, coded["manager"], coder2)
        assert (window.total, window.coders, {m[2] for m in window.marks}) == (1, ("coder2",), {"coder2"})
        hidden = stripes.workbench_window(session, coded["manager"], coder2, coder_id=spans.get_coder(session, "coder1").id)
        assert (hidden.total, hidden.marks) == (0, [])
        assert spans.coding_starts(session, coded["manager"], principal=coder2) == [window.marks[0][3]]
        owner = stripes.workbench_window(session, coded["manager"], ADMIN)
        assert (owner.total, owner.coders) == (2, ("coder1", "coder2"))
