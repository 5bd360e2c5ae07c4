"""A transcript view that reports the selected span in code points and clicks on highlights.

JavaScript strings count UTF-16 units; Python counts code points. Every text span in the HTML
carries ``data-o`` (its code-point offset), and the selection inside a text node is converted
with ``Array.from(...)`` so emoji and other astral characters map exactly.
"""

from __future__ import annotations

import streamlit as st

from casestudy.coding.highlight import Mark, cached_html

_CSS = """
.cs-text { white-space: pre-wrap; font-family: var(--st-font, sans-serif); line-height: 1.6;
  max-height: 70vh; overflow-y: auto; padding: .5rem .75rem; border: 1px solid #ddd; border-radius: 6px; }
.cs-text .mk { border-radius: 2px; cursor: pointer; }
.cs-text .mk.sel { outline: 2px solid #d33; }
"""

_JS = """
function codePoints(s) { return Array.from(s).length; }

function pointOffset(root, node, offset) {
  // Offset (code points) of a DOM point (node, offset) inside the transcript root.
  let el = node.nodeType === 3 ? node.parentElement : node;
  if (node.nodeType !== 3) {
    // Element point: use the child at offset (or the end of the last child).
    const child = node.childNodes[offset];
    if (child && child.dataset && child.dataset.o !== undefined) return parseInt(child.dataset.o, 10);
    if (!child && node.lastChild && node.lastChild.dataset) {
      const last = node.lastChild;
      return parseInt(last.dataset.o, 10) + codePoints(last.textContent);
    }
    return null;
  }
  while (el && el !== root && (!el.dataset || el.dataset.o === undefined)) el = el.parentElement;
  if (!el || el === root) return null;
  return parseInt(el.dataset.o, 10) + codePoints(node.textContent.slice(0, offset));
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let root = parentElement.querySelector(".cs-text");
  if (!root) {
    root = document.createElement("div");
    root.className = "cs-text";
    root.setAttribute("data-testid", "span-selector");
    parentElement.appendChild(root);
  }
  if (root.dataset.version !== String(data.version)) {
    root.innerHTML = data.html;
    root.dataset.version = String(data.version);
  }
  root.onmouseup = () => {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return;
    const range = sel.getRangeAt(0);
    if (!root.contains(range.startContainer) || !root.contains(range.endContainer)) return;
    const start = pointOffset(root, range.startContainer, range.startOffset);
    const end = pointOffset(root, range.endContainer, range.endOffset);
    if (start === null || end === null || end <= start) return;
    setTriggerValue("selection", { start: start, end: end, text: sel.toString() });
  };
  root.onclick = (event) => {
    const target = event.target.closest ? event.target.closest(".mk") : null;
    const sel = window.getSelection();
    if (!target || (sel && !sel.isCollapsed)) return;
    const ids = target.dataset.m.split(",").map((x) => parseInt(x, 10));
    setTriggerValue("clicked", { ids: ids, offset: parseInt(target.dataset.o, 10) });
  };
}
"""

_component = st.components.v2.component("casestudy_span_selector", css=_CSS, js=_JS, isolate_styles=False)


def span_selector(text: str, marks: list[Mark], key: str, version: str | int = 0, on_change=None):
    """Mount the transcript view. Returns the component result: ``.selection`` / ``.clicked``.

    ``selection`` is ``{"start", "end", "text"}`` in code points; ``clicked`` is
    ``{"ids": [mark ids under the click], "offset"}``. Both are trigger values (one rerun).
    """
    callback = on_change or (lambda: None)
    return _component(
        data={"html": cached_html(text, tuple(marks)), "version": f"{version}:{len(text)}:{len(marks)}"},
        key=key,
        on_selection_change=callback,
        on_clicked_change=callback,
    )
