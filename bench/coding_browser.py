"""The coding workbench in a real browser: select -> apply -> stripe visible, next to Taguette 1.5.2.

    /work/main/.venv/bin/python bench/coding_browser.py [--applications 40] [--think-ms 1000] [--taguette-venv /tmp/taguette-venv]
    /work/main/.venv/bin/python bench/coding_browser.py --dense      # a very dense interview (300,000 characters, 49,000 codings)

What it does, in one run on this machine:

1. Generates two transcripts through the library into a temporary SQLite database: 50,000
   characters with 500 codings and 300,000 characters with 2,000 codings (random spans, 24
   codes in a tree, a fixed seed), plus a coder account.
2. Starts the app (``streamlit run app.py``) on a loopback port, opens it in headless
   /usr/bin/chromium (Playwright), signs in as the coder and opens the Coding page.
3. For each transcript, ``--applications`` times, ``--think-ms`` apart (a coder reads on and
   selects the next passage; 0 runs them back to back, into the tail of the previous answer's
   repaint): selects a random passage (a DOM range and
   the mouseup a drag ends with) and clicks a code in the code tree; measured inside the page
   with ``performance.now()`` from the mouseup to the next painted frame that shows the new
   stripe (**visible**), and on to the frame after the server's answer replaced the optimistic
   mark with the stored one (**confirmed**: written in the database, authoritative marks back).
   Opening each interview is timed from choosing it to the first stripes drawn (at least
   ``min(codings, stripes.MAX_MARKS)`` marks: a denser interview is shown passage by passage),
   and the bytes the browser received over the websocket meanwhile are counted. For an interview
   shown passage by passage, ``--scrolls`` times the coder scrolls to a random place of the
   transcript: timed from the scroll to the frame showing the stripes of the passage now at the
   top of the view (**scroll -> stripes**); the browser's own work of the first paint is split
   into building the text and drawing the first stripes (``data-text-ms`` / ``data-marks-ms``).
4. **Taguette**: installs 1.5.2 into a scratch virtualenv (see bench/peer.py; reused when
   there), starts it on loopback, creates a project and a tag, uploads the 50,000-character
   transcript as a document and times ``--applications`` highlight requests
   (``POST /api/project/P/document/D/highlight/new``, what its page sends on "save").

Units: milliseconds; median and 95th percentile (nearest rank). Ratio = ours / Taguette's (below
1: we are faster). Taguette's figure is its HTTP request alone, without any browser rendering;
ours includes the browser's work. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from casestudy import db, migrate, users
from casestudy import study as studies
from casestudy.codebook import tree as codebook
from casestudy.coding import spans
from casestudy.interviews import store as interviews_store

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench coder password"
WORDS = ("the team programme patients group therapy manager we they it was were had not very much more about because then so and "
         "but that this with for on in of to a an is are be mentalizing training supervision budget drop-out crisis ward director "
         "nurses therapists week month year felt thought said really quite difficult good bad money time staff turnover").split()  # noqa: SIM905
SIZES = ((50_000, 500), (300_000, 2_000))

# Select a random passage and apply the code at ``codeIndex`` of the tree by clicking it; resolve
# with the time to the painted stripe and to the server's confirmation.
APPLY_JS = """
async ([seed, codeIndex]) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const root = document.querySelector('[data-testid=coding-workbench]');
  const text = document.querySelector('[data-testid=span-selector]');
  const lines = [...text.querySelectorAll('.cw-line')].filter((l) => l.textContent.length > 80);
  const line = lines[seed % lines.length];
  const node = line.firstChild;
  const from = (seed * 7919) % (node.data.length - 60);
  const range = document.createRange();
  range.setStart(node, from);
  range.setEnd(node, from + 20 + (seed % 40));
  line.scrollIntoView({ block: 'center' });
  await frame();
  const before = document.querySelectorAll('[data-testid=cw-stripe]').length;
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  const t0 = performance.now();
  text.dispatchEvent(new MouseEvent('mouseup', { bubbles: true }));
  await new Promise((r) => setTimeout(r, 0));
  const names = [...document.querySelectorAll('[data-testid=cw-tree] .cw-name:not(.category)')];
  names[codeIndex % names.length].click();
  const script = performance.now() - t0;
  await frame();
  const shown = document.querySelectorAll('[data-testid=cw-stripe]').length > before;
  const visible = performance.now() - t0;
  const deadline = performance.now() + 30000;
  while (root.dataset.pending !== '0' && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  await frame();
  const confirmed = performance.now() - t0;
  const status = document.querySelector('[data-testid=cw-status]').textContent;
  return { visible, confirmed, script, shown, status, stripes: document.querySelectorAll('[data-testid=cw-stripe]').length };
}
"""


# Scroll the transcript to ``fraction`` of its height; resolve with the time until the stripes of
# the passage now at the top are drawn (the workbench's data-passage changes), and how many of them
# lie in the view.
SCROLL_JS = """
async (fraction) => {
  const root = document.querySelector('[data-testid=coding-workbench]');
  const scroller = root.querySelector('.cw-scroll');
  const before = root.dataset.passage;
  const t0 = performance.now();
  scroller.scrollTop = Math.max(0, scroller.scrollHeight * fraction - scroller.clientHeight);
  const deadline = t0 + 60000;
  while (root.dataset.passage === before && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const top = scroller.scrollTop, bottom = top + scroller.clientHeight;
  const inView = [...root.querySelectorAll('[data-testid=cw-stripe]')]
    .filter((s) => parseFloat(s.style.top) < bottom && parseFloat(s.style.top) + parseFloat(s.style.height) > top).length;
  return { ms: performance.now() - t0, changed: root.dataset.passage !== before, inView };
}
"""
DENSE = ((300_000, 49_000),)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def make_text(length: int, rng: random.Random) -> str:
    """Speaker turns of 1-4 sentences, as a transcript reads, cut at ``length`` characters."""
    turns, size, turn = [], 0, 0
    while size < length:
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 28))).capitalize() + "." for _ in range(rng.randint(1, 4))]
        line = f"{'Interviewer' if turn % 2 == 0 else 'Respondent'}: {' '.join(sentences)}"
        turns.append(line)
        size += len(line) + 1
        turn += 1
    return "\n".join(turns)[:length]


def build_database(folder: Path, sizes=SIZES) -> tuple[str, list[str]]:
    """The temporary study; returns its URL and the interview labels (as the page lists them)."""
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    store = db.Store(url)
    migrate.upgrade(store)
    rng = random.Random(20261201)
    with store.write("bench") as session:
        study = studies.create_study(session, "Workbench bench")
        case = studies.add_case(session, study, "Unit 1", "Case A")
        studies.add_member(session, study, users.add_user(session, "coder1", PASSWORD, "coder"))
        parents = [codebook.add_code(session, study, f"Theme {n}", level, codable=False)
                   for n, level in zip(range(1, 5), ["organization", "team", "therapist", "organization"])]
        paths = []
        for n in range(24):
            parent = parents[n % 4]
            code = codebook.add_code(session, study, f"Determinant {n + 1}", parent.level, parent=parent)
            paths.append(f"{parent.name}/{code.name}")
        items = []
        for length, _ in sizes:
            studies.add_respondent(session, case, f"R{length}", "manager")
            items.append(interviews_store.ImportItem(f"transcript-{length}.txt", make_text(length, rng).encode(), "Case A", f"R{length}"))
        interviews = interviews_store.import_interviews(session, study, items)
        rows = io.StringIO()
        writer = csv.writer(rows)
        writer.writerow(["interview", "coder", "code", "start", "end"])
        for interview, (length, count) in zip(interviews, sizes):
            for _ in range(count):
                start = rng.randrange(0, length - 700)
                writer.writerow([interview.file_name, "coder1", rng.choice(paths), start, start + rng.randint(30, 600)])
        spans.import_codings_csv(session, study, rows.getvalue(), "bench.csv")
        labels = [i.label for i in interviews_store.interview_labels(session, study)]
    store.dispose()
    return url, labels


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(url: str, folder: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    log = open(folder / "streamlit.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "CASESTUDY_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                return process, base
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"the app did not start; see {folder / 'streamlit.log'}")


def run_ours(base: str, labels: list[str], applications: int, think_ms: int, sizes=SIZES, shot: Path | None = None,
             scrolls: int = 0) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from casestudy.coding import stripes

    MAX_MARKS = getattr(stripes, "MAX_MARKS", 10**9)  # before paging: every coding is sent

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(120_000)
        received = [0]
        page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload))))
        page.goto(base)
        page.wait_for_selector("[data-testid='stApp']")
        page.get_by_role("textbox", name="User name").fill("coder1")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        # The signed-in page's run must end first: a click during it is lost on a loaded machine.
        page.locator("[data-testid='stSidebarNav'] a[href$='/coding']").wait_for()
        page.wait_for_function("() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState === 'notRunning'")
        for _attempt in range(3):  # a click on a loaded machine can still land in a late rerun and be lost
            received[0] = 0
            started = time.perf_counter()
            page.locator("[data-testid='stSidebarNav'] a[href$='/coding']").click()  # opens the first interview
            try:
                page.wait_for_function("() => document.querySelector('[data-testid=coding-workbench]')", timeout=20_000)
                break
            except Exception:  # noqa: BLE001 - still on the previous page: click again
                continue
        for index, ((length, count), label) in enumerate(zip(sizes, labels)):
            if index:
                box = page.locator("[data-testid='stMain'] [data-testid='stSelectbox']", has_text="Interview").first  # not the study switcher
                box.click()
                page.keyboard.type(label.rsplit("·", 1)[-1].strip())
                received[0] = 0
                page.keyboard.press("Enter")
                started = time.perf_counter()
            try:
                page.wait_for_function("(n) => { const r = document.querySelector('[data-testid=coding-workbench]');"
                                       " return r && Number(r.dataset.marks) >= n && document.querySelector('[data-testid=cw-stripe]') }",
                                       arg=min(count, MAX_MARKS))
            except Exception:
                page.screenshot(path=str(Path(tempfile.gettempdir()) / "coding_browser_timeout.png"))
                raise
            opened = time.perf_counter() - started
            opened_bytes = received[0]
            split = page.evaluate("() => { const d = document.querySelector('[data-testid=coding-workbench]').dataset;"
                                  " return {text: +(d.textMs || 0), marks: +(d.marksMs || 0), paged: (d.passage || '').split('/')[1] > 1} }")
            page.wait_for_timeout(500)
            scrolled = []
            if split["paged"]:
                rng = random.Random(length)
                for _ in range(scrolls):
                    scrolled.append(page.evaluate(SCROLL_JS, rng.uniform(0.1, 1.0)))
                    page.wait_for_timeout(think_ms)
            runs = []
            for n in range(applications):
                page.wait_for_timeout(think_ms)  # the coder reads on and selects the next passage
                runs.append(page.evaluate(APPLY_JS, [n * 131 + 17, n]))
            missing = sum(not r["shown"] for r in runs)
            results.append({"length": length, "codings": count, "opened": opened, "opened_bytes": opened_bytes, "runs": runs, "missing": missing,
                            "split": split, "scrolled": scrolled,
                            "last_status": runs[-1]["status"], "stripes": runs[-1]["stripes"]})
        page.screenshot(path=str(shot or Path(tempfile.gettempdir()) / "coding_browser_last.png"))
        browser.close()
    return results


def run_taguette(venv: Path, folder: Path, applications: int) -> list[float]:
    import peer

    exe = peer.ensure_taguette(venv)
    tg = peer.Taguette(exe, folder)
    try:
        project = tg.new_project("bench")
        tag = tg.post_json(f"/api/project/{project}/tag/new", {"path": "Determinant 1", "description": ""})["id"]
        document = folder / "transcript-50000.vtt"
        text = make_text(SIZES[0][0], random.Random(5))
        cues = [f"{peer._timestamp(4 * n)} --> {peer._timestamp(4 * n + 3)}\n{line}" for n, line in enumerate(text.split("\n"))]
        document.write_text("WEBVTT\n\n" + "\n\n".join(cues) + "\n", encoding="utf-8")
        doc_id = tg.upload(project, document)
        rng = random.Random(9)
        times = []
        for _ in range(applications):
            start = rng.randrange(0, 40_000)
            t0 = time.perf_counter()
            tg.post_json(f"/api/project/{project}/document/{doc_id}/highlight/new",
                         {"start_offset": start, "end_offset": start + rng.randint(20, 60), "tags": [tag]})
            times.append(1000 * (time.perf_counter() - t0))
        return times
    finally:
        tg.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=40, help="applications per transcript (at least 30)")
    parser.add_argument("--think-ms", type=int, default=1000,
                        help="pause before each application, as a coder reads on and selects the next passage (0: back to back)")
    parser.add_argument("--taguette-venv", type=Path, default=Path(tempfile.gettempdir()) / "taguette-venv")
    parser.add_argument("--sizes", help="characters:codings[,characters:codings...] instead of 50000:500,300000:2000")
    parser.add_argument("--no-peer", action="store_true", help="skip the Taguette comparison")
    parser.add_argument("--shot", type=Path, help="where to save the final screenshot")
    parser.add_argument("--dense", action="store_true", help="only a very dense interview (300,000 characters, 49,000 codings), "
                        "5 applications, no Taguette: the first paint and scrolling through its passages")
    parser.add_argument("--scrolls", type=int, default=10, help="scrolls to a random place of an interview shown passage by passage")
    args = parser.parse_args()
    if args.dense:
        args.sizes, args.no_peer, args.applications = args.sizes or "300000:49000", True, min(args.applications, 5)
    sizes = tuple(tuple(int(x) for x in pair.split(":")) for pair in args.sizes.split(",")) if args.sizes else SIZES
    folder = Path(tempfile.mkdtemp(prefix="coding-browser-bench-"))
    started = time.perf_counter()
    url, labels = build_database(folder, sizes)
    print(f"data: {', '.join(f'{n:,} characters / {c:,} codings' for n, c in sizes)} generated in {time.perf_counter() - started:.1f} s; folder {folder}")
    process, base = start_app(url, folder)
    try:
        ours = run_ours(base, labels, args.applications, args.think_ms, sizes, args.shot, args.scrolls)
    finally:
        process.terminate()
        process.wait(timeout=20)
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    for result in ours:
        print(f"  open {result['length']:,} chars / {result['codings']:,} codings: first stripes after {result['opened']:.1f} s, "
              f"{result['opened_bytes'] / 1e6:.2f} MB received over the websocket; {result['stripes']} stripes drawn at the end; "
              f"browser: text built in {result['split']['text']} ms, first stripes drawn in {result['split']['marks']} ms")
        if result["scrolled"]:
            times = [r["ms"] for r in result["scrolled"]]
            print(f"    scroll -> stripes of the passage in view, {len(times)} scrolls, ms: median {statistics.median(times):.0f}, "
                  f"p95 {percentile(times, 0.95):.0f}, max {max(times):.0f}; passage changed {sum(r['changed'] for r in result['scrolled'])}"
                  f"/{len(times)}, stripes in view (median) {statistics.median(r['inView'] for r in result['scrolled']):.0f}")
    print(f"select -> apply -> stripe, {args.applications} applications each, {args.think_ms} ms apart, ms (median / p95):")
    for result in ours:
        visible = [r["visible"] for r in result["runs"]]
        confirmed = [r["confirmed"] for r in result["runs"]]
        print(f"  {result['length']:>7,} chars, {result['codings']:>5,} codings: visible {statistics.median(visible):6.1f} / {percentile(visible, 0.95):6.1f}"
              f"   confirmed by the server {statistics.median(confirmed):6.1f} / {percentile(confirmed, 0.95):6.1f}"
              f"   (script part of visible: {statistics.median(r['script'] for r in result['runs']):.1f})"
              f"   (over 300 ms visible: {sum(v > 300 for v in visible)}; slowest {max(visible):.0f})"
              f"   (page opened in {result['opened']:.1f} s; stripes not shown at once: {result['missing']}; last answer: {result['last_status']!r})")
    if args.no_peer:
        return
    theirs = run_taguette(args.taguette_venv, folder, args.applications)
    tg_median, tg_p95 = statistics.median(theirs), percentile(theirs, 0.95)
    print(f"  Taguette {peer_version()} highlight request (50,000 chars): {tg_median:6.1f} / {percentile(theirs, 0.95):6.1f}")
    small = ours[0]
    ours_visible = statistics.median(r["visible"] for r in small["runs"])
    ours_confirmed = statistics.median(r["confirmed"] for r in small["runs"])
    print(f"ratio ours / Taguette (50k, medians): visible {ours_visible / tg_median:.2f}x, confirmed {ours_confirmed / tg_median:.2f}x "
          f"(p95 {percentile([r['visible'] for r in small['runs']], 0.95) / tg_p95:.2f}x / {percentile([r['confirmed'] for r in small['runs']], 0.95) / tg_p95:.2f}x)")
    print("targets: visible <= 150 ms median and <= 300 ms p95 (50k/500); <= 300 ms median (300k/2000)")


def peer_version() -> str:
    import peer

    return peer.TAGUETTE_VERSION


if __name__ == "__main__":
    main()
