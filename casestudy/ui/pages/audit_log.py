"""The audit log (researchers)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from casestudy import audit
from casestudy.ui.navigation import PageSpec
from casestudy.ui.session import principal_or_stop, store

PAGE = PageSpec(title="Audit log", url_path="audit", audience=("admin",), section="Administration", order=210)


def render() -> None:
    principal_or_stop(admin=True)
    st.title("Audit log")
    entity = st.text_input("Entity (table name) filter", key="audit_entity")
    with store().read() as session:
        events = audit.events(session, entity=entity or None, limit=500)
        table = pd.DataFrame(
            [{"When (UTC)": e.at, "Who": e.actor, "Entity": e.entity, "Id": e.entity_id, "Action": e.action, "Detail": str(e.detail)} for e in events]
        )
    st.dataframe(table, hide_index=True, width="stretch")
