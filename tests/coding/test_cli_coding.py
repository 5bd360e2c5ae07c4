"""The coding CLI over the library: import/export, retrieval, matrices, agreement."""

from __future__ import annotations

import csv
import io
import json

from tests.coding.test_coding import setup  # noqa: F401  (fixture)


def test_codings_cli_round_trip(cli, store, setup, tmp_path):  # noqa: F811
    db = store.url
    from tests.coding.test_coding import TEXT_MANAGER

    text = TEXT_MANAGER
    start = text.index("Leadership was strong")
    assert cli("--db", db, "codings", "apply", str(setup["manager"]), "--code", "Leadership", "--coder", "coder1", "--start", start, "--end", start + 21).code == 0
    path = tmp_path / "in.csv"
    path.write_text(f"interview,coder,code,start,end\nmanager.txt,coder2,Leadership,{start},{start + 21}\n", encoding="utf-8")
    result = cli("--db", db, "codings", "import", path)
    assert result.code == 0 and "stored 1 new coding(s)" in result.out
    listed = json.loads(cli("--db", db, "codings", "list", str(setup["manager"]), "--format", "json").out)
    assert [(c["coder"], c["text"]) for c in listed] == [("coder1", "Leadership was strong"), ("coder2", "Leadership was strong")]
    blind = json.loads(cli("--db", db, "codings", "list", str(setup["manager"]), "--blind-as", "coder2", "--format", "json").out)
    assert [c["coder"] for c in blind] == ["coder2"]
    rows = list(csv.DictReader(io.StringIO(cli("--db", db, "codings", "export", "--format", "csv").out, newline="")))
    assert len(rows) == 2 and rows[0]["code"] == "Leadership"
    assert "is binary: pass --output" in cli("--db", db, "codings", "export", "--format", "xlsx").err
    assert cli("--db", db, "codings", "export", "--format", "xlsx", "--output", tmp_path / "s.xlsx").code == 0
    agreement = json.loads(cli("--db", db, "agreement", "--coders", "coder1", "coder2", "--unit", "character", "--format", "json").out)
    assert agreement["unit"] == "character" and agreement["overall"]["percent_agreement"] == 1.0
    printed = cli("--db", db, "agreement", "--coders", "coder1", "coder2", "--format", "table").out
    assert "Agreement (%)" in printed and "100.0" in printed and "1.0\n" not in printed  # the printed table, rounded
    matrix = json.loads(cli("--db", db, "matrix", "--format", "json").out)
    assert (matrix["rows"], matrix["columns"], matrix["matrix"]) == (["Case A"], ["Leadership"], [[1]])  # one passage, coded by both
    retrieved = json.loads(cli("--db", db, "retrieve", "--code", "Leadership", "--coder", "coder2", "--format", "json").out)
    assert [r["text"] for r in retrieved] == ["Leadership was strong"]


def test_codings_cli_bad_input(cli, store, setup, tmp_path):  # noqa: F811
    db = store.url
    for argv, expected in [
        (["codings", "apply", str(setup["manager"]), "--code", "Leadership", "--coder", "coder1", "--start", "9", "--end", "3"], "must come after"),
        (["codings", "apply", "999", "--code", "Leadership", "--coder", "coder1", "--start", "0", "--end", "3"], "no interview 999"),
        (["codings", "apply", str(setup["manager"]), "--code", "Nope", "--coder", "coder1", "--start", "0", "--end", "3"], "Nope"),
        (["codings", "apply", str(setup["manager"]), "--code", "Leadership", "--coder", "ghost", "--start", "0", "--end", "3"], "unknown coder"),
        (["codings", "import", str(tmp_path / "missing.csv")], "cannot read"),
        (["agreement", "--coders", "coder1"], "two different coders"),
    ]:
        result = cli("--db", db, *argv)
        assert result.code == 2 and result.err.startswith("error:") and expected in result.err, (argv, result)
