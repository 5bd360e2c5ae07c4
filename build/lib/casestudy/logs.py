"""Unexpected failures: logged with traceback to the log file, shown with a short reference."""

from __future__ import annotations

import logging
import secrets
from logging.handlers import RotatingFileHandler

from casestudy import config

_logger: logging.Logger | None = None


def logger() -> logging.Logger:
    global _logger
    if _logger is None:
        _logger = logging.getLogger("casestudy")
        _logger.setLevel(logging.INFO)
        try:
            config.LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
            handler: logging.Handler = RotatingFileHandler(config.LOG_FILE, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
        except OSError:  # read-only checkout: fall back to stderr
            handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        _logger.addHandler(handler)
    return _logger


def log_unexpected(exc: BaseException, where: str = "") -> str:
    """Log ``exc`` with its traceback; return the reference shown to the user."""
    reference = secrets.token_hex(4)
    logger().error("unexpected failure ref=%s in %s", reference, where or "?", exc_info=exc)
    return reference


def unexpected_message(reference: str) -> str:
    return (
        f"an unexpected failure occurred (reference {reference}); nothing was changed. "
        f"Details are in {config.LOG_FILE}"
    )
