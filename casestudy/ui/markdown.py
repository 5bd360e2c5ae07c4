"""Safe Markdown: one way to show a researcher's text (narratives, masked texts) on every page.

The researcher's previews, the respondent's review and the expert's case texts all go through
:func:`show_markdown`, so everyone sees headings, emphasis and lists the same way. The text is
written by researchers but read by outsiders, so nothing in it may run or load anything:

* raw HTML is never rendered: Streamlit's Markdown is called without ``unsafe_allow_html``, and
  :func:`safe_markdown` also turns every ``<`` into ``&lt;`` first, so a ``<script>``,
  ``<iframe>`` or ``<img onerror=...>`` shows as the characters typed;
* a link or image whose target is not ``http``, ``https``, ``mailto``, a relative address or an
  anchor (``javascript:``, ``data:``, ``vbscript:``..., also when written with character
  references or control characters) gets the target ``#`` instead;
* the security headers (``ui.server``) forbid scripts and images from other sites besides.
"""

from __future__ import annotations

import html
import re

import streamlit as st

ALLOWED_SCHEMES = ("http", "https", "mailto")
# The target of an inline link or image: "](" + optional "<" + the target up to ">", ")" or space.
_INLINE_TARGET = re.compile(r"(\]\(\s*<?)([^)>\s]*)")
# A reference definition: "[label]: target" at the start of a line.
_REFERENCE_TARGET = re.compile(r"(^[ ]{0,3}\[[^\]\n]+\]:[ \t]*<?)(\S*)", re.MULTILINE)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def _safe_target(target: str) -> str:
    """``target`` when it is an allowed address, else ``#``."""
    decoded = html.unescape(target)
    plain = re.sub(r"[\x00-\x20\x7f]+", "", decoded).lower()
    plain = plain.replace("\\", "/")
    scheme = _SCHEME.match(plain)
    if scheme is None:
        # No scheme: relative or an anchor, unless a colon hides one ("java\tscript:" is cleaned above).
        return target if ":" not in plain.split("/", 1)[0] else "#"
    return target if scheme.group(1) in ALLOWED_SCHEMES else "#"


def safe_markdown(text: str) -> str:
    """The Markdown source with raw HTML escaped and unsafe link targets replaced (module docstring)."""
    escaped = (text or "").replace("<", "&lt;")
    # "&lt;" may now open an autolink target ("](&lt;javascript:...>"): check the targets after escaping too.
    escaped = _INLINE_TARGET.sub(lambda m: m.group(1) + _safe_target(m.group(2)), escaped)
    return _REFERENCE_TARGET.sub(lambda m: m.group(1) + _safe_target(m.group(2)), escaped)


def show_markdown(text: str, container=None) -> None:
    """Render ``text`` as safe Markdown in ``container`` (default: where the page is writing)."""
    (container or st).markdown(safe_markdown(text), unsafe_allow_html=False)
