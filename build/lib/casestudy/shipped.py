"""Files shipped inside the package and loaded by name (codebooks, rating instruments).

A stage keeps its shipped files in one folder of package data (``<stage>/shipped/``, listed in
``pyproject.toml``); a file's name without its suffix is the name a user types. Both functions
only look inside that folder, so a name can never reach another path.
"""

from __future__ import annotations

from pathlib import Path

from casestudy.errors import UserError


def shipped_files(folder: Path, suffix: str = ".yaml") -> list[Path]:
    """The files ending in ``suffix`` in ``folder``, sorted by name."""
    return sorted(folder.glob(f"*{suffix}"))


def shipped_file(folder: Path, name: str, what: str, suffix: str = ".yaml") -> Path:
    """The shipped file called ``name``; UserError 'no shipped <what> ...' listing the names available."""
    files = {path.stem: path for path in shipped_files(folder, suffix)}
    if name not in files:
        raise UserError(f"no shipped {what} {name!r}; available: {', '.join(files)}")
    return files[name]
