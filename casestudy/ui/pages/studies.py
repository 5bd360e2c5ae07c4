"""Studies: start one (optionally with a shipped codebook), rename, archive, and its members.

On an empty database this page (and every study page) shows the first-start choice: start a
new study, or explore the demo study. Changes to a study need its owner (or the administrator);
the membership rules are the library's (``casestudy.study``, ``access.require_study_owner``).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import access, demo, users
from casestudy import study as studies
from casestudy.codebook import exchange as codebook_exchange
from casestudy.errors import UserError
from casestudy.models import DEFAULT_LEVELS, STUDY_ROLES, Study, User
from casestudy.ui.current_study import (
    CREATE_REQUEST_KEY,
    current_study_id,
    flash,
    may_create_studies,
    show_flash,
    use_study,
)
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors
from casestudy.ui.study_rigour import rigour_tab

PAGE = PageSpec(title="Study", url_path="studies", audience=("researcher",), section="Study", order=12)
NO_CODEBOOK = ""
CREATE_FIELDS = ("title", "language", "levels", "codebook")


def render() -> None:
    principal = principal_or_stop()
    show_flash()
    with store().read() as session:
        visible = studies.list_studies(session, for_user=principal.subject_id)
        database_empty = not studies.has_studies(session)
    if not visible:
        if database_empty and may_create_studies(principal):
            first_start(principal)
            return
        st.title("Study")
        if not may_create_studies(principal):
            st.info("You are not a member of any study yet: ask a study's owner or the administrator to add you.")
            return
        st.subheader("Start a new study")
        create_study_form(principal, "study_new")
        _archived_studies(principal)
        return
    scoped = None
    with user_errors("page studies"), store().read() as session:
        study = session.get(Study, _current_visible_id(visible))
        scoped = access.require_study_role(principal, study)
        info = {"title": study.title, "language": study.language, "levels": list(study.levels), "id": study.id}
        members = [{"User": m.user.username, "Name": m.user.display_name, "Role": m.role, "Active": m.user.active}
                   for m in studies.list_members(session, study)]
        accounts = users.list_users(session)
        others = [u.username for u in accounts if u.active and u.username not in {m["User"] for m in members}]
        default_roles = {u.username: studies.default_member_role(u) for u in accounts}
    if scoped is None:
        return
    use_study(info["id"])
    is_owner = scoped.study_role == "owner"
    if st.session_state.get(CREATE_REQUEST_KEY) and may_create_studies(principal):
        with st.container(border=True):
            st.subheader("Start a new study")
            create_study_form(principal, "study_new")
            if st.button("Cancel", key="study_new_cancel"):
                st.session_state.pop(CREATE_REQUEST_KEY, None)
                st.rerun()
    st.title(info["title"])
    st.caption(f"Study {info['id']} · language: {info['language']} · levels: {' / '.join(info['levels'])} · "
               f"your role: {'administrator' if principal.is_admin else scoped.study_role}")
    creating = st.session_state.get(CREATE_REQUEST_KEY)
    if may_create_studies(principal) and not creating and st.button("Start a new study", key="study_new_open", icon=":material/add:"):
        st.session_state[CREATE_REQUEST_KEY] = True
        st.rerun()
    members_tab, rigour, settings_tab = st.tabs(["Members", "Ethics and sign-offs", "Settings"])
    with members_tab:
        _members(scoped, info, members, others, default_roles, is_owner)
    with rigour:
        rigour_tab(scoped, info["id"], is_owner)
    with settings_tab:
        _settings(scoped, info, is_owner)
        _archived_studies(principal)


def _current_visible_id(visible: list[Study]) -> int:
    wanted = current_study_id()
    ids = [s.id for s in visible]
    return wanted if wanted in ids else ids[0]


def _done(message: str) -> None:
    flash(message)
    st.rerun()


def _apply(where: str, principal, change, notice: str, then=None) -> None:
    """One writing transaction; when it commits, run ``then``, remember the notice and rerun.

    A refusal or a UserError is shown (and a refusal logged) by ``user_errors``; nothing is saved.
    """
    committed = False
    with user_errors(where):
        with store().write(principal.actor) as session:
            change(session)
        committed = True
    if committed:
        if then is not None:
            then()
        _done(notice)


# --- first start ----------------------------------------------------------------------
def first_start(principal) -> None:
    """The empty database: start a new study, or load the demo study to explore."""
    st.title("Welcome to Casestudy")
    st.write("There is no study in this database yet. Start your own, or explore the demo study first.")
    new, explore = st.columns(2, gap="large")
    with new, st.container(border=True):
        st.subheader("Start a new study")
        create_study_form(principal, "first_start")
    if not principal.is_admin:  # loading the demo adds accounts: the administrator's decision
        return
    with explore, st.container(border=True):
        st.subheader("Explore the demo study")
        st.write("Seven invented cases with transcripts, a codebook, two coders' codings, member-checked "
                 "reconstructions, masked texts and an expert panel: every stage of the chain, ready to look at.")
        st.caption("Loading takes a while (its steps show here). The demo accounts (admin, coder1, coder2) join the demo "
                   "study; they sign in only on a server in demo mode (CASESTUDY_DEMO=1).")
        if st.button("Explore the demo study", key="load_demo", type="primary"):
            _load_demo()


def _load_demo() -> None:
    with user_errors("load demo"):
        with st.status("Loading the demo study…", expanded=True) as status:
            bar = st.progress(0.0)

            def progress(done: int, total: int, what: str) -> None:
                bar.progress(done / total, text=f"{done}/{total}: {what}")

            result = demo.load_demo(store(), progress=progress)
            status.update(label="The demo study is loaded.", state="complete")
        use_study(result["study_id"])
        _done(f"Loaded the demo study “{result['title']}” with {result['cases']} cases.")


# --- create ---------------------------------------------------------------------------
def _codebook_label(catalogue: dict[str, dict], name: str) -> str:
    if name == NO_CODEBOOK:
        return "No codebook (start empty)"
    record = catalogue[name]
    return f"{record['title']} ({record['codes']} codes)"


def create_study_form(principal, prefix: str) -> None:
    """Title, language, levels and an optional shipped codebook (with a preview of its codes).

    Not an ``st.form``: the codebook preview follows the choice at once. A refused input keeps
    every typed value and shows the message under its field.
    """
    catalogue = {record["name"]: record for record in codebook_exchange.shipped_catalogue()}
    title = st.text_input("Title", key=f"{prefix}_title", placeholder="Implementation of a day programme in five teams")
    slots = {"title": st.empty()}
    language = st.text_input("Language of the transcripts", value="en", key=f"{prefix}_language",
                             help="A language code such as en, nl or de; it chooses how sentences are split.")
    slots["language"] = st.empty()
    levels = st.text_input("Levels (comma-separated, in order)", value=", ".join(DEFAULT_LEVELS), key=f"{prefix}_levels",
                           help="The levels codes belong to; the shipped codebooks use organization, team, therapist.")
    slots["levels"] = st.empty()
    codebook = st.selectbox("Codebook", [NO_CODEBOOK, *catalogue], key=f"{prefix}_codebook",
                            format_func=lambda name: _codebook_label(catalogue, name))
    slots["codebook"] = st.empty()
    if codebook != NO_CODEBOOK:
        _codebook_preview(catalogue[codebook])
    if not st.button("Create the study", key=f"{prefix}_create", type="primary"):
        return
    field = "title"
    try:
        with store().write(principal.actor) as session:
            owner = session.get(User, principal.subject_id) if principal.subject_id else None
            study = studies.create_study(session, title, language, [part for part in levels.split(",") if part.strip()], owner=owner)
            field = "codebook"
            codes = codebook_exchange.load_shipped(session, study, codebook)["added"] if codebook else 0
            created = (study.id, study.title)
    except UserError as exc:
        slots[exc.field if exc.field in slots else field].error(exc.message)
        return
    for name in CREATE_FIELDS:
        st.session_state.pop(f"{prefix}_{name}", None)
    st.session_state.pop(CREATE_REQUEST_KEY, None)
    use_study(created[0])
    _done(f"Started the study “{created[1]}”" + (f" with {codes} codes from the shipped codebook." if codebook else "."))


def _codebook_preview(record: dict) -> None:
    rows = codebook_exchange.shipped_preview(record["name"])
    st.caption(f"Preview of {record['title']}: {record['codes']} codes on the levels {' / '.join(record['levels'])}")
    with st.container(height=min(300, 40 + 48 * len(rows)), border=True):
        st.markdown("\n".join(
            f"{'    ' * row['depth']}- **{row['name']}** ({row['level']}): {row['short_definition']}" for row in rows
        ))


# --- one study ------------------------------------------------------------------------
def _owned(session, principal, study_id: int) -> Study:
    """The study, for its owner or the administrator (AccessDenied otherwise, logged by user_errors)."""
    study = studies.get_study(session, study_id)
    access.require_study_owner(principal, study)
    return study


def _settings(principal, info: dict, is_owner: bool) -> None:
    if not is_owner:
        st.info("Only the study's owners can rename or archive it.")
        return
    with st.form("rename_study"):
        new_title = st.text_input("Title", value=info["title"], key="rename_title")
        if st.form_submit_button("Rename"):
            _apply("rename study", principal,
                   lambda session: studies.rename_study(session, _owned(session, principal, info["id"]), new_title),
                   f"Renamed the study to “{new_title.strip()}”.")
    st.write("**Archive**: the study leaves the study lists; nothing is deleted and it can be brought back.")
    confirm = st.checkbox(f"Yes, archive “{info['title']}”", key="archive_confirm")
    if st.button("Archive this study", key="archive_study", disabled=not confirm):
        _apply("archive study", principal,
               lambda session: studies.archive_study(session, _owned(session, principal, info["id"])),
               f"Archived “{info['title']}”.", then=lambda: use_study(None))


def _archived_studies(principal) -> None:
    with store().read() as session:
        archived = [(s.id, s.title) for s in studies.list_studies(session, for_user=principal.subject_id, include_archived=True)
                    if s.archived_at is not None]
    if not archived:
        return
    st.subheader("Archived studies")
    for study_id, title in archived:
        left, right = st.columns([4, 1])
        left.write(f"{title} (study {study_id})")
        if right.button("Unarchive", key=f"unarchive_{study_id}"):
            _apply("unarchive study", principal,
                   lambda session, chosen=study_id: studies.unarchive_study(session, _owned(session, principal, chosen)),
                   f"“{title}” is back in the study list.", then=lambda chosen=study_id: use_study(chosen))


def _members(principal, info: dict, members: list[dict], others: list[str], default_roles: dict, is_owner: bool) -> None:
    st.dataframe(pd.DataFrame(members, columns=["User", "Name", "Role", "Active"]), hide_index=True, width="stretch")
    st.caption("Owners manage the study and its members; coders work on it; viewers read it. "
               "The administrator manages the accounts (page Accounts) and may open every study.")
    if not is_owner:
        return
    add, change, remove = st.columns(3, gap="medium")
    with add, st.container(border=True):
        st.markdown("**Add a member**")
        if not others:
            st.caption("Every active account is a member already; the administrator adds accounts on the Accounts page.")
        else:
            username = st.selectbox("Account", others, key="member_add_user")
            roles = list(reversed(STUDY_ROLES))
            role = st.selectbox("Role", roles, index=roles.index(default_roles.get(username, "viewer")), key=f"member_add_role_{username}")
            if st.button("Add", key="member_add"):
                _member_change(principal, info, lambda s, study: studies.add_member(s, study, username, role),
                               f"Added {username} as {role}.")
    names = [m["User"] for m in members]
    with change, st.container(border=True):
        st.markdown("**Change a role**")
        username = st.selectbox("Member", names, key="member_role_user")
        current = next((m["Role"] for m in members if m["User"] == username), "viewer")
        roles = list(reversed(STUDY_ROLES))
        role = st.selectbox("New role", roles, index=roles.index(current), key=f"member_role_{username}")
        if st.button("Change role", key="member_set_role"):
            _member_change(principal, info, lambda s, study: studies.set_member_role(s, study, username, role),
                           f"{username} is now {role}.")
    with remove, st.container(border=True):
        st.markdown("**Remove a member**")
        target = st.selectbox("Member", names, key="member_remove_user")
        st.caption("Their codings and other work stay in the study.")
        if st.button("Remove", key="member_remove"):
            _member_change(principal, info, lambda s, study: studies.remove_member(s, study, target),
                           f"Removed {target} from the study.")


def _member_change(principal, info: dict, change, notice: str) -> None:
    _apply("study members", principal, lambda session: change(session, _owned(session, principal, info["id"])), notice)
