"""Passwords (argon2id) and access-token secrets (random, shown once, stored as SHA-256).

Token secrets carry 256 bits of randomness, so a fast hash is enough to make a stolen table
useless while still allowing lookup by hash; passwords are low-entropy and get argon2.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from functools import cache

from casestudy import config
from casestudy.errors import UserError

TOKEN_BYTES = 32  # 256 bits; the brief asks for at least 128
MIN_PASSWORD_LENGTH = 10

@cache
def _hasher():
    """The argon2id hasher, made on first use (commands that check no password never load argon2)."""
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _hasher().hash(password)


def check_password_strength(password: str) -> None:
    """Refuse a weak password, in the spirit of OWASP ASVS V2.1 (one rule for library, CLI and UI).

    At least ``MIN_PASSWORD_LENGTH`` characters; not only whitespace; not one character repeated;
    not one of the common passwords in ``common_passwords.txt`` (compared ignoring case and
    surrounding whitespace). Spaces and any Unicode characters are allowed, so pass phrases work.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise UserError("the password cannot be only spaces")
    if len(set(password)) == 1:
        raise UserError("the password cannot be one character repeated")
    if password.strip().lower() in common_passwords():
        raise UserError("this password is on a list of common passwords; choose another one")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (package data), lower-cased."""
    text = (config.PACKAGE_DIR / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def verify_password(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not-a-real-password-for-timing")


def verify_dummy(password: str) -> None:
    """Verify against a throwaway hash when the user does not exist, so the timing is the same."""
    verify_password(_dummy_hash(), password)


def new_token_secret() -> str:
    """A URL-safe random secret (43 characters for 256 bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


# --- uploads --------------------------------------------------------------------------
def check_upload_size(name: str, size: int, limit: int | None = None) -> None:
    """Refuse an upload above ``limit`` bytes (default ``config.MAX_UPLOAD_BYTES``)."""
    limit = config.MAX_UPLOAD_BYTES if limit is None else limit
    if size > limit:
        raise UserError(
            f"{name} is {_megabytes(size)}; uploads are limited to {_megabytes(limit)} "
            "(the administrator sets CASESTUDY_MAX_UPLOAD_MB)"
        )


def read_upload(name: str, stream, limit: int | None = None) -> bytes:
    """Read an uploaded file object, refusing it as soon as it passes the limit."""
    limit = config.MAX_UPLOAD_BYTES if limit is None else limit
    data = stream.read(limit + 1)
    check_upload_size(name, len(data), limit)
    return data


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
