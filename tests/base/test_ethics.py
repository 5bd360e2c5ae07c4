"""The study's ethics status: what each status needs, who may record it, the methods sentence."""

from __future__ import annotations

import datetime as dt

import pytest

from casestudy import access, ethics, users
from casestudy import study as studies
from casestudy.access import AccessDenied
from casestudy.db import EditConflict
from casestudy.errors import UserError
from casestudy.reports import render


@pytest.fixture
def owned(store):
    with store.write("setup") as session:
        study = studies.create_study(session, "Ethics study")
        for name in ("olga", "cody"):
            users.add_user(session, name, "a long password", "coder")
        studies.add_member(session, study, "olga", "owner")
        studies.add_member(session, study, "cody", "coder")
    return store


def _set(store, who, status, **fields):
    with store.write(who) as session:
        study = studies.get_study(session)
        return ethics.set_ethics(session, study, access.researcher(users.get_user(session, who)), status, **fields)


def test_approved_needs_body_reference_and_a_past_date(owned):
    with pytest.raises(UserError, match="names the approving body, the reference, the date of approval"):
        _set(owned, "olga", "approved")
    with pytest.raises(UserError, match="lies in the future"):
        _set(owned, "olga", "approved", body="METC", reference="NL-1", approved_on=dt.date.today() + dt.timedelta(days=1))
    saved = _set(owned, "olga", "approved", body="METC Utrecht", reference="NL-2024-17", approved_on=dt.date(2024, 2, 3))
    assert saved.sentence == "The study was approved by METC Utrecht (reference NL-2024-17) on 3 February 2024."
    assert ethics.ethics_record(saved)["status"] == "approved" and saved.version == 1


def test_not_required_needs_the_reason_and_clears_the_approval(owned):
    _set(owned, "olga", "approved", body="METC", reference="NL-1", approved_on=dt.date(2024, 1, 1))
    with pytest.raises(UserError, match="say why"):
        _set(owned, "olga", "not-required")
    saved = _set(owned, "olga", "not required", reason="the committee judged the study not subject to the WMO.")
    assert (saved.status, saved.body, saved.approved_on) == ("not_required", "", None)
    assert saved.sentence == "Ethical approval was not required: the committee judged the study not subject to the WMO."


def test_only_the_owner_records_it_and_an_old_version_is_a_conflict(owned):
    with pytest.raises(AccessDenied, match="needs the role owner"):
        _set(owned, "cody", "pending")
    first = _set(owned, "olga", "pending", body="METC")
    assert first.sentence == "Ethical approval by METC was pending at the time of writing."
    _set(owned, "olga", "pending", body="METC Utrecht", expected_version=first.version)
    with pytest.raises(EditConflict):
        _set(owned, "olga", "pending", body="other", expected_version=first.version)
    with pytest.raises(UserError, match="unknown ethics status"):
        _set(owned, "olga", "granted")


def test_the_methods_paragraph_ends_with_the_ethics_sentence(owned):
    saved = _set(owned, "olga", "not_required", reason="no patients were involved")
    paragraph = render.methods_paragraph(None, ethics=saved.sentence)
    assert paragraph == "Ethical approval was not required: no patients were involved."
    with owned.read() as session:
        assert ethics.ethics_sentence(ethics.get_ethics(session, studies.create_study(session, "Other"))) == ""
