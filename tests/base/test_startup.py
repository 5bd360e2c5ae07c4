"""Start-up stays light: importing the CLI and building its parser loads no heavy library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sklearn", "spacy", "scipy", "plotly", "pandas", "docx", "openpyxl", "lxml")

PROBE = """
import json, sys
import casestudy.cli
casestudy.cli.build_parser()            # every command's full tree
casestudy.cli.build_parser(sys.argv[1:])  # the tree main() builds for one command
print(json.dumps(sorted(m for m in sys.modules)))
"""


def _modules_after(*argv: str) -> set[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return set(json.loads(out))


def _heavy(modules: set[str]) -> list[str]:
    return [name for name in HEAVY if any(m == name or m.startswith(name + ".") for m in modules)]


def test_building_the_parser_loads_no_heavy_library():
    modules = _modules_after("--help")
    assert _heavy(modules) == []
    # nor any stage module beyond the leaf constants modules the argparse choices come from
    stage = [m for m in modules if m.count(".") >= 2 and m.startswith("casestudy.") and not m.startswith("casestudy.cli")]
    assert all(m.endswith(".constants") for m in stage), stage


def test_parser_for_one_command_loads_no_heavy_library():
    for argv in (["report", "table2", "--help"], ["codebook", "show"], ["--db", "sqlite://", "cases", "list"]):
        assert _heavy(_modules_after(*argv)) == [], argv


def test_lazy_module_loads_on_first_use():
    code = (
        "import sys\n"
        "from casestudy.cli import lazy_module\n"
        "tree = lazy_module('casestudy.codebook.tree')\n"
        "assert 'casestudy.codebook.tree' not in sys.modules\n"
        "assert callable(tree.tree)\n"
        "assert 'casestudy.codebook.tree' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), check=True)


def test_schema_check_without_alembic(tmp_path):
    from casestudy import db, migrate

    assert migrate.script_heads()  # the heads of the migration scripts, read without Alembic
    store = db.Store(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    assert not migrate.schema_is_current(store)  # no version table yet: Alembic decides
    migrate.upgrade(store)
    assert migrate.schema_is_current(store)
    assert migrate.upgrade(store) is None
    store.dispose()


def test_console_entry_closes_the_database_and_keeps_exit_codes(tmp_path):
    url = f"sqlite:///{tmp_path / 'entry.sqlite'}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    def casestudy(*argv):
        return subprocess.run([sys.executable, "-m", "casestudy", "--db", url, *argv], cwd=tmp_path, env=env,
                              capture_output=True, text=True)

    assert casestudy("db", "upgrade").returncode == 0
    missing = casestudy("cases", "list")
    assert missing.returncode == 2 and missing.stderr.startswith("error: there is no study yet")
    assert casestudy("init", "--title", "Entry").returncode == 0
    listed = casestudy("--format", "json", "cases", "list")
    assert listed.returncode == 0 and listed.stdout.strip() == "[]"
    assert casestudy("cases", "nosuch").returncode == 2
    # the stores were closed before exit: SQLite checkpointed and removed its WAL files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry.sqlite"]
