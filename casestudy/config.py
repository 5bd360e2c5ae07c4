"""Settings read from the environment, with the embedded defaults.

The data directory (the default SQLite database, the log file, backups beside the database):

* ``$CASESTUDY_DATA_DIR`` when set;
* else, in a source checkout (the package sits in a folder that also holds ``pyproject.toml``
  and ``alembic.ini``, e.g. after ``pip install -e .`` or with ``PYTHONPATH``), that checkout's
  ``data/`` folder, which ``make run`` uses, whatever the working directory;
* else (an installed wheel, the package in site-packages), ``./data`` under the current working
  directory at start-up.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def source_checkout() -> Path | None:
    """The repository root when the package runs from a source checkout, else ``None``."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() and (root / "alembic.ini").is_file() else None


def default_data_dir() -> Path:
    """The data directory by the rule in the module docstring."""
    if os.environ.get("CASESTUDY_DATA_DIR"):
        return Path(os.environ["CASESTUDY_DATA_DIR"])
    root = source_checkout()
    return root / "data" if root is not None else Path.cwd() / "data"


# The checkout's root, or (installed) the folder that holds the package (site-packages).
PROJECT_ROOT = source_checkout() or PACKAGE_DIR.parent
DATA_DIR = default_data_dir()
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'casestudy.sqlite'}"
LOG_FILE = DATA_DIR / "casestudy.log"

# Transcript and other uploads larger than this are refused (bytes).
MAX_UPLOAD_BYTES = int(os.environ.get("CASESTUDY_MAX_UPLOAD_MB", "25")) * 1024 * 1024
# A researcher's browser session ends after this many idle minutes.
SESSION_IDLE_MINUTES = int(os.environ.get("CASESTUDY_SESSION_IDLE_MINUTES", "30"))
# ... and at the latest this many hours after the login, however active.
SESSION_MAX_HOURS = int(os.environ.get("CASESTUDY_SESSION_MAX_HOURS", "12"))

# The demo accounts and their published passwords (README, `make run`). They sign in only on a
# server in demo mode (:func:`demo_mode`), so a production install never accepts them.
DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_PASSWORD = "demo-admin-2026"
DEMO_CODER_USERNAMES = ("coder1", "coder2")
DEMO_CODER_PASSWORD = "demo-coder-2026"


def demo_mode() -> bool:
    """Whether this server runs the demo (``CASESTUDY_DEMO=1``, which ``make run`` sets).

    Read at every call, so a test or a restarted server sees the current environment.
    """
    return os.environ.get("CASESTUDY_DEMO", "0").strip().lower() in ("1", "true", "yes")


def is_demo_credential(username: str, password: str) -> bool:
    """True for a demo account's user name with its published password (any case of the name)."""
    name = username.strip().lower()
    if name == DEMO_ADMIN_USERNAME:
        return password == DEMO_ADMIN_PASSWORD
    return name in DEMO_CODER_USERNAMES and password == DEMO_CODER_PASSWORD


def database_url(explicit: str | None = None) -> str:
    """The database URL: an explicit one, then CASESTUDY_DATABASE_URL, then the SQLite file."""
    return explicit or os.environ.get("CASESTUDY_DATABASE_URL") or DEFAULT_DATABASE_URL
