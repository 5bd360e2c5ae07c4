"""The codebook commands, run in-process."""

from __future__ import annotations

import json

import openpyxl
from lxml import etree

XSD = "/work/shared/refi-qda/Codebook.xsd"


def test_show_get_search_and_exports(demo_store, cli, tmp_path):
    db = demo_store.url
    shown = cli("--db", db, "codebook", "show", "--format", "json")
    assert shown.code == 0
    rows = json.loads(shown.out)
    assert len(rows) == 44 and rows[0]["path"] == "Organization" and rows[0]["count"] == 0
    table = cli("--db", db, "codebook", "show")
    assert "  Organisational commitment and support" in table.out
    got = json.loads(cli("--db", db, "codebook", "get", "Primary clinician", "--format", "json").out)
    assert got["path"] == "Team/Primary clinician" and got["version"] == 1 and got["when_not_to_use"]
    hits = json.loads(cli("--db", db, "codebook", "search", "drop-out", "--format", "json").out)
    assert "Team/Commitment and drop-out" in [h["path"] for h in hits]
    for fmt in ("yaml", "csv", "xlsx", "qdc"):
        result = cli("--db", db, "codebook", "export", "--format", fmt, "--output", tmp_path / f"c.{fmt}")
        assert result.code == 0, result
    etree.XMLSchema(etree.parse(XSD)).assertValid(etree.parse(str(tmp_path / "c.qdc")))
    assert openpyxl.load_workbook(tmp_path / "c.xlsx").active["A1"].value == "path"
    assert cli("--db", db, "codebook", "export", "--format", "csv").out.startswith("path,guid,level")
    assert "XLSX is a binary format" in cli("--db", db, "codebook", "export", "--format", "xlsx").err


def test_import_into_new_study_and_errors(store, cli, tmp_path):
    db = store.url
    assert cli("--db", db, "init", "--title", "Fresh").code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("codes:\n- name: A\n  level: board\n")
    result = cli("--db", db, "codebook", "import", bad)
    assert result.code == 2 and result.err == "error: code 'A': unknown level 'board'; this study's levels are: organization, team, therapist\n"
    assert json.loads(cli("--db", db, "codebook", "show", "--format", "json").out) == []
    good = tmp_path / "good.csv"
    good.write_text("path,level,definition,extra\nA,team,First,\nA/B,,Second,\n")
    result = cli("--db", db, "codebook", "import", good)
    assert result.code == 0 and "2 added" in result.out and "not carried over: column 'extra'" in result.out
    again = cli("--db", db, "codebook", "import", good)
    assert again.code == 2 and "import with --replace to update it" in again.err
    replaced = cli("--db", db, "codebook", "import", good, "--replace", "--format", "json")
    assert json.loads(replaced.out)["updated"] == 0


def test_scriptable_operations(store, cli):
    db = store.url
    cli("--db", db, "init", "--title", "Ops")
    run = lambda *a: cli("--db", db, "codebook", *a)  # noqa: E731
    assert run("add", "Support", "--level", "organization", "--definition", "Backing.", "--colour", "#0a0", "--polarity", "both").code == 0
    assert run("add", "Board", "--parent", "Support", "--short", "The board.").code == 0
    assert "unknown level" in run("add", "X", "--level", "system").err
    assert "already exists under 'Support'" in run("add", "board", "--parent", "Support").err
    assert run("add", "Money", "--level", "organization", "--category").code == 0
    assert run("edit", "Board", "--name", "Board support", "--expected-version", "1").code == 0
    assert "someone else saved" in run("edit", "Board support", "--definition", "x", "--expected-version", "1").err
    assert "nothing to change" in run("edit", "Board support").err
    assert run("move", "Board support", "--to", "Money").code == 0
    assert "cycle" in run("move", "Money", "--to", "Money/Board support").err
    assert "give either --to PARENT or --top" in run("move", "Money").err
    assert run("move", "Money", "--top").code == 0
    merged = json.loads(run("merge", "Money", "Support", "--format", "json").out)
    assert (merged["source"], merged["target"]) == ("Money", "Support") and not any(merged["moved"].values())
    assert run("split", "Support", "Support from peers").code == 0
    assert "invalid --move" in run("split", "Support", "Y", "--move", "codings:a").err
    assert run("retire", "Support from peers").code == 0
    shown = {r["path"]: r["status"] for r in json.loads(run("show", "--all", "--format", "json").out)}
    assert shown == {"Support": "active", "Support/Board support": "active", "Money": "merged into Support", "Support from peers": "retired"}
    assert json.loads(run("as-of", "2000-01-01", "--format", "json").out) == []
    assert len(json.loads(run("show", "--as-of", "2999-01-01", "--format", "json").out)) == 2
    history = json.loads(run("history", "Board support", "--format", "json").out)
    assert [h["action"] for h in history] == ["create", "update", "update", "update"]  # rename, move, moved by the merge
    assert "invalid date" in run("as-of", "yesterday").err


def test_shipped_codebooks_are_listed_and_imported_by_name(store, cli):
    db = store.url
    listed = cli("codebook", "shipped", "--format", "json")
    assert listed.code == 0, listed
    names = {r["name"]: r for r in json.loads(listed.out)}
    assert {"mbt-implementation", "empty-three-level"} <= set(names) and names["mbt-implementation"]["codes"] == 44
    assert "mbt-implementation" in cli("codebook", "shipped").out
    assert cli("--db", db, "init", "--title", "Shipped").code == 0
    imported = cli("--db", db, "codebook", "import", "--shipped", "mbt-implementation", "--format", "json")
    assert imported.code == 0, imported
    assert json.loads(imported.out)["added"] == 44
    unknown = cli("--db", db, "codebook", "import", "--shipped", "nope")
    assert unknown.code == 2 and "no shipped codebook 'nope'" in unknown.err
    neither = cli("--db", db, "codebook", "import")
    assert neither.code == 2 and "--shipped NAME" in neither.err
