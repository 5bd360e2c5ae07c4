"""Start-up time of the command line, against the floor set by its two base libraries.

    python bench/startup.py            # 7 rounds, medians
    python bench/startup.py --runs 15

Method: N rounds; each round runs each command once, in turn, in a fresh subprocess (the same
interpreter as this script, working directory the repository root, ``PYTHONPATH`` = the
repository root so its ``casestudy`` package is the one imported, output discarded). Rounds
interleave the commands so that a change in machine load hits all of them alike. The wall-clock
time of a run is measured around ``subprocess.run`` with ``time.perf_counter`` and covers the
interpreter start-up, the imports, the command and the interpreter's exit. Reported: the median
of the N runs of each command, in seconds, and its ratio to the baseline's median. Commands:

* baseline: ``python -c "import sqlalchemy.orm, yaml"`` (what any database command must load);
* ``python -m casestudy --help``;
* ``python -m casestudy --db sqlite:///<tmp>/bench.sqlite cases list``, on a temporary database
  made once beforehand with ``db upgrade`` and ``init --title Bench``.

``PYTHONDONTWRITEBYTECODE`` is removed from the children's environment and one uncounted round
comes first, so the figures are with byte-compiled modules (``__pycache__``), as for an
installed package; source compilation is not start-up cost.

The target is a ratio of at most 1.5 for both commands; the script prints whether it is met and
asserts nothing (machines differ; a loaded machine moves all figures: on the shared 2-core
machine of issue 14 successive runs of the same code gave 1.2x-1.6x for ``cases list``).

Findings (issue 14; ``python -X importtime``, cumulative, Python 3.11, 2 cores; +-20%).
Before (this script on the parent commit, byte-compiled): ``--help`` 2.24 s and ``cases list``
2.24 s against a baseline of 0.47 s (4.7x). ``--help``: casestudy.reports.reliability 0.72 s (SciPy
stats 0.55 s, numpy), casestudy.backup 0.67 s (alembic 0.44 s), casestudy.coding.suggestions
0.17 s (the scikit-learn chain via spans/agreement), casestudy.security 0.14 s (argon2), plus
plotly, lxml, python-docx, openpyxl, rapidfuzz and every other stage module; ``cases list`` also
read Alembic's script directory on every start (``get_store`` upgrades).
After: the command modules name their library modules with ``casestudy.cli.lazy_module``
(imported when a handler first uses them) and take argparse choices from leaf
``casestudy.<stage>.constants`` modules, so ``--help`` loads no stage module, not even
SQLAlchemy (~0.1 s, 0.2x). ``cases list`` (~0.6 s, 1.2-1.6x) pays, beyond the baseline: the
table classes (declarative mapping of ~30 classes with string annotations: ~0.1 s), the first
query (mapper configuration and SQL compilation: ~0.05 s) and the parser (~0.05 s: importing
the command modules and building the one requested command's tree; all ~400 parsers cost
~0.07 s more, half of it gettext). Three further cuts: Alembic is skipped when the database is
at every script head (``casestudy.db.schema_is_current``, ~0.25 s); only the requested command's
parser tree is built (``build_parser(argv)``); the console entry ``casestudy.cli.run`` closes the
stores and freezes the heap before exit, which spares the interpreter's final garbage
collections over SQLAlchemy's objects (0.1-0.3 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.5


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # Byte-compiled modules, as an installed package has them (pip compiles on install): with
    # PYTHONDONTWRITEBYTECODE set, every run would compile casestudy's sources again (~0.1 s).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_once(args: list[str], env: dict[str, str]) -> float:
    """Seconds of one run of ``python ARGS`` in a fresh process (fails loudly on a non-zero exit)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="rounds: runs per command (median reported)")
    options = parser.parse_args(argv)
    env = _env()
    with tempfile.TemporaryDirectory(prefix="casestudy-startup-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        env["CASESTUDY_DATA_DIR"] = tmp  # the log file and any default database stay in the temp dir
        for setup in (["db", "upgrade"], ["init", "--title", "Bench"]):
            subprocess.run([sys.executable, "-m", "casestudy", "--db", url, *setup], cwd=ROOT, env=env,
                           check=True, stdout=subprocess.DEVNULL)
        commands = [
            ("baseline: import sqlalchemy.orm, yaml", ["-c", "import sqlalchemy.orm, yaml"]),
            ("casestudy --help", ["-m", "casestudy", "--help"]),
            ("casestudy --db URL cases list", ["-m", "casestudy", "--db", url, "cases", "list"]),
        ]
        for _, args in commands:  # warm the file cache and write the bytecode cache; not counted
            run_once(args, env)
        times: dict[str, list[float]] = {label: [] for label, _ in commands}
        for _ in range(options.runs):
            for label, args in commands:
                times[label].append(run_once(args, env))
        medians = {label: statistics.median(values) for label, values in times.items()}
    baseline = medians[commands[0][0]]
    print(f"median of {options.runs} runs each, wall-clock seconds, fresh process per run")
    met = True
    for label, seconds in medians.items():
        ratio = seconds / baseline
        if label != commands[0][0]:
            met = met and ratio <= TARGET_RATIO
        print(f"  {label:<40} {seconds:7.3f} s  {ratio:5.2f}x baseline")
    print(f"target (<= {TARGET_RATIO}x baseline for both commands): {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
