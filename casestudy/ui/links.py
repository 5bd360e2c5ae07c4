"""The address every link the app makes starts with, and a warning when the browser disagrees."""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

from casestudy import settings
from casestudy.ui.session import store


def browser_origin() -> str | None:
    """``scheme://host[:port]`` of the address this browser is using (None under AppTest)."""
    try:
        url = st.context.url or ""
    except Exception:  # noqa: BLE001 - no request context (AppTest)
        return None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def link_base_notice() -> str:
    """Show where the links will point (and a warning when it is not this browser's address); return it.

    Pages that make links (member check, expert panel) call this next to their buttons.
    """
    with store().read() as session:
        current = settings.public_url(session)
        base = settings.link_base(session, fallback=browser_origin())
    here = browser_origin()
    if current.url is None:
        st.warning(f"No public URL is set, so links start with {base}, the address of this browser. "
                   "An administrator sets the address people outside open on the Accounts page.")
    elif here and not settings.same_origin(current.url, here):
        st.warning(f"Links start with the public URL {current.url}, but this browser uses {here}. "
                   "Check that people outside can open the public URL (Accounts page).")
    else:
        st.caption(f"Links start with {base}.")
    return base
