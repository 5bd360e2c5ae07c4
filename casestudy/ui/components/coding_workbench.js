// The coding workbench: transcript, coding stripes, code tree, pending panel, edits in place.
//
// The browser keeps the transcript (sent once per interview version) and the marks; every edit
// is shown at once (optimistic) and sent as one operation through the "op" trigger. The server
// answers with the authoritative mark list and an ack {op, ok, message}; the view is always
// "server marks + operations not yet answered", so a refused edit simply disappears (rolled
// back) and its message is shown. Offsets are code points (Python's), converted per line.
//
// Mirrors of casestudy/coding/stripes.py (assignLanes, snapToWord) give the instant preview;
// the server's lanes and snapped offsets are the ones kept.

const MARK = { id: 0, code: 1, coder: 2, start: 3, end: 4, version: 5, lane: 6, memo: 7 };
const HAS_SURROGATE = /[\uD800-\uDFFF]/;
const WORD = /[\p{L}\p{N}\p{M}_]/u;

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "style") node.style.cssText = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

// ---- pure helpers (mirrors of the library) -------------------------------------------------
export function assignLanes(items) {
  // items: [{id, start, end}] -> Map id -> lane (stripes.assign_lanes)
  const sorted = [...items].sort((a, b) => a.start - b.start || b.end - a.end || a.id - b.id);
  const laneEnds = [];
  const lanes = new Map();
  for (const it of sorted) {
    let lane = laneEnds.findIndex((end) => end <= it.start);
    if (lane < 0) { lane = laneEnds.length; laneEnds.push(it.end); } else laneEnds[lane] = it.end;
    lanes.set(it.id, lane);
  }
  return lanes;
}

function snapToWord(chars, offset, edge) {
  // chars: array of code points (strings); stripes.snap_to_word
  offset = Math.max(0, Math.min(chars.length, offset));
  const inside = (o) => o > 0 && o < chars.length && WORD.test(chars[o - 1]) && WORD.test(chars[o]);
  if (edge === "start") while (inside(offset)) offset -= 1;
  else while (inside(offset)) offset += 1;
  return offset;
}

// ---- the transcript as lines with code-point offsets ---------------------------------------
class Transcript {
  constructor(text, container) {
    this.text = text;
    this.lines = []; // {cp, len, node (text node), astral}
    this.chars = null; // code points, built on first snap
    container.textContent = "";
    const frag = document.createDocumentFragment();
    let cp = 0;
    for (const line of text.split("\n")) {
      const astral = HAS_SURROGATE.test(line);
      const len = astral ? Array.from(line).length : line.length;
      const div = el("div", { class: "cw-line", dataset: { o: String(cp) } });
      const node = document.createTextNode(line);
      div.append(node);
      frag.append(div);
      this.lines.push({ cp, len, node, astral, div });
      cp += len + 1;
    }
    container.append(frag);
    this.length = cp - 1;
  }
  codePoints() {
    if (!this.chars) this.chars = Array.from(this.text);
    return this.chars;
  }
  lineIndex(offset) {
    let lo = 0, hi = this.lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lines[mid].cp <= offset) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
  domPoint(offset) {
    // code-point offset -> [text node, UTF-16 offset]
    const line = this.lines[this.lineIndex(offset)];
    const within = Math.min(offset - line.cp, line.len);
    if (!line.astral) return [line.node, within];
    const units = Array.from(line.node.data).slice(0, within).join("").length;
    return [line.node, units];
  }
  range(start, end) {
    const r = document.createRange();
    const [sn, so] = this.domPoint(start);
    const [en, eo] = this.domPoint(end);
    r.setStart(sn, so);
    r.setEnd(en, eo);
    return r;
  }
  staticRange(start, end) {
    // For highlights: a live Range is updated by the browser on every DOM change anywhere in the
    // document, so hundreds of them (a dense passage) made each stripe drawn cost milliseconds.
    const [startContainer, startOffset] = this.domPoint(start);
    const [endContainer, endOffset] = this.domPoint(end);
    return new StaticRange({ startContainer, startOffset, endContainer, endOffset });
  }
  rects(start, end) {
    // The client rects of [start, end) through one reused Range (see staticRange).
    if (!this.measure) this.measure = document.createRange();
    const [sn, so] = this.domPoint(start);
    const [en, eo] = this.domPoint(end);
    this.measure.setStart(sn, so);
    this.measure.setEnd(en, eo);
    const rects = this.measure.getClientRects();
    this.measure.collapse(true);
    return rects;
  }
  offsetOf(node, offset) {
    // DOM point -> code-point offset (or null outside the text)
    let lineDiv = node.nodeType === 3 ? node.parentElement : node;
    if (node.nodeType !== 3) {
      if (node.classList && node.classList.contains("cw-line")) {
        return parseInt(node.dataset.o, 10) + (offset > 0 ? this.lines[this.lineIndex(parseInt(node.dataset.o, 10))].len : 0);
      }
      const child = node.childNodes[offset];
      if (child && child.dataset && child.dataset.o !== undefined) return parseInt(child.dataset.o, 10);
      if (!child && node.lastChild && node.lastChild.dataset && node.lastChild.dataset.o !== undefined) {
        const last = this.lines[this.lineIndex(parseInt(node.lastChild.dataset.o, 10))];
        return last.cp + last.len;
      }
      return null;
    }
    while (lineDiv && !(lineDiv.classList && lineDiv.classList.contains("cw-line"))) lineDiv = lineDiv.parentElement;
    if (!lineDiv) return null;
    const base = parseInt(lineDiv.dataset.o, 10);
    const before = node.data.slice(0, offset);
    return base + (HAS_SURROGATE.test(before) ? Array.from(before).length : before.length);
  }
}

// ---- the workbench --------------------------------------------------------------------------
class Workbench {
  constructor(parent) {
    this.parent = parent;
    this.transcript = null;
    this.textKey = null;
    this.serverMarks = [];
    this.queue = []; // operations sent or waiting: {id, kind, ..., sent}
    this.opSeq = Date.now() % 1000000;
    this.selection = null; // {start, end}
    this.chosen = []; // code ids, in the order chosen
    this.keep = false;
    this.picked = new Set(); // selected coding ids
    this.filter = { text: "", level: "", coder: "" };
    this.expanded = new Set();
    this.openDefs = new Set();
    this.status = { text: "", error: false };
    this.positions = new Map(); // "start:end" -> [top, bottom]
    this.stripeEls = new Map(); // coding id -> stripe element (with its signature)
    this.highlights = new Map(); // code id -> Highlight
    this.ranges = new Map(); // mark key -> {code, range}
    this.lastAck = null;
    this.build();
  }

  build() {
    const root = el("div", { class: "cw", "data-testid": "coding-workbench", tabindex: "-1", lang: "en" });
    this.treeSearch = el("input", { type: "text", placeholder: "Search codes and definitions", "aria-label": "Search codes", oninput: () => this.renderTree() });
    this.recentBox = el("div", { class: "cw-recent", "data-testid": "cw-recent" });
    this.treeBox = el("div", { "data-testid": "cw-tree" });
    const tree = el("div", { class: "cw-tree" }, el("h4", null, "Recent codes (keys 1-9)"), this.recentBox, el("h4", null, "Code tree"), this.treeSearch, this.treeBox);
    this.pendingBox = el("div", { class: "cw-pending", "data-testid": "cw-pending" });
    this.statusBox = el("span", { class: "cw-status", "data-testid": "cw-status", role: "status" });
    this.undoButton = el("button", { title: "Undo your last coding action (Ctrl+Z)", onclick: () => this.historyStep("undo") }, "↶ Undo");
    this.redoButton = el("button", { title: "Redo (Ctrl+Shift+Z)", onclick: () => this.historyStep("redo") }, "↷ Redo");
    this.filterCode = el("input", { type: "text", placeholder: "Filter stripes by code", "aria-label": "Filter stripes by code", oninput: () => { this.filter.text = this.filterCode.value.toLowerCase(); this.renderMarks(); } });
    this.filterLevel = el("select", { "aria-label": "Filter stripes by level", onchange: () => { this.filter.level = this.filterLevel.value; this.renderMarks(); } });
    this.filterCoder = el("select", { "aria-label": "Filter stripes by coder", onchange: () => { this.filter.coder = this.filterCoder.value; this.renderMarks(); } });
    const bar = el("div", { class: "cw-bar" }, this.undoButton, this.redoButton, this.statusBox, el("span", { class: "cw-grow" }), this.filterCode, this.filterLevel, this.filterCoder);
    this.textBox = el("div", { class: "cw-text", "data-testid": "span-selector" });
    this.stripesBox = el("div", { class: "cw-stripes", "data-testid": "cw-stripes" });
    this.page = el("div", { class: "cw-page" }, this.textBox, this.stripesBox);
    this.scroll = el("div", { class: "cw-scroll" }, this.page);
    this.detailBox = el("div", { class: "cw-detail", "data-testid": "cw-detail", style: "display:none" });
    const hint = el("div", { class: "cw-hint" }, "Select text, then click a code (or drag the selection onto it) · tick codes or press 1-9, Enter applies · Esc clears · click a stripe to edit, Shift-click for several · drag the black handles to move a boundary (Alt: by character)");
    const main = el("div", { class: "cw-main" }, bar, this.pendingBox, this.detailBox, this.scroll, hint);
    root.append(tree, main);
    this.parent.append(root);
    this.root = root;

    this.textBox.addEventListener("mouseup", () => setTimeout(() => this.readSelection(), 0));
    this.textBox.addEventListener("keyup", () => this.readSelection());
    this.textBox.addEventListener("dragstart", (event) => {
      if (!this.selection) return;
      event.dataTransfer.setData("text/x-casestudy-span", JSON.stringify(this.selection));
      event.dataTransfer.effectAllowed = "copy";
    });
    this.onKey = (event) => this.keydown(event);
    document.addEventListener("keydown", this.onKey);
    this.resizeObserver = new ResizeObserver((entries) => {
      for (const entry of entries) if (entry.target === this.scroll) this.paneWidth = entry.contentRect.width;
      const textWidth = this.textBox.clientWidth;
      if (textWidth === this.textWidth) return;
      this.textWidth = textWidth; // the lines wrapped anew: every stripe position changes
      this.positions.clear();
      for (const stripe of this.stripeEls.values()) stripe.__sig = "";
      this.renderMarks();
    });
    this.resizeObserver.observe(this.textBox);
    this.resizeObserver.observe(this.scroll);
    // A densely coded interview comes with the stripes of one passage: scrolling out of it asks
    // the server for the passage now at the top of the view (once the scrolling pauses).
    this.scroll.addEventListener("scroll", () => {
      if (!this.paged() || this.scrollTimer) return;
      this.scrollTimer = setTimeout(() => { this.scrollTimer = null; this.askForView(); }, 150);
    }, { passive: true });
  }

  // ---- data from the server ----
  update(data, setTriggerValue) {
    this.send = setTriggerValue;
    this.data = data;
    this.codes = new Map(data.codes.map((c) => [c.id, c]));
    this.periods = data.periods || { choices: [], interview: "", own: [] };
    this.ownPeriods = new Map(this.periods.own);
    if (data.text !== null && data.text !== undefined && this.textKey !== data.textKey) {
      const started = performance.now();
      this.resetView();
      this.transcript = new Transcript(data.text, this.textBox);
      this.root.dataset.textMs = String(Math.round(performance.now() - started));
      this.textKey = data.textKey;
      this.selection = null;
      this.picked.clear();
      this.queue = [];
      this.scroll.scrollTop = 0;
    }
    if (this.textKey !== data.textKey) {
      // The text of this interview version is not here (first mount, reload): ask once for it.
      if (this.askedFor !== data.textKey) {
        this.askedFor = data.textKey;
        setTriggerValue("need_text", data.textKey);
      }
      return;
    }
    this.serverMarks = data.marks;
    this.viewSent = null;
    const ack = data.ack;
    if (ack && ack.op !== this.lastAck) {
      this.lastAck = ack.op;
      this.queue = this.queue.filter((op) => op.id !== ack.op);
      this.setStatus(ack.ok ? ack.message : `${ack.message} — the change was undone`, !ack.ok);
    }
    const known = new Set(this.serverMarks.map((m) => m[MARK.id]));
    for (const id of [...this.picked]) if (id > 0 && !known.has(id)) this.picked.delete(id);
    if (!this.keep) this.chosen = this.chosen.filter((id) => this.codes.has(id));
    this.fillFilters();
    this.renderTree();
    const started = performance.now();
    this.renderMarks();
    this.root.dataset.marksMs = String(Math.round(performance.now() - started));
    this.followPassage(data.passage);
    this.showFocus(data.focus);
    this.flush();
    this.askForView();
  }

  // ---- passages of a densely coded interview ----
  paged() { return !!(this.passage && this.passage.count > 1 && this.transcript); }

  followPassage(passage) {
    // The stripes shown are those of ``passage`` ({index, count, low, high, total}). One the
    // coder scrolled to keeps the view; one chosen on the page scrolls the text to its start.
    const before = this.passage;
    this.passage = passage || null;
    this.root.dataset.passage = passage ? `${passage.index}/${passage.count}` : "";
    const asked = this.viewAsked;
    if (!this.paged() || (before && before.low === passage.low && before.high === passage.high && this.passageText === this.textKey)) return;
    this.passageText = this.textKey;
    this.viewAsked = null;
    if (asked !== null && asked !== undefined && asked >= passage.low && asked < passage.high) return;
    if (passage.index === 0 && !before) return; // first view: the top of the text
    const [top] = this.position(passage.low, Math.min(passage.low + 1, this.transcript.length));
    this.scroll.scrollTop = Math.max(0, top - 4);
  }

  lineAtTop() {
    // The line at the top edge of the view (binary search over the lines' layout) and, within a
    // long wrapped line, an estimate of the character there from the share of it scrolled past.
    const lines = this.transcript.lines;
    const y = this.scroll.scrollTop + 6;
    let lo = 0, hi = lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lines[mid].div.offsetTop <= y) lo = mid; else hi = mid - 1;
    }
    const line = lines[lo];
    const within = Math.max(0, Math.min(1, (y - line.div.offsetTop) / (line.div.offsetHeight || 1)));
    return { line, offset: line.cp + Math.floor(line.len * within) };
  }

  askForView() {
    // One request at a time, and never while an operation is in flight (a second trigger during
    // a rerun could replace the first). A top line reaching into the passage counts as in it:
    // the estimate within a wrapped line must not bounce a chosen passage back to the one before.
    if (!this.paged() || this.viewSent !== null && this.viewSent !== undefined || this.queue.some((op) => op.sent)) return;
    const { line, offset } = this.lineAtTop();
    if (line.cp < this.passage.high && line.cp + line.len + 1 > this.passage.low) return;
    this.viewAsked = offset;
    this.viewSent = offset;
    this.root.dataset.viewAsked = String(offset);
    this.send("view", offset);
    setTimeout(() => { if (this.viewSent === offset) { this.viewSent = null; this.askForView(); } }, 10000);
  }

  showFocus(focus) {
    // A link from retrieval, a matrix cell or a disagreement: scroll to the passage and flash it.
    if (!focus || focus.end > this.transcript.length || focus.start >= focus.end) return;
    const key = `${this.textKey}|${focus.key}|${focus.start}-${focus.end}`;
    if (this.focusShown === key) return;
    this.focusShown = key;
    const [top] = this.position(focus.start, focus.end);
    this.scroll.scrollTop = Math.max(0, top - this.scroll.clientHeight / 3);
    if (!(window.CSS && CSS.highlights)) return;
    const flash = new Highlight(this.transcript.staticRange(focus.start, focus.end));
    CSS.highlights.set("cw-flash", flash);
    this.root.dataset.flash = `${focus.start}-${focus.end}`;
    setTimeout(() => { if (CSS.highlights.get("cw-flash") === flash) CSS.highlights.delete("cw-flash"); }, 2500);
  }

  // ---- view marks = server marks + unanswered operations ----
  viewMarks() {
    let marks = this.serverMarks.map((m) => m.slice());
    for (const op of this.queue) {
      if (op.kind === "apply") {
        op.codes.forEach((code, i) => {
          if (!marks.some((m) => m[MARK.code] === code && m[MARK.coder] === this.data.me && m[MARK.start] === op.start && m[MARK.end] === op.end)) {
            marks.push([-(op.id * 100 + i), code, this.data.me, op.start, op.end, 0, 0, op.memo || ""]);
          }
        });
      } else if (op.kind === "remove") {
        const gone = new Set(op.codings.map((c) => c.id));
        marks = marks.filter((m) => !gone.has(m[MARK.id]));
      } else if (op.kind === "move") {
        for (const m of marks) if (m[MARK.id] === op.codings[0].id) { m[MARK.start] = op.start; m[MARK.end] = op.end; }
      } else if (op.kind === "recode") {
        const ids = new Set(op.codings.map((c) => c.id));
        for (const m of marks) if (ids.has(m[MARK.id])) m[MARK.code] = op.code;
      } else if (op.kind === "memo") {
        for (const m of marks) if (m[MARK.id] === op.codings[0].id) m[MARK.memo] = op.memo;
      }
    }
    if (this.drag) for (const m of marks) if (m[MARK.id] === this.drag.id) { m[MARK.start] = this.drag.start; m[MARK.end] = this.drag.end; }
    return marks;
  }

  visible(mark) {
    const code = this.codes.get(mark[MARK.code]);
    if (!code) return false;
    if (this.filter.level && code.level !== this.filter.level) return false;
    if (this.filter.coder && mark[MARK.coder] !== this.filter.coder) return false;
    if (this.filter.text && !code.path.toLowerCase().includes(this.filter.text)) return false;
    return true;
  }

  // ---- operations ----
  enqueue(op) {
    op.id = ++this.opSeq;
    op.interview = this.data.interview;
    this.queue.push(op);
    this.renderMarks();
    this.flush();
  }

  flush() {
    // One operation in flight at a time: a second trigger during a rerun could replace the first.
    const next = this.queue.find((op) => !op.sent);
    if (!next || this.queue.some((op) => op.sent) || (this.viewSent !== null && this.viewSent !== undefined)) return;
    next.sent = true;
    const { sent, ...payload } = next;
    this.setStatus("saving…", false);
    this.send("op", payload);
    // An answer that never comes (connection lost) must not block every later edit.
    setTimeout(() => {
      if (!this.queue.includes(next)) return;
      this.queue = this.queue.filter((op) => op !== next);
      this.setStatus("No answer from the server: the change may not be saved — reload the page to see what is stored", true);
      this.renderMarks();
      this.flush();
    }, 30000);
  }

  historyStep(kind) {
    if (!this.data.canCode) return;
    this.enqueue({ kind });
  }

  applyCodes(codes, span) {
    span = span || this.selection;
    if (!this.data.canCode) { this.setStatus("You can read but not code (viewer account).", true); return; }
    if (!span || !codes.length) return;
    const memo = this.memoInput ? this.memoInput.value.trim() : "";
    this.enqueue({ kind: "apply", codes: [...codes], start: span.start, end: span.end, memo });
    this.data.recent = [...codes, ...(this.data.recent || []).filter((id) => !codes.includes(id))].slice(0, 9);
    this.selection = null;
    window.getSelection().removeAllRanges();
    if (!this.keep) this.chosen = [];
    this.renderTree();
    this.renderPending();
  }

  pickedCodings() {
    const marks = new Map(this.viewMarks().map((m) => [m[MARK.id], m]));
    return [...this.picked].map((id) => marks.get(id)).filter((m) => m && m[MARK.id] > 0).map((m) => ({ id: m[MARK.id], version: m[MARK.version] }));
  }

  ownPeriod(id) {
    // The period a coding names itself ("" follows its interview): the server's, unless an
    // operation not yet answered sets it (the newest one wins, as the server will apply them).
    let own = this.ownPeriods.get(id) || "";
    for (const op of this.queue) if (op.kind === "period" && op.codings.some((c) => c.id === id)) own = op.period;
    return own;
  }

  setPeriodPicked(name) {
    const codings = this.pickedCodings();
    if (!codings.length || !this.data.canCode) return;
    this.enqueue({ kind: "period", codings, period: name });
  }

  periodControls(picked) {
    // What the picked codings speak about (their own period, else the interview's) and a selector
    // that sets it through the library's one call (spans.set_codings_period), undoable.
    const { choices, interview } = this.periods;
    const owns = picked.map((m) => this.ownPeriod(m[MARK.id]));
    const same = owns.every((own) => own === owns[0]);
    if (!choices.length) {
      return [el("span", { class: "cw-hint", "data-testid": "cw-period-shown" }, "no period (the case has none yet: add them on the Periods and focus groups page)")];
    }
    let shown;
    if (!same) shown = "mixed periods";
    else if (owns[0]) shown = `period ${owns[0]} (its own)`;
    else shown = interview ? `period ${interview} (the interview's)` : "no period (the interview has none)";
    const select = el("select", {
      "aria-label": picked.length > 1 ? "Period of the selected codings" : "Period of the coding", "data-testid": "cw-period",
      disabled: !this.data.canCode, title: "The period the coded passage speaks about",
      onchange: (event) => { const name = event.target.value; event.target.blur(); this.setPeriodPicked(name); },
    });
    if (!same) select.append(el("option", { value: "", disabled: true, selected: true, "data-mixed": "1" }, "(mixed: choose one for all)"));
    select.append(el("option", { value: "", selected: same && !owns[0] }, `the interview's period (${interview || "none"})`));
    for (const name of choices) select.append(el("option", { value: name, selected: same && owns[0] === name }, name));
    return [el("span", { "data-testid": "cw-period-shown" }, shown), el("label", { class: "cw-hint" }, "Period ", select)];
  }

  removePicked() {
    const codings = this.pickedCodings();
    if (!codings.length || !this.data.canCode) return;
    this.picked.clear();
    this.enqueue({ kind: "remove", codings });
  }

  recodePicked() {
    const codings = this.pickedCodings();
    if (!codings.length || this.chosen.length !== 1 || !this.data.canCode) return;
    this.enqueue({ kind: "recode", codings, code: this.chosen[0] });
    if (!this.keep) this.chosen = [];
    this.renderTree();
  }

  setStatus(text, error) {
    this.status = { text, error };
    this.statusBox.textContent = text;
    this.statusBox.classList.toggle("error", !!error);
  }

  // ---- selection and keyboard ----
  readSelection() {
    if (!this.transcript || this.drag) return;
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return;
    const range = sel.getRangeAt(0);
    if (!this.textBox.contains(range.startContainer) || !this.textBox.contains(range.endContainer)) return;
    const start = this.transcript.offsetOf(range.startContainer, range.startOffset);
    const end = this.transcript.offsetOf(range.endContainer, range.endOffset);
    if (start === null || end === null || end <= start) return;
    this.selection = { start, end };
    this.renderPending();
  }

  clearAll() {
    this.selection = null;
    this.chosen = [];
    this.picked.clear();
    window.getSelection().removeAllRanges();
    this.renderTree();
    this.renderMarks();
  }

  keydown(event) {
    if (!this.root.isConnected) { document.removeEventListener("keydown", this.onKey); return; }
    const target = event.target;
    const typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
    if (typing && event.key !== "Escape") return;
    const mod = event.ctrlKey || event.metaKey;
    if (mod && (event.key === "z" || event.key === "Z")) {
      event.preventDefault();
      this.historyStep(event.shiftKey ? "redo" : "undo");
    } else if (mod && (event.key === "y" || event.key === "Y")) {
      event.preventDefault();
      this.historyStep("redo");
    } else if (mod || event.altKey) {
      return;
    } else if (event.key === "Escape") {
      if (typing) target.blur();
      this.clearAll();
    } else if (event.key === "Enter") {
      if (this.selection && this.chosen.length) { event.preventDefault(); this.applyCodes(this.chosen); }
    } else if (/^[1-9]$/.test(event.key)) {
      const code = (this.data.recent || [])[parseInt(event.key, 10) - 1];
      if (code !== undefined) { event.preventDefault(); this.toggleChosen(code); }
    } else if ((event.key === "Delete" || event.key === "Backspace") && this.picked.size) {
      event.preventDefault();
      this.removePicked();
    }
  }

  toggleChosen(codeId) {
    const code = this.codes.get(codeId);
    if (!code || !code.codable) return;
    this.chosen = this.chosen.includes(codeId) ? this.chosen.filter((id) => id !== codeId) : [...this.chosen, codeId];
    this.renderTree();
    this.renderPending();
  }

  // ---- rendering: code tree ----
  fillFilters() {
    const fill = (select, label, values) => {
      const current = select.value;
      const signature = values.join("\u0001");
      if (select.dataset.sig === signature) return;
      select.dataset.sig = signature;
      select.textContent = "";
      select.append(el("option", { value: "" }, label));
      for (const v of values) select.append(el("option", { value: v }, v));
      select.value = values.includes(current) ? current : "";
    };
    fill(this.filterLevel, "All levels", this.data.levels);
    const coders = [...new Set(this.serverMarks.map((m) => m[MARK.coder]))].sort();
    fill(this.filterCoder, "All coders", coders);
    this.team = coders.length > 1;
  }

  codeLabel(code, withMarker = true) {
    return (withMarker ? code.marker + " " : "") + code.name;
  }

  renderTree() {
    const query = this.treeSearch.value.trim().toLowerCase();
    this.recentBox.textContent = "";
    (this.data.recent || []).forEach((id, i) => {
      const code = this.codes.get(id);
      if (!code) return;
      this.recentBox.append(el("span", {
        class: "cw-chip" + (this.chosen.includes(id) ? " on" : ""), title: `${code.path} (key ${i + 1})`, "data-code": String(id),
        onclick: () => (this.selection ? this.applyCodes([id]) : this.toggleChosen(id)),
      }, el("kbd", null, String(i + 1)), el("span", { class: "cw-swatch", style: `background:${code.colour}` }), code.name));
    });
    if (!this.recentBox.childElementCount) this.recentBox.append(el("span", { class: "cw-hint" }, "Codes you apply appear here."));
    const children = new Map();
    for (const c of this.data.codes) {
      if (!c.active) continue;
      const key = c.parent === null ? 0 : c.parent;
      if (!children.has(key)) children.set(key, []);
      children.get(key).push(c);
    }
    const matches = (c) => !query || c.path.toLowerCase().includes(query) || (c.def || "").toLowerCase().includes(query);
    const shown = new Set();
    const mark = (c) => {
      let any = matches(c);
      for (const child of children.get(c.id) || []) any = mark(child) || any;
      if (any) shown.add(c.id);
      return any;
    };
    for (const c of children.get(0) || []) mark(c);
    const frag = document.createDocumentFragment();
    const add = (c, depth) => {
      if (!shown.has(c.id)) return;
      const kids = children.get(c.id) || [];
      const open = query || this.expanded.has(c.id) || !this.collapsedOnce(c.id);
      const caret = el("span", { class: "cw-caret", onclick: () => { this.toggleExpanded(c.id, open); } }, kids.length ? (open ? "▾" : "▸") : "");
      const row = el("div", { class: "cw-node" + (this.chosen.includes(c.id) ? " on" : ""), "data-code": String(c.id), style: `padding-left:${depth * 0.9 + 0.2}rem` }, caret);
      if (c.codable) {
        row.append(el("input", { type: "checkbox", checked: this.chosen.includes(c.id), title: "Choose (Enter applies the chosen codes)", "aria-label": `choose ${c.path}`, onchange: () => this.toggleChosen(c.id) }));
        row.append(el("span", { class: "cw-swatch", style: `background:${c.colour}` }));
      }
      row.append(el("span", {
        class: "cw-name" + (c.codable ? "" : " category"), title: c.codable ? `${c.path} · ${c.level} — click to apply to the selection` : `${c.path} (a category: choose one of its codes)`,
        onclick: () => { if (!c.codable) return; if (this.selection) this.applyCodes([c.id]); else this.toggleChosen(c.id); },
      }, c.codable ? `${c.name} ` : c.name, c.codable ? el("span", { class: "cw-hint", title: c.level }, c.marker) : null));
      if (c.def) row.append(el("button", { class: "cw-info", title: "Definition", "aria-label": `definition of ${c.path}`, onclick: () => { this.openDefs.has(c.id) ? this.openDefs.delete(c.id) : this.openDefs.add(c.id); this.renderTree(); } }, "def"));
      if (c.codable) {
        row.addEventListener("dragover", (event) => { event.preventDefault(); row.classList.add("drop"); });
        row.addEventListener("dragleave", () => row.classList.remove("drop"));
        row.addEventListener("drop", (event) => {
          event.preventDefault();
          row.classList.remove("drop");
          const raw = event.dataTransfer.getData("text/x-casestudy-span");
          const span = raw ? JSON.parse(raw) : this.selection;
          if (span) this.applyCodes([c.id], span);
        });
      }
      frag.append(row);
      if (this.openDefs.has(c.id) && c.def) frag.append(el("div", { class: "cw-def", style: `margin-left:${depth * 0.9 + 2.3}rem` }, c.def));
      if (open) for (const k of kids) add(k, depth + 1);
    };
    for (const c of children.get(0) || []) add(c, 0);
    this.treeBox.textContent = "";
    this.treeBox.append(frag);
    if (!this.data.codes.length) this.treeBox.append(el("div", { class: "cw-hint" }, "The codebook is empty: add codes on the Codebook page or below."));
  }

  collapsedOnce(id) { return this.collapsed && this.collapsed.has(id); }
  toggleExpanded(id, open) {
    this.collapsed = this.collapsed || new Set();
    if (open) { this.collapsed.add(id); this.expanded.delete(id); } else { this.collapsed.delete(id); this.expanded.add(id); }
    this.renderTree();
  }

  // ---- rendering: pending panel ----
  renderPending() {
    const box = this.pendingBox;
    const keepActive = document.activeElement === this.memoInput;
    const memo = this.memoInput ? this.memoInput.value : "";
    box.textContent = "";
    if (!this.selection) {
      box.append(el("span", { class: "cw-hint" }, this.chosen.length ? "Chosen: " : "Select a passage to code it."));
      for (const id of this.chosen) box.append(this.chosenChip(id));
      box.append(this.keepToggle());
      return;
    }
    const { start, end } = this.selection;
    const chars = this.transcript.codePoints();
    const quote = chars.slice(start, Math.min(end, start + 120)).join("");
    box.append(el("span", null, `Selected ${end - start} characters (${start}–${end}):`), el("span", { class: "cw-quote", title: quote }, `“${quote}${end - start > 120 ? "…" : ""}”`));
    box.append(el("span", null, this.chosen.length ? "→ will apply" : "→ tick codes or click one in the tree"));
    for (const id of this.chosen) box.append(this.chosenChip(id));
    this.memoInput = el("input", { type: "text", placeholder: "memo (optional)", "aria-label": "Memo", style: "width:11rem", value: memo });
    box.append(this.memoInput);
    box.append(el("button", { class: "primary", "data-testid": "cw-apply", disabled: !this.chosen.length || !this.data.canCode, onclick: () => this.applyCodes(this.chosen) },
      this.chosen.length ? `Apply ${this.chosen.length} code${this.chosen.length > 1 ? "s" : ""} (Enter)` : "Apply"));
    box.append(el("button", { title: "Clear the selection and the chosen codes (Esc)", onclick: () => this.clearAll() }, "Clear"));
    box.append(this.keepToggle());
    if (keepActive) this.memoInput.focus();
  }

  chosenChip(id) {
    const code = this.codes.get(id);
    return el("span", { class: "cw-chip on", "data-testid": "cw-chosen", title: code.path }, el("span", { class: "cw-swatch", style: `background:${code.colour}` }), code.path,
      el("button", { "aria-label": `remove ${code.path}`, onclick: () => this.toggleChosen(id) }, "×"));
  }

  keepToggle() {
    return el("label", { class: "cw-hint", title: "Keep the chosen codes after applying (for a run of the same code)" },
      el("input", { type: "checkbox", checked: this.keep, "data-testid": "cw-keep", onchange: (e) => { this.keep = e.target.checked; } }), " keep codes");
  }

  // ---- rendering: highlights, stripes, handles ----
  position(start, end) {
    const key = `${start}:${end}`;
    let pos = this.positions.get(key);
    if (!pos) {
      const rects = this.transcript.rects(start, end);
      const base = this.page.getBoundingClientRect().top;
      if (!rects.length) return [0, 0];
      let top = Infinity, bottom = -Infinity;
      for (const r of rects) { if (r.width === 0 && rects.length > 1) continue; top = Math.min(top, r.top); bottom = Math.max(bottom, r.bottom); }
      pos = [top - base, bottom - base];
      this.positions.set(key, pos);
    }
    return pos;
  }

  renderMarks() {
    // Incremental: only marks that appeared, moved or changed touch the DOM and the highlight
    // registry, and all layout reads (positions) come before the writes, so an edit costs one
    // layout of the transcript, not one per coding.
    if (!this.transcript || !this.data) return;
    const marks = this.viewMarks().filter((m) => this.visible(m));
    const lanes = assignLanes(marks.map((m) => ({ id: m[MARK.id], start: m[MARK.start], end: m[MARK.end] })));
    const laneCount = Math.max(1, ...lanes.values()) + (lanes.size ? 1 : 0);
    const positions = marks.map((m) => this.position(m[MARK.start], m[MARK.end])); // reads first
    // The stripes take at most about a third of the pane; narrow lanes turn their labels upright,
    // and in a very dense passage (dozens of overlapping codings) thin lanes drop their labels
    // (the tooltip keeps them) rather than squeeze the transcript into a sliver.
    const room = Math.max(110, (this.paneWidth || 600) * 0.34);
    const width = Math.max(laneCount > 12 ? 5 : 22, Math.min(118, Math.floor((room - 6) / laneCount)));
    const boxWidth = `${laneCount * width + 6}px`;
    if (this.stripesBox.style.width !== boxWidth) this.stripesBox.style.width = boxWidth;
    this.stripesBox.classList.toggle("upright", width < 36);
    this.stripesBox.classList.toggle("narrow", width < 72);
    this.stripesBox.classList.toggle("thin", width < 16);
    this.renderHighlights(marks);
    const seen = new Set();
    marks.forEach((m, i) => {
      const id = m[MARK.id];
      seen.add(id);
      const code = this.codes.get(m[MARK.code]);
      const [top, bottom] = positions[i];
      const lane = lanes.get(id);
      const signature = [m[MARK.code], m[MARK.start], m[MARK.end], m[MARK.memo], m[MARK.coder], top, bottom, lane, width, this.team, this.picked.has(id)].join("|");
      let stripe = this.stripeEls.get(id);
      if (stripe && stripe.__sig === signature) return;
      const fresh = el("div", {
        class: "cw-stripe" + (this.picked.has(id) ? " sel" : "") + (id < 0 ? " pending" : ""),
        "data-testid": "cw-stripe", "data-id": String(id), "data-lane": String(lane), "data-code": String(code.id), "data-start": String(m[MARK.start]), "data-end": String(m[MARK.end]),
        title: `${code.path} · ${code.level} · ${m[MARK.coder]} · ${m[MARK.start]}–${m[MARK.end]}${m[MARK.memo] ? "\nmemo: " + m[MARK.memo] : ""}`,
        style: `--c:${code.colour};top:${top}px;height:${Math.max(bottom - top, 16)}px;left:${lane * width + 3}px;width:${width - 4}px`,
      }, el("span", { class: "cw-label" }, `${code.marker} ${code.name}`), this.team ? el("span", { class: "cw-coder" }, m[MARK.coder]) : null);
      fresh.__sig = signature;
      fresh.addEventListener("mouseenter", () => this.focusSpan(id));
      fresh.addEventListener("mouseleave", () => this.focusSpan(null));
      fresh.addEventListener("mousedown", (event) => { if (event.shiftKey) event.preventDefault(); }); // no text selection
      fresh.addEventListener("click", (event) => this.clickStripe(id, event));
      if (stripe) stripe.replaceWith(fresh); else this.stripesBox.append(fresh);
      this.stripeEls.set(id, fresh);
    });
    for (const [id, stripe] of this.stripeEls) if (!seen.has(id)) { stripe.remove(); this.stripeEls.delete(id); }
    this.shownMarks = marks;
    if (this.picked.size || this.handlesShown) this.renderHandles(marks);
    if (this.picked.size || this.detailBox.style.display !== "none") this.renderDetail(marks);
    this.renderPending();
    this.root.dataset.marks = String(marks.length);
    this.root.dataset.pending = String(this.queue.length);
  }

  renderHighlights(marks) {
    if (!(window.CSS && CSS.highlights)) return;
    const wanted = new Map();
    for (const m of marks) wanted.set(`${m[MARK.code]}:${m[MARK.start]}:${m[MARK.end]}:${m[MARK.id]}`, m);
    for (const [key, entry] of this.ranges) {
      if (!wanted.has(key)) { this.highlights.get(entry.code).delete(entry.range); this.ranges.delete(key); }
    }
    let newCode = false;
    for (const [key, m] of wanted) {
      if (this.ranges.has(key)) continue;
      const code = m[MARK.code];
      if (!this.highlights.has(code)) {
        const highlight = new Highlight();
        this.highlights.set(code, highlight);
        CSS.highlights.set(`cw-c${code}`, highlight);
        newCode = true;
      }
      const range = this.transcript.staticRange(m[MARK.start], m[MARK.end]);
      this.highlights.get(code).add(range);
      this.ranges.set(key, { code, range });
    }
    if (newCode) {
      if (!this.styleNode) { this.styleNode = el("style"); document.head.append(this.styleNode); }
      this.styleNode.textContent = [...this.highlights.keys()].map((code) => `::highlight(cw-c${code}){background-color:${this.codes.get(code)?.colour || "#999999"}40;}`).join("\n");
    }
    const picked = marks.filter((m) => this.picked.has(m[MARK.id]));
    if (picked.length) CSS.highlights.set("cw-pick", new Highlight(...picked.map((m) => this.transcript.staticRange(m[MARK.start], m[MARK.end]))));
    else CSS.highlights.delete("cw-pick");
  }

  resetView() {
    // A new transcript: forget every drawn stripe and highlight.
    for (const stripe of this.stripeEls.values()) stripe.remove();
    this.stripeEls.clear();
    for (const code of this.highlights.keys()) CSS.highlights && CSS.highlights.delete(`cw-c${code}`);
    this.highlights.clear();
    this.ranges.clear();
    this.positions.clear();
  }

  focusSpan(id) {
    if (!(window.CSS && CSS.highlights)) return;
    const m = id === null ? null : (this.shownMarks || []).find((x) => x[MARK.id] === id);
    if (!m) { CSS.highlights.delete("cw-focus"); return; }
    CSS.highlights.set("cw-focus", new Highlight(this.transcript.staticRange(m[MARK.start], m[MARK.end])));
  }

  clickStripe(id, event) {
    if (id < 0) return; // not saved yet
    if (event.shiftKey || event.ctrlKey || event.metaKey) {
      this.picked.has(id) ? this.picked.delete(id) : this.picked.add(id);
    } else if (this.picked.size === 1 && this.picked.has(id)) {
      this.picked.clear();
    } else {
      this.picked = new Set([id]);
      const m = this.viewMarks().find((x) => x[MARK.id] === id);
      const [top] = this.position(m[MARK.start], m[MARK.end]);
      if (top < this.scroll.scrollTop || top > this.scroll.scrollTop + this.scroll.clientHeight - 40) this.scroll.scrollTop = Math.max(0, top - 60);
    }
    this.renderMarks();
  }

  renderHandles(marks) {
    for (const h of this.page.querySelectorAll(".cw-handle")) h.remove();
    this.handlesShown = false;
    if (this.picked.size !== 1 || !this.data.canCode) return;
    const id = [...this.picked][0];
    const m = marks.find((x) => x[MARK.id] === id);
    if (!m) return;
    const base = this.page.getBoundingClientRect();
    for (const edge of ["start", "end"]) {
      const offset = edge === "start" ? m[MARK.start] : m[MARK.end];
      const r = this.transcript.range(offset, offset);
      let rect = r.getClientRects()[0] || r.getBoundingClientRect();
      if (edge === "end" && offset > m[MARK.start]) {
        const rs = this.transcript.range(m[MARK.start], offset).getClientRects();
        rect = rs[rs.length - 1] || rect;
        rect = { left: rect.right, top: rect.top, height: rect.height };
      }
      const handle = el("div", { class: "cw-handle", "data-testid": `cw-handle-${edge}`, title: `Drag to move the ${edge} (snaps to words; hold Alt for characters)`,
        style: `left:${rect.left - base.left}px;top:${rect.top - base.top - 2}px;height:${(rect.height || 20) + 4}px` });
      handle.addEventListener("pointerdown", (event) => this.startDrag(event, m, edge));
      this.page.append(handle);
      this.handlesShown = true;
    }
  }

  startDrag(event, m, edge) {
    event.preventDefault();
    // Listeners on the window: the handles are redrawn while dragging (and let the text be hit).
    this.root.classList.add("cw-dragging");
    this.drag = { id: m[MARK.id], version: m[MARK.version], start: m[MARK.start], end: m[MARK.end], edge, snap: true };
    const move = (e) => {
      const offset = this.offsetAtPoint(e.clientX, e.clientY);
      if (offset === null) return;
      this.drag.snap = !e.altKey;
      const snapped = e.altKey ? offset : snapToWord(this.transcript.codePoints(), offset, edge);
      if (edge === "start") this.drag.start = Math.min(snapped, this.drag.end - 1);
      else this.drag.end = Math.max(snapped, this.drag.start + 1);
      this.renderMarks();
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      this.root.classList.remove("cw-dragging");
      const { id, version, start, end, snap } = this.drag;
      this.drag = null;
      if (start !== m[MARK.start] || end !== m[MARK.end]) this.enqueue({ kind: "move", codings: [{ id, version }], start, end, snap });
      else this.renderMarks();
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  offsetAtPoint(x, y) {
    let node, offset;
    if (document.caretPositionFromPoint) {
      const p = document.caretPositionFromPoint(x, y);
      if (!p) return null;
      node = p.offsetNode; offset = p.offset;
    } else {
      const r = document.caretRangeFromPoint(x, y);
      if (!r) return null;
      node = r.startContainer; offset = r.startOffset;
    }
    if (!this.textBox.contains(node)) return null;
    return this.transcript.offsetOf(node, offset);
  }

  renderDetail(marks) {
    const box = this.detailBox;
    const picked = marks.filter((m) => this.picked.has(m[MARK.id]));
    if (!picked.length) { box.style.display = "none"; box.textContent = ""; return; }
    if (box.contains(document.activeElement) && box.dataset.sig === [...this.picked].join(",")) return; // typing a memo
    box.dataset.sig = [...this.picked].join(",");
    box.style.display = "flex";
    box.textContent = "";
    const can = this.data.canCode;
    const recodeTarget = this.chosen.length === 1 ? this.codes.get(this.chosen[0]) : null;
    if (picked.length === 1) {
      const m = picked[0];
      const code = this.codes.get(m[MARK.code]);
      box.append(el("span", { class: "cw-swatch", style: `background:${code.colour}` }), el("strong", null, code.path), el("span", null, `by ${m[MARK.coder]} · ${m[MARK.start]}–${m[MARK.end]} ·`));
      box.append(...this.periodControls(picked));
      const memo = el("textarea", { placeholder: "memo", "aria-label": "Coding memo", disabled: !can });
      memo.value = m[MARK.memo] || "";
      box.append(memo);
      box.append(el("button", { disabled: !can, onclick: () => this.enqueue({ kind: "memo", codings: [{ id: m[MARK.id], version: m[MARK.version] }], memo: memo.value }) }, "Save memo"));
    } else {
      box.append(el("strong", { "data-testid": "cw-picked" }, `${picked.length} codings selected`));
      box.append(...this.periodControls(picked));
    }
    box.append(el("button", { disabled: !can || !recodeTarget, title: "Tick exactly one code in the tree to recode to it", onclick: () => this.recodePicked() },
      recodeTarget ? `Recode to ${recodeTarget.name}` : "Recode (tick one code)"));
    box.append(el("button", { "data-testid": "cw-remove", disabled: !can, onclick: () => this.removePicked() }, picked.length > 1 ? `Remove ${picked.length} codings` : "Remove (Del)"));
    box.append(el("button", { onclick: () => { this.picked.clear(); this.renderMarks(); } }, "Done"));
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!parentElement.__workbench) parentElement.__workbench = new Workbench(parentElement);
  parentElement.__workbench.update(data, setTriggerValue);
}
