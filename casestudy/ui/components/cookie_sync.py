"""Posts to the session-cookie routes from the page, so their responses set or clear the cookie.

A Streamlit script cannot set cookies, so the page itself posts (same origin, JSON) to
``casestudy.ui.server``'s routes: after a login the one-time handover code to
``/_cs/session`` (the response sets the HttpOnly cookie, which this script never sees), after a
logout to ``/_cs/logout`` (the response clears it). Each request is sent once per ``nonce``;
the outcome comes back as the trigger value ``done`` = ``{"action", "nonce", "ok"}``.
"""

from __future__ import annotations

import streamlit as st

_JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data || !data.path) return;
  if (parentElement.dataset.sent === data.nonce) return;
  parentElement.dataset.sent = data.nonce;
  const report = (ok) => setTriggerValue("done", { action: data.action, nonce: data.nonce, ok: ok });
  fetch(data.path, {
    method: "POST", credentials: "same-origin", cache: "no-store",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(data.body || {}),
  }).then((response) => response.text().then(() => report(response.ok)))  // read the body: the request ends
    .catch(() => report(false));
}
"""

_component = st.components.v2.component("casestudy_cookie_sync", js=_JS, isolate_styles=False)


def post_once(action: str, path: str, body: dict, nonce: str, on_done) -> None:
    """Mount the poster (invisible); ``on_done`` runs on the rerun after the response came back."""
    _component(data={"action": action, "path": path, "body": body, "nonce": nonce}, key=f"cookie_sync_{action}",
               on_done_change=on_done)
