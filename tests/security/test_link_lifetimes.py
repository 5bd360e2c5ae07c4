"""Link lifetimes are 1..365 days in every command and function that issues links; a new
respondent link revokes the earlier ones."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from casestudy import access
from casestudy import study as studies
from casestudy.errors import UserError
from casestudy.models import AccessToken, PanelMember
from casestudy.panel import members as panel_members

BAD_DAYS = ["0", "-5", "100000000", "366"]


def _open_member(store):
    with store.read() as session:
        member = session.scalars(select(PanelMember).where(PanelMember.status.in_(panel_members.OPEN_STATES))
                                 .order_by(PanelMember.pseudonym)).first()
        return member.pseudonym, [t.id for t in panel_members.active_links(session, member)]


@pytest.mark.parametrize("days", BAD_DAYS)
def test_panel_invite_and_remind_refuse_bad_days_and_keep_the_working_link(demo_store, cli, days):
    pseudonym, links_before = _open_member(demo_store)
    assert links_before
    invite = cli("--db", demo_store.url, "panel", "invite", pseudonym, "--days", days)
    assert invite.code == 2 and "a link must expire after 1 to 365 days" in invite.err, invite
    remind = cli("--db", demo_store.url, "panel", "remind", "--days", days)
    assert remind.code == 2 and "a link must expire after 1 to 365 days" in remind.err, remind
    assert _open_member(demo_store) == (pseudonym, links_before)


def _respondent(store) -> str:
    with store.read() as session:
        return studies.get_case(session, studies.get_study(session), "Case C").respondents[0].name


@pytest.mark.parametrize("days", BAD_DAYS)
def test_respondent_token_issue_refuses_bad_days(demo_store, cli, days):
    result = cli("--db", demo_store.url, "tokens", "issue", "--case", "Case C", "--respondent", _respondent(demo_store), "--days", days)
    assert result.code == 2 and "a link must expire after 1 to 365 days" in result.err, result
    assert "Traceback" not in result.err


def test_member_check_send_refuses_bad_days(demo_store, cli, tmp_path):
    draft = tmp_path / "v.md"
    draft.write_text("# Case A\n\nA short new text.\n", encoding="utf-8")
    assert cli("--db", demo_store.url, "reconstruction", "version", "--case", "Case A", "--file", draft).code == 0
    for days in BAD_DAYS:
        result = cli("--db", demo_store.url, "membercheck", "send", "--case", "Case A", "--days", days)
        assert result.code == 2 and "a link must expire after 1 to 365 days" in result.err, result
    assert cli("--db", demo_store.url, "membercheck", "send", "--case", "Case A", "--days", "30").code == 0


@pytest.mark.parametrize("days", [0, -5, 100_000_000, None, 2.5, True])
def test_library_refuses_bad_days(demo_store, days):
    with pytest.raises(UserError, match="1 to 365 days"):
        access.check_link_days(days)
    with demo_store.write() as session:
        study = studies.get_study(session)
        with pytest.raises(UserError, match="1 to 365 days"):
            access.issue_token(session, study.id, "expert", "panel_member", 1, days)


def test_a_new_respondent_link_revokes_the_earlier_one(demo_store, cli):
    def issue():
        result = cli("--db", demo_store.url, "tokens", "issue", "--case", "Case C", "--respondent", _respondent(demo_store),
                     "--days", "365", "--format", "json")
        assert result.code == 0, result
        return json.loads(result.out)

    first = issue()
    second = issue()
    assert first["token_id"] in second["revoked_token_ids"]
    with demo_store.read() as session:
        assert session.get(AccessToken, first["token_id"]).revoked_at is not None
        assert session.get(AccessToken, second["token_id"]).revoked_at is None
    with pytest.raises(UserError, match="not valid"):
        access.resolve_token(demo_store, first["link"].split("token=")[1])
    assert access.resolve_token(demo_store, second["link"].split("token=")[1]).kind == "respondent"
