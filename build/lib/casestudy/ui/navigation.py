"""Pages by role. Each module in ``casestudy.ui.pages`` declares ``PAGE`` and ``render()``.

Only the pages of the current principal's audience are handed to ``st.navigation``, so a page
outside the role does not exist for that session (typing its URL lands on the role's default
page); each page also checks the principal itself at the top.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

import streamlit as st

from casestudy.ui import pages as pages_package
from casestudy.ui.session import current_principal
from casestudy.ui.widgets import sidebar_account

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class PageSpec:
    title: str
    url_path: str
    audience: tuple[str, ...]  # anonymous, researcher, admin, respondent, expert
    section: str = ""
    order: int = 100
    icon: str | None = None


def _page_modules():
    modules = []
    for info in pkgutil.iter_modules(pages_package.__path__):
        module = importlib.import_module(f"{pages_package.__name__}.{info.name}")
        if hasattr(module, "PAGE") and hasattr(module, "render"):
            modules.append(module)
    return sorted(modules, key=lambda m: (m.PAGE.order, m.PAGE.title))


def audience_of(principal) -> set[str]:
    if principal is None:
        return {ANONYMOUS}
    if principal.is_researcher:
        return {"researcher", "admin"} if principal.is_admin else {"researcher"}
    return {principal.kind}


def pages_for(principal) -> dict[str, list]:
    audience = audience_of(principal)
    sections: dict[str, list] = {}
    first = True
    for module in _page_modules():
        spec: PageSpec = module.PAGE
        if not audience.intersection(spec.audience):
            continue
        page = st.Page(module.render, title=spec.title, url_path=spec.url_path, icon=spec.icon, default=first)
        first = False
        sections.setdefault(spec.section, []).append(page)
    return sections


def build_navigation():
    st.set_page_config(page_title="Casestudy", layout="wide")
    principal = current_principal()
    sections = pages_for(principal)
    is_researcher = principal is not None and principal.is_researcher
    navigation = st.navigation(sections, position="sidebar" if is_researcher else "hidden", expanded=True)
    if is_researcher:
        sidebar_account(principal)
    return navigation
