"""Codebook workload: import, tree with counts, search, as-of and exports for a large codebook.

Builds a synthetic codebook of 40 categories x 50 codes (2,040 codes) in a temporary SQLite
database, then prints seconds per step. Run: python bench/codebook.py
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path
from casestudy import migrate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from casestudy.codebook import tree as cb
from casestudy.codebook import exchange as cio
from casestudy import study as studies
from casestudy.db import Store  # noqa: E402
from casestudy.models import utcnow  # noqa: E402

CATEGORIES, CODES = 40, 50


def timed(label, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<42} {time.perf_counter() - start:8.3f} s")
    return result


def main() -> None:
    levels = ["organization", "team", "therapist"]
    nodes = [
        {"name": f"Category {c}", "guid": str(uuid.uuid4()), "level": levels[c % 3], "codable": False, "children": [
            {"name": f"Code {c}.{i}", "level": levels[c % 3], "definition": f"Definition text {c} {i} " * 8,
             "when_to_use": "When the text talks about it.", "example": "An example.", "children": []}
            for i in range(CODES)]}
        for c in range(CATEGORIES)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.sqlite")
        migrate.upgrade(store)
        with store.write() as session:
            studies.create_study(session, "Bench")

        def do_import():
            with store.write() as session:
                return cio.import_nodes(session, studies.get_study(session), nodes)

        counts = timed(f"import {CATEGORIES * (CODES + 1)} codes (one transaction)", do_import)
        assert counts["added"] == CATEGORIES * (CODES + 1)
        middle = utcnow()
        with store.write() as session:
            study = studies.get_study(session)
            for i in range(100):
                cb.rename_code(session, cb.get_code(session, study, f"Category {i % CATEGORIES}/Code {i % CATEGORIES}.{i % CODES}"), f"Renamed {i}")
        with store.read() as session:
            study = studies.get_study(session)
            timed("tree with counts", lambda: cb.tree(session, study))
            timed("tree by level", lambda: cb.tree_by_level(session, study))
            timed("search 'Definition text 7 3'", lambda: cb.search(session, study, "Definition text 7 3"))
            timed("as-of (before 100 renames)", lambda: cb.as_of(session, study, middle))
            timed("get_code by path", lambda: cb.get_code(session, study, "Category 39/Code 39.49"))
            for fmt in cio.FORMATS:
                data = timed(f"export {fmt}", lambda fmt=fmt: cio.EXPORTERS[fmt](session, study))
                print(f"{'':<42} {len(data) / 1024:8.0f} KiB")
        yaml_text = cio.export_yaml(*_session_study(store))
        with store.write() as session:
            studies.create_study(session, "Bench 2")

        def do_yaml_import():
            with store.write() as session:
                return cio.import_data(session, studies.get_study(session, "Bench 2"), yaml_text.encode(), "yaml")

        timed("import the YAML export into a new study", do_yaml_import)
        store.dispose()


def _session_study(store):
    session = store._read_sessions()
    return session, studies.get_study(session)


if __name__ == "__main__":
    main()
