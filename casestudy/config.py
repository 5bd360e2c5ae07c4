"""Settings read from the environment, with the embedded defaults."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CASESTUDY_DATA_DIR", PROJECT_ROOT / "data"))
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'casestudy.sqlite'}"
LOG_FILE = DATA_DIR / "casestudy.log"

# Transcript and other uploads larger than this are refused (bytes).
MAX_UPLOAD_BYTES = int(os.environ.get("CASESTUDY_MAX_UPLOAD_MB", "25")) * 1024 * 1024
# A researcher's browser session ends after this many idle minutes.
SESSION_IDLE_MINUTES = int(os.environ.get("CASESTUDY_SESSION_IDLE_MINUTES", "30"))

DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_PASSWORD = "demo-admin-2026"


def database_url(explicit: str | None = None) -> str:
    """The database URL: an explicit one, then CASESTUDY_DATABASE_URL, then the SQLite file."""
    return explicit or os.environ.get("CASESTUDY_DATABASE_URL") or DEFAULT_DATABASE_URL

# The app loads the demo study into an empty database on first start (make run); tests turn it off.
DATABASE_AUTOLOAD_DEMO = os.environ.get("CASESTUDY_AUTOLOAD_DEMO", "1") == "1"
