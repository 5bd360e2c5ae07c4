"""Start-up time of the command line, against the floor set by its two base libraries.

    python bench/startup.py            # 7 runs of each command, medians
    python bench/startup.py --runs 15

Method: each command runs N times in a fresh subprocess (the same interpreter as this script,
working directory the repository root, ``PYTHONPATH`` = the repository root so its ``casestudy``
package is the one imported, output discarded); the wall-clock time of a run is measured around
``subprocess.run`` with ``time.perf_counter`` and covers the interpreter start-up, the imports
and the command itself. Reported: the median of the N runs, in seconds, and its ratio to the
baseline's median. The commands:

* baseline: ``python -c "import sqlalchemy.orm, yaml"`` (what any database command must load);
* ``python -m casestudy --help``;
* ``python -m casestudy --db sqlite:///<tmp>/bench.sqlite cases list``, on a temporary database
  made once beforehand with ``db upgrade`` and ``init --title Bench``.

``PYTHONDONTWRITEBYTECODE`` is removed from the children's environment and one uncounted run of
each command comes first, so the figures are with byte-compiled modules (``__pycache__``), as
for an installed package; source compilation is not start-up cost.

The target is a ratio of at most 1.5 for both commands; the script prints whether it is met and
asserts nothing (machines differ; a loaded machine moves all figures).

What the imports cost before the lazy loading (``python -X importtime -m casestudy --help``,
cumulative, 2 cores, Python 3.11; one run, so +-20%): ``--help`` took 2.4-2.8 s, with
casestudy.reports.reliability 0.72 s (SciPy stats 0.55 s, numpy), casestudy.backup 0.67 s
(alembic 0.44 s), casestudy.coding.suggestions 0.17 s (scikit-learn's import chain via
spans/agreement), casestudy.security 0.14 s (argon2), plus plotly, lxml, python-docx, openpyxl,
rapidfuzz and the other stage modules. After: the command modules name their library modules
with ``casestudy.cli.lazy_module`` (imported by the handler on first use) and take argparse
choices from leaf ``casestudy.<stage>.constants`` modules, so ``--help`` loads no stage module
and not even SQLAlchemy; ``cases list`` loads SQLAlchemy, the table classes (declarative mapping
of ~30 classes: ~0.13 s) and casestudy.study, and skips Alembic when the database is already at
every script head (``casestudy.db.schema_is_current``). Building the argparse tree (~400
parsers) costs ~0.07 s, half of it gettext looking up catalogues for each parser.
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
    env.setdefault("CASESTUDY_AUTOLOAD_DEMO", "0")
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


def median_seconds(args: list[str], runs: int, env: dict[str, str]) -> float:
    run_once(args, env)  # warm the file cache and the bytecode cache; not counted
    return statistics.median(run_once(args, env) for _ in range(runs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (median reported)")
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
        medians = {label: median_seconds(args, options.runs, env) for label, args in commands}
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
