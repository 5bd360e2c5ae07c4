"""The wheel carries the package data: shipped codebooks, demo data, REFI-QDA schemas, migrations.

Also the data-directory rule of :mod:`casestudy.config` (checkout, installed, override).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_the_package_data(tmp_path):
    pytest.importorskip("setuptools")
    pytest.importorskip("wheel")
    # Built from a copy, so that build/ and *.egg-info do not land in the checkout.
    source = tmp_path / "src"
    def skip(folder: str, names: list[str]) -> set[str]:
        top = {"data", "build", ".venv"} if Path(folder) == ROOT else set()  # the checkout's own data/ only
        return {n for n in names if n in top or n in (".git", "__pycache__") or n.endswith(".egg-info")}

    shutil.copytree(ROOT, source, ignore=skip)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
        check=True, capture_output=True, text=True, cwd=tmp_path,
        env=dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1"),
    )
    (wheel,) = tmp_path.glob("casestudy-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [
        *(f"casestudy/codebook/shipped/{p.name}" for p in (ROOT / "casestudy/codebook/shipped").glob("*.yaml")),
        *(f"casestudy/panel/shipped/{p.name}" for p in (ROOT / "casestudy/panel/shipped").glob("*.yaml")),
        *(f"casestudy/reports/checklists/{p.name}" for p in (ROOT / "casestudy/reports/checklists").glob("*.yaml")),
        *(f"casestudy/demo/data/{p.name}" for p in (ROOT / "casestudy/demo/data").iterdir() if p.is_file()),
        *(f"casestudy/exchange/refi_schema/{p.name}" for p in (ROOT / "casestudy/exchange/refi_schema").glob("*.xsd")),
        *(f"casestudy/migrations/versions/{p.name}" for p in (ROOT / "casestudy/migrations/versions").glob("*.py")),
        "casestudy/migrations/env.py", "casestudy/migrations/script.py.mako", "casestudy/interviews/sentence_rules.json",
        "casestudy/ui/components/coding_workbench.js", "casestudy/ui/components/coding_workbench.css",
        "casestudy/codebook/shipped/mbt-implementation.yaml", "casestudy/panel/shipped/mbt-adherence-audit.yaml",
        "casestudy/panel/shipped/mbt-focus-group-checklist.yaml", "casestudy/demo/data/manifest.csv",
        "casestudy/demo/data/case-a-manager.txt", "casestudy/exchange/refi_schema/Codebook.xsd",
        "casestudy/exchange/refi_schema/Project-mrt2019.xsd",
    ]
    missing = sorted(set(expected) - names)
    assert not missing, missing
    assert not any("__pycache__" in n or n.startswith(("tests/", "bench/")) for n in names)
    # `pip install .` in a clean virtualenv brings the pinned runtime dependencies along.
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = {line.split(": ", 1)[1] for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines() if line.startswith("Requires-Dist: ")}
    pinned = {line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines() if line.strip() and not line.startswith("#")}
    assert {r.replace(" ", "") for r in requires} == {p.replace(" ", "") for p in pinned}


def _data_dir(env: dict, cwd: Path, pythonpath: str | None) -> str:
    env = {k: v for k, v in env.items() if k != "CASESTUDY_DATA_DIR"} | ({"PYTHONPATH": pythonpath} if pythonpath else {})
    return subprocess.run([sys.executable, "-c", "from casestudy import config; print(config.DATA_DIR)"],
                          cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def test_data_dir_rule(tmp_path):
    env = dict(os.environ)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # a source checkout: its data/ folder, whatever the working directory
    assert _data_dir(env, elsewhere, str(ROOT)) == str(ROOT / "data")
    # an installed copy (no pyproject.toml beside the package): ./data under the working directory
    site = tmp_path / "site-packages"
    shutil.copytree(ROOT / "casestudy", site / "casestudy", ignore=shutil.ignore_patterns("__pycache__", "ui"))
    assert _data_dir(env, elsewhere, str(site)) == str(elsewhere / "data")
    # the override wins
    override = subprocess.run([sys.executable, "-c", "from casestudy import config; print(config.DATA_DIR)"], cwd=elsewhere,
                              env=env | {"PYTHONPATH": str(site), "CASESTUDY_DATA_DIR": str(tmp_path / "x")},
                              check=True, capture_output=True, text=True).stdout.strip()
    assert override == str(tmp_path / "x")
