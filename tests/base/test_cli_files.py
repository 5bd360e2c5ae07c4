"""The one reader of CLI input files: stdin, BOM, size limit, one message per problem."""

from __future__ import annotations

import io
import sys

import pytest

from casestudy import config
from casestudy.cli import files
from casestudy.errors import UserError


def test_text_with_a_bom_and_without(tmp_path):
    (tmp_path / "bom.csv").write_bytes("\ufeffa,b\n".encode("utf-8"))
    (tmp_path / "plain.csv").write_bytes(b"a,b\n")
    assert files.read_text(tmp_path / "bom.csv") == files.read_text(tmp_path / "plain.csv") == "a,b\n"
    assert files.read_bytes(tmp_path / "plain.csv") == b"a,b\n"


def test_dash_reads_standard_input(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("\ufeffcase,x\n".encode("utf-8"))))
    assert files.read_text("-", "ratings") == "case,x\n"


@pytest.mark.parametrize("make, message", [
    (lambda p: p, "cannot read ratings file .*missing.csv: it was not found"),
    (lambda p: p.parent, "is a folder"),
])
def test_missing_and_folder(tmp_path, make, message):
    with pytest.raises(UserError, match=message):
        files.read_text(make(tmp_path / "missing.csv"), "ratings")


def test_not_utf8_and_too_large(tmp_path, monkeypatch):
    (tmp_path / "latin.csv").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(UserError, match="latin.csv is not UTF-8 text"):
        files.read_text(tmp_path / "latin.csv", "mapping")
    monkeypatch.setattr(config, "MAX_UPLOAD_BYTES", 10)
    (tmp_path / "big.csv").write_bytes(b"x" * 11)
    with pytest.raises(UserError, match="limited to"):
        files.read_bytes(tmp_path / "big.csv")
