"""The one reader for the files a CLI command takes as input.

Every command reads its input files through :func:`read_bytes` or :func:`read_text`, so they all
behave alike: ``-`` reads standard input; a file larger than the upload limit
(``CASESTUDY_MAX_UPLOAD_MB``, as for uploads in the app) is refused before it is read whole; text
is UTF-8 with an optional byte-order mark (removed); a missing, unreadable or non-UTF-8 file is
one ``UserError`` naming the file (``error: ...``, exit 2).
"""

from __future__ import annotations

import sys
from pathlib import Path

from casestudy import security
from casestudy.errors import UserError
from casestudy.text import decode_utf8

STDIN = "-"


def read_bytes(path: str | Path, what: str = "input") -> bytes:
    """The bytes of ``path`` (``-``: standard input), at most the upload limit."""
    name = "standard input" if str(path) == STDIN else str(path)
    try:
        if str(path) == STDIN:
            return security.read_upload(f"{what} from {name}", sys.stdin.buffer)
        with open(path, "rb") as stream:
            return security.read_upload(f"{what} file {name}", stream)
    except FileNotFoundError:
        raise UserError(f"cannot read {what} file {name}: it was not found")
    except IsADirectoryError:
        raise UserError(f"{what} file {name} is a folder, not a file")
    except OSError as exc:
        raise UserError(f"cannot read {what} file {name}: {exc.strerror or exc}")


def read_text(path: str | Path, what: str = "input") -> str:
    """The text of ``path`` (``-``: standard input) as UTF-8, a byte-order mark removed."""
    name = "standard input" if str(path) == STDIN else str(path)
    return decode_utf8(f"{what} file {name}", read_bytes(path, what), retry="run the command again")
