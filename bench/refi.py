"""REFI-QDA exchange: export the demo study as .qdpx and import it back into a new study.

Loads the demo into a temporary SQLite database, adds N codings spread over the transcripts
(default 2,000, two coders), then prints seconds per step and the archive size.
Run: python bench/refi.py [N]
"""

from __future__ import annotations

import io
import random
import zipfile
import sys
import tempfile
import time
from pathlib import Path
from casestudy.exchange import export as exchange_export
from casestudy.exchange import importer
from casestudy.exchange import schema
from casestudy import demo
from casestudy import migrate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from casestudy.codebook import tree as cb
from casestudy import study as studies
from casestudy import users
from casestudy.db import Store  # noqa: E402
from casestudy.models import Coding, Interview  # noqa: E402


def timed(label, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<42} {time.perf_counter() - start:8.3f} s")
    return result


def main(n: int = 2000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.sqlite")
        migrate.upgrade(store)
        timed("load demo", lambda: demo.load_demo(store))
        rng = random.Random(7)
        with store.write("bench") as session:
            study = studies.get_study(session)
            coders = [users.get_user(session, "coder1"), users.get_user(session, "coder2")]
            codes = [c for c in cb.all_codes(session, study) if c.codable]
            texts = list(session.scalars(select(Interview).where(Interview.study_id == study.id)))
            seen = set()
            for _ in range(n):
                interview, code, coder = rng.choice(texts), rng.choice(codes), rng.choice(coders)
                start = rng.randrange(0, len(interview.text) - 200)
                key = (interview.id, code.id, coder.id, start)
                if key in seen:
                    continue
                seen.add(key)
                session.add(Coding(study_id=study.id, interview_id=interview.id, code_id=code.id, coder_id=coder.id,
                                   start=start, end=start + rng.randrange(20, 200), start_line=1, end_line=1))
        buffer = io.BytesIO()
        with store.write("bench") as session:
            report = timed(f"export .qdpx ({len(seen)} codings)", lambda: exchange_export.export_qdpx(session, studies.get_study(session), buffer))
        data = buffer.getvalue()
        print(f"{'archive size':<42} {len(data) / 1024:8.1f} KB")
        timed("validate project.qde against the XSD", lambda: schema.validate_project(zipfile.ZipFile(io.BytesIO(data)).read("project.qde")))
        with store.write("bench") as session:
            result = timed("import .qdpx into a new study", lambda: importer.import_qdpx(session, data, title="bench import"))
        print(f"{'sources / codings imported':<42} {result['sources']} / {result['codings']} (exported {report['codings']})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
