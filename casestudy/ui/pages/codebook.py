"""The codebook: tree by level with counts, definitions, edit/add/move/merge/split/retire, search, exchange."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from casestudy.codebook import exchange as cio
from casestudy.codebook import tree as cb
from casestudy.models import CODE_ORIGINS, CODE_POLARITIES
from casestudy.ui.codebook_panel import show_code_definition
from casestudy.ui.current_study import current_study, study_or_stop
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store, user_errors
from casestudy.ui.widgets import form_done, form_start

PAGE = PageSpec(title="Codebook", url_path="codebook", audience=("researcher",), section="Analysis", order=40)
MIME = {"yaml": "application/x-yaml", "csv": "text/csv", "qdc": "application/xml",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _tree_table(nodes) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Code": "\u2003" * n.depth + n.name,
                "Also": ", ".join(n.secondary_levels),
                "Polarity": "" if n.polarity == "none" else n.polarity,
                "Status": n.status + (f" into {n.merged_into}" if n.merged_into else ""),
                "Codings": n.count,
                "With sub-codes": n.total,
                "Short definition": n.short_definition,
            }
            for n in nodes
        ]
    )


def render() -> None:
    principal = study_or_stop(principal_or_stop())
    st.title("Codebook")
    show_all = st.toggle("Show merged and retired codes", key="codebook_show_all")
    with user_errors("codebook"), store().read() as session:
        study = current_study(session)
        levels = list(study.levels)
        by_level = cb.tree_by_level(session, study, include_inactive=show_all)
        records = cb.records(session, study)
        versions = {c.id: c.version for c in cb.all_codes(session, study)}
        references = {}
    if not records:
        st.info("The codebook is empty. Import a codebook file below or add a first code.")

    query = st.text_input("Search by name or definition", key="codebook_search")
    if query.strip():
        with user_errors("codebook search"), store().read() as session:
            hits = cb.search(session, current_study(session), query, include_inactive=show_all)
        if hits:
            st.dataframe(pd.DataFrame([{"Code": h["path"], "Level": h["level"], "Found in": ", ".join(h["matched"])} for h in hits]), hide_index=True)
        else:
            st.caption("No code matches.")

    tabs = st.tabs([f"{level} ({len(by_level.get(level, []))})" for level in levels])
    for tab, level in zip(tabs, levels):
        with tab:
            nodes = by_level.get(level, [])
            if nodes:
                st.dataframe(_tree_table(nodes), hide_index=True, width="stretch")
            else:
                st.caption("No codes on this level.")

    visible = [r for r in records if show_all or r["status"] == "active"]
    paths = [r["path"] for r in visible]
    selected = None
    if paths:
        chosen = st.selectbox("Code", paths, key="codebook_code")
        selected = next(r for r in visible if r["path"] == chosen)
        with st.container(border=True):
            show_code_definition(selected)
        with user_errors("codebook references"), store().read() as session:
            references = cb.references_of(session, cb.get_code(session, current_study(session), selected["id"]))

    with st.expander("As of an earlier date"):
        when = st.date_input("Date", value=dt.date.today(), key="codebook_as_of")
        with user_errors("codebook as of"), store().read() as session:
            nodes = cb.flatten(cb.as_of(session, current_study(session), dt.datetime.combine(when, dt.time.max), include_inactive=show_all))
        if nodes:
            st.dataframe(_tree_table(nodes), hide_index=True, width="stretch")
        else:
            st.caption("No codes at that date.")

    with st.expander("Export"):
        fmt = st.radio("Format", cio.FORMATS, horizontal=True, key="codebook_export_format")
        if records:
            with user_errors("codebook export"), store().read() as session:
                data = cio.EXPORTERS[fmt](session, current_study(session))
            st.download_button(f"Download codebook.{fmt}", data, file_name=f"codebook.{fmt}", mime=MIME[fmt], key="codebook_export")

    if not principal.can_edit:
        return
    actor = principal.actor

    with st.expander("Import a codebook file"):
        upload = st.file_uploader("YAML, CSV, XLSX (ours, MAXQDA's Code/Memo or NVivo's Name/Description) or REFI-QDA .qdc", type=["yaml", "yml", "csv", "xlsx", "qdc"], key="codebook_upload")
        replace = st.checkbox("Replace: update matching codes, add new ones, retire codes missing from the file", key="codebook_replace")
        if upload is not None and st.button("Import", key="codebook_import"):
            fmt = cio.EXTENSIONS.get("." + upload.name.rsplit(".", 1)[-1].lower(), "")
            with user_errors("codebook import"), st.spinner("Importing the codebook…"), store().write(actor) as session:
                result = cio.import_data(session, current_study(session), upload.getvalue(), fmt, replace, upload.name)
                st.success(f"Imported: {result['added']} added, {result['updated']} updated, {result['retired']} retired.")
                for warning in result["not_carried_over"]:
                    st.warning(f"Not carried over: {warning}")

    with st.expander("Add a code"):
        form_start("codebook_add")
        added = None
        with st.form("codebook_add", clear_on_submit=False):
            name = st.text_input("Name", key="add_name")
            parent = st.selectbox("Parent", ["(top)"] + paths, key="add_parent")
            level = st.selectbox("Level", levels, key="add_level")
            texts = _text_inputs("add", {})
            codable = st.checkbox("Codable (untick for a pure category)", value=True, key="add_codable")
            polarity = st.selectbox("Polarity", CODE_POLARITIES, key="add_polarity")
            origin = st.selectbox("Origin", CODE_ORIGINS, index=1, key="add_origin")
            if st.form_submit_button("Add code"):
                with user_errors("add code"), store().write(actor) as session:
                    study = current_study(session)
                    parent_code = None if parent == "(top)" else cb.get_code(session, study, parent)
                    code = cb.add_code(session, study, name, level, parent_code, codable=codable, polarity=polarity, origin=origin, **texts)
                    added = f"Added {cb.code_path(session, code)}."
        if added:  # the tree shows the new code at once; the form starts empty for the next
            form_done("codebook_add", added, ["add_name", "add_parent", "add_level", "add_codable", "add_polarity", "add_origin",
                                               *(f"add_{k}" for k in ("short", "definition", "use", "nouse", "example", "sources"))])

    if selected is None:
        return
    code_id = selected["id"]

    with st.expander("Edit this code"):
        with st.form("codebook_edit"):
            name = st.text_input("Name", selected["name"], key=f"edit_name_{code_id}")
            level = st.selectbox("Level", levels, index=levels.index(selected["level"]) if selected["level"] in levels else 0, key=f"edit_level_{code_id}")
            secondary = st.multiselect("Secondary levels", levels, default=selected["secondary_levels"], key=f"edit_secondary_{code_id}")
            texts = _text_inputs(f"edit_{code_id}", selected)
            colour = st.text_input("Colour (#RRGGBB)", selected["colour"] or "", key=f"edit_colour_{code_id}")
            polarity = st.selectbox("Polarity", CODE_POLARITIES, index=CODE_POLARITIES.index(selected["polarity"]), key=f"edit_polarity_{code_id}")
            codable = st.checkbox("Codable", value=selected["codable"], key=f"edit_codable_{code_id}")
            # The version the user started editing from: a save by someone else in between is refused.
            version_key = f"edit_version_{code_id}"
            st.session_state.setdefault(version_key, versions[code_id])
            if st.form_submit_button("Save"):
                with user_errors("edit code"), store().write(actor) as session:
                    code = cb.get_code(session, current_study(session), code_id)
                    cb.edit_code(session, code, st.session_state[version_key], name=name, level=level, secondary_levels=secondary,
                                 colour=colour, polarity=polarity, codable=codable, **texts)
                    session.flush()
                    st.session_state[version_key] = code.version
                    st.success("Saved.")

    others = [p for p in paths if p != selected["path"]]
    with st.expander("Move"):
        target = st.selectbox("New parent", ["(top)"] + others, key="move_target")
        if st.button("Move", key="move_button"):
            with user_errors("move code"), store().write(actor) as session:
                study = current_study(session)
                code = cb.get_code(session, study, code_id)
                cb.move_code(session, code, None if target == "(top)" else cb.get_code(session, study, target))
                st.success(f"Moved to {cb.code_path(session, code)}.")

    with st.expander("Merge into another code"):
        target = st.selectbox("Merge into", others, key="merge_target")
        st.caption("Codings of this code move to the target (duplicates collapse); sub-codes move under the target.")
        confirm = st.checkbox(f"Yes, merge {selected['name']!r} into the chosen code", key="merge_confirm")
        if st.button("Merge", key="merge_button", disabled=not confirm or not others):
            with user_errors("merge codes"), store().write(actor) as session:
                study = current_study(session)
                result = cb.merge_codes(session, cb.get_code(session, study, code_id), cb.get_code(session, study, target))
                st.success(f"Merged {result['source']!r} into {result['target']!r}.")

    with st.expander("Split"):
        new_name = st.text_input("Name of the new code", key="split_name")
        chosen = {}
        for kind, items in references.items():
            labels = {f"{label} (#{ref_id})": ref_id for ref_id, label in items}
            picked = st.multiselect(f"{kind} that move to the new code", list(labels), key=f"split_{kind}")
            chosen[kind] = [labels[p] for p in picked]
        confirm = st.checkbox("Yes, split this code", key="split_confirm")
        if st.button("Split", key="split_button", disabled=not confirm):
            with user_errors("split code"), store().write(actor) as session:
                study = current_study(session)
                new = cb.split_code(session, cb.get_code(session, study, code_id), new_name, chosen)
                st.success(f"Created {cb.code_path(session, new)}.")

    with st.expander("Retire"):
        st.caption("A retired code keeps its codings for the record but is no longer offered for coding.")
        confirm = st.checkbox(f"Yes, retire {selected['name']!r}", key="retire_confirm")
        if st.button("Retire", key="retire_button", disabled=not confirm):
            with user_errors("retire code"), store().write(actor) as session:
                cb.retire_code(session, cb.get_code(session, current_study(session), code_id))
                st.success(f"Retired {selected['name']!r}.")


def _text_inputs(prefix: str, record: dict) -> dict:
    return {
        "short_definition": st.text_input("Short definition", record.get("short_definition", ""), key=f"{prefix}_short"),
        "definition": st.text_area("Definition", record.get("definition", ""), key=f"{prefix}_definition"),
        "when_to_use": st.text_area("When to use", record.get("when_to_use", ""), key=f"{prefix}_use"),
        "when_not_to_use": st.text_area("When not to use", record.get("when_not_to_use", ""), key=f"{prefix}_nouse"),
        "example": st.text_area("Example", record.get("example", ""), key=f"{prefix}_example"),
        "sources": st.text_input("Sources", record.get("sources", ""), key=f"{prefix}_sources"),
    }
