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
    from argon2.exceptions import (
        InvalidHashError,
        VerificationError,
        VerifyMismatchError,
    )

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


# --- structured inputs (YAML, CSV, XLSX, XML) -------------------------------------------------
# Bounds for files that are parsed into a structure: a small file must not expand into a large
# one (YAML aliases, zip bombs, XML entity or element floods). Each refusal is one UserError,
# raised before the expensive work starts or as soon as a bound is passed.
MAX_STRUCTURED_BYTES = 5 * 1024 * 1024  # a codebook file (YAML, CSV, XLSX, .qdc)
MAX_YAML_NODES = 200_000  # scalars, mappings and sequences in one YAML document
MAX_TABLE_ROWS = 20_000  # rows of a codebook table (CSV or XLSX sheet)
MAX_TABLE_CELLS = 1_000_000
MAX_XLSX_UNPACKED_BYTES = 50 * 1024 * 1024  # all members of the workbook's zip, unpacked
MAX_XML_NODES = 2_000_000  # elements of one XML document (REFI-QDA project or codebook)


def check_input_size(what: str, size: int, limit: int) -> None:
    """Refuse ``what`` when it has more than ``limit`` bytes."""
    if size > limit:
        raise UserError(f"{what} is {_megabytes(size)}; the limit for this kind of file is {_megabytes(limit)}")


def load_yaml(text: str, what: str = "the YAML file", *, max_bytes: int = MAX_STRUCTURED_BYTES,
              max_nodes: int = MAX_YAML_NODES):
    """Parse YAML with the safe loader, refusing anchors and aliases and bounding its size.

    Aliases are refused outright (an alias bomb of a few lines expands to billions of nodes);
    the events are counted before anything is built, so a refusal costs one linear scan.
    ``yaml.YAMLError`` of a malformed document propagates for the caller to word.
    """
    import yaml

    check_input_size(what, len(text.encode("utf-8", "surrogatepass")), max_bytes)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    nodes = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            mark = event.start_mark
            raise UserError(
                f"{what} uses a YAML anchor or alias ('&' or '*') at line {mark.line + 1}; "
                "they are not allowed here: write each value out"
            )
        if isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            nodes += 1
            if nodes > max_nodes:
                raise UserError(f"{what} has more than {max_nodes:,} values; split it into smaller files")
    return yaml.load(text, Loader=loader)


def check_table_bounds(what: str, rows: int, cells: int, *, max_rows: int = MAX_TABLE_ROWS,
                       max_cells: int = MAX_TABLE_CELLS) -> None:
    """Refuse a table (read so far) with more than ``max_rows`` rows or ``max_cells`` cells."""
    if rows > max_rows or cells > max_cells:
        raise UserError(f"{what} has more than {max_rows:,} rows or {max_cells:,} cells; split it into smaller files")


def check_zip_unpacked_size(what: str, archive, limit: int) -> None:
    """Refuse a zip archive whose members unpack to more than ``limit`` bytes in all (zip bombs)."""
    total = sum(info.file_size for info in archive.infolist())
    if total > limit:
        raise UserError(f"{what} unpacks to {_megabytes(total)}, more than the {_megabytes(limit)} allowed; refused")


def parse_xml(data: bytes, what: str, *, max_nodes: int | None = None):
    """The root element of an XML document, parsed without entities, network or huge trees.

    No entity is resolved (no DTD tricks), libxml2's default limits stay on (``huge_tree``
    off: text nodes up to 10 MB, depth 256) and parsing stops after ``max_nodes`` elements.
    ``lxml.etree.XMLSyntaxError`` propagates for the caller to word. ``max_nodes`` defaults to
    ``MAX_XML_NODES``.
    """
    from lxml import etree

    max_nodes = MAX_XML_NODES if max_nodes is None else max_nodes
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True, huge_tree=False,
                                 load_dtd=False, remove_blank_text=False)
    nodes = 0
    chunk = 1 << 20
    try:
        for start in range(0, len(data), chunk):
            parser.feed(data[start:start + chunk])
            for _ in parser.read_events():
                nodes += 1
                if nodes > max_nodes:
                    raise UserError(f"{what} has more than {max_nodes:,} XML elements; refused")
        root = parser.close()
    except etree.XMLSyntaxError:
        # The feed parser reports only "no element found"; a plain parse names the problem.
        etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False))
        raise
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise UserError(f"{what} uses XML entities (&name; declared in a DTD); they are not allowed here")
    return root
