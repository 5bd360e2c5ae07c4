"""A study where a 50,000-row ``codings import`` and the expert panel meet (tests and bench/load.py).

``build(store, folder)`` makes one study with three released case texts, the default
questionnaire, ``experts`` invited experts, a 300,000-character interview, one code and a coder,
and writes ``codings.csv`` with ``rows`` distinct codings of that interview. ``save_by_link`` is
the expert page's save path: the link's token checked on every rerun (``access.resolve_token``),
then one short writing transaction with ``panel.answers.save_answer``. ``refi_archive`` exports
such a study with its ``rows`` codings as a REFI-QDA project (a heavy ``import qdpx``).
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from casestudy import access, users
from casestudy.errors import UserError
from casestudy import study as studies
from casestudy.codebook import tree as codebook
from casestudy.interviews import store as interviews_store
from casestudy.masking import workflow as masking_workflow
from casestudy.panel import answers as panel_answers
from casestudy.panel import members as panel_members
from casestudy.panel import questionnaire as panel_questionnaire

ACTOR = "setup"
TEXT_CHARS = 300_000
CODER = "importer"
CODE = "Leadership"
RATED = ("combination", "organization", "team", "therapist")


@dataclass(frozen=True)
class HeavyImport:
    study_id: int
    csv_path: Path
    rows: int
    secrets: tuple[str, ...]  # one link secret per expert
    case_labels: tuple[str, ...]  # the public labels the experts rate


def build(store, folder: Path, rows: int = 50_000, experts: int = 4, seed: int = 21) -> HeavyImport:
    rng = random.Random(seed)
    with store.write(ACTOR) as session:
        study = studies.create_study(session, "Panel during a bulk import")
        cases = []
        for k in range(3):
            case = studies.add_case(session, study, f"Unit {k + 1}", f"Case {'ABC'[k]}", f"Kliniek {k + 1}")
            masked = masking_workflow.generate_masked(session, case, f"The programme of case {k + 1} ran for two years.\n\nThe team stayed.")
            masking_workflow.accept_all(session, masked.id)
            masking_workflow.release(session, masked.id, ACTOR, allow_open_candidates=True)
            cases.append(case)
        panel_questionnaire.create_default_questionnaire(session, study)
        secrets = []
        for n in range(experts):
            member = panel_members.add_member(session, study, f"Expert {n + 1}", f"expert{n + 1}@example.org", "Some Org")
            secrets.append(panel_members.invite(session, study, member, "http://app")["link"].split("token=")[1])
        studies.add_member(session, study, users.add_user(session, CODER, "importer password 2026", "coder"))
        codebook.add_code(session, study, CODE, "team")
        studies.add_respondent(session, cases[0], "R1", "manager")
        lines, size, n = [], 0, 0
        while size < TEXT_CHARS:
            line = f"Respondent: sentence {n} about the team, the ward and the budget of the programme."
            lines.append(line)
            size += len(line) + 1
            n += 1
        text = "\n".join(lines)[:TEXT_CHARS]
        [interview] = interviews_store.import_interviews(
            session, study, [interviews_store.ImportItem("heavy.txt", text.encode(), "Case A", "R1")])
        study_id, file_name, length = study.id, interview.file_name, len(interview.text)
    spans, seen = [], set()
    while len(spans) < rows:
        start = rng.randrange(0, length - 700)
        span = (start, start + rng.randint(30, 600))
        if span not in seen:
            seen.add(span)
            spans.append(span)
    path = folder / "codings.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["interview", "coder", "code", "start", "end", "memo"])
        writer.writerows([file_name, CODER, CODE, start, end, ""] for start, end in spans)
    principal = access.resolve_token(store, secrets[0])
    with store.read() as session:
        labels = tuple(c.label for c in panel_answers.expert_view(session, principal).cases)
    return HeavyImport(study_id, path, rows, tuple(secrets), labels)


def refi_archive(folder: Path, rows: int, experts: int = 1) -> Path:
    """The heavy study with its ``rows`` codings as ``folder/heavy.qdpx``, made in a scratch SQLite
    database of its own (``folder/scratch``)."""
    from casestudy import db, migrate
    from casestudy.coding import spans
    from casestudy.exchange import export

    scratch_folder = folder / "scratch"
    scratch_folder.mkdir(parents=True, exist_ok=True)
    scratch = db.Store(f"sqlite:///{scratch_folder / 'scratch.sqlite'}")
    try:
        migrate.upgrade(scratch)
        heavy = build(scratch, scratch_folder, rows=rows, experts=experts)
        with scratch.write(ACTOR) as session:
            spans.import_codings_csv(session, studies.get_study(session, heavy.study_id), heavy.csv_path.read_text(encoding="utf-8"))
        path = folder / "heavy.qdpx"
        with scratch.read() as session:
            export.export_qdpx(session, studies.get_study(session, heavy.study_id), path)
    finally:
        scratch.dispose()
    return path


def save_by_link(store, secret: str, item_key: str, value, case_label: str | None = None) -> dict:
    """One answer saved as the expert page saves it (token check, then one short write)."""
    principal = access.resolve_token(store, secret)
    with store.write(principal.actor) as session:
        return panel_answers.save_answer(session, principal, item_key, value, case_label)


@dataclass
class SavesDuring:
    """What an expert's saves met while a CLI command ran: the command's exit code and output,
    how many saves were stored, the save latencies (seconds, sorted) and the failures' messages."""

    returncode: int
    out: str
    err: str
    saved: int
    latencies: list[float]
    failures: list[str]


def saves_during_cli(store, setup: HeavyImport, *args: str, what: str = "the import") -> SavesDuring:
    """Run ``python -m casestudy --db <store> *args`` in its own process (as an administrator does
    beside the server) while the first expert of ``setup`` saves back to back by link until it ends."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen([sys.executable, "-m", "casestudy", "--db", store.url, *args], cwd=root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    latencies, failures, saved = [], [], 0
    try:
        while process.poll() is None:
            started = time.perf_counter()
            try:
                save_by_link(store, setup.secrets[0], "team", saved % 6, setup.case_labels[saved % len(setup.case_labels)])
                saved += 1
            except UserError as exc:
                failures.append(exc.message)
            latencies.append(time.perf_counter() - started)
        out, err = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
    latencies.sort()
    print(f"{saved} saves during {what}; latency p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms; {len(failures)} failed")
    return SavesDuring(process.returncode, out, err, saved, latencies, failures)
