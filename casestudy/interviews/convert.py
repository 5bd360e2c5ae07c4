"""Turn an uploaded transcript file (bytes) into one normalised text.

Supported: ``.txt`` / ``.md`` (UTF-8 with or without BOM, UTF-16/32 with BOM, legacy single-byte
encodings such as cp1252 detected with charset-normalizer), ``.docx`` (paragraphs and tables in
document order, tables row by row; headers and footers ignored), ``.vtt`` / ``.srt`` (cues with
their timestamps, ``<v Name>`` voice tags as speakers), ``.odt`` (odfpy) and ``.pdf`` (pypdf, text
layer only). The text is normalised once by :func:`normalise` (newlines to ``\\n``, Unicode NFC,
nothing else); every offset elsewhere is a code-point offset into that text.

Every problem a user can fix raises :class:`UserError` naming the file and the reason.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

from casestudy import config
from casestudy.errors import UserError

FORMATS = ("txt", "md", "docx", "vtt", "srt", "odt", "pdf")
# A .docx/.odt may not unpack to more than this, nor compress better than MAX_ZIP_RATIO (zip bombs).
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 200

# Single-byte encodings for Latin script: for Dutch and English text we read these as cp1252
# (a superset of latin-1's printable range) rather than charset-normalizer's first guess.
_LATIN_FAMILY = {
    "cp1250", "cp1252", "latin_1", "iso8859_1", "iso8859_2", "iso8859_15", "iso8859_9", "cp1254",
    "mac_roman", "mac_latin2", "cp850", "cp437", "cp858", "iso8859_3", "iso8859_4", "iso8859_10",
    "iso8859_13", "iso8859_14", "iso8859_16", "cp1257", "mac_iceland", "mac_turkish", "ascii",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC = (
    (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (e.g. .docx)"), (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"), (b"\xd0\xcf\x11\xe0", "an old Word/Office file"),
    (b"ID3", "an MP3 audio file"), (b"RIFF", "a WAV/AVI file"), (b"\x1f\x8b", "a gzip archive"),
    (b"OggS", "an Ogg audio file"), (b"fLaC", "a FLAC audio file"), (b"\x7fELF", "a program"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")


@dataclass
class Cue:
    """A subtitle cue or pre-identified turn: who spoke, what, and when (as written in the file)."""

    speaker: str
    text: str
    time: str = ""


@dataclass
class Converted:
    """The result of reading one file. ``turns`` is set when the format itself marks speakers."""

    file_name: str
    format: str
    encoding: str
    sha256: str
    text: str
    turns: list[Cue] | None = None
    warnings: list[str] = field(default_factory=list)


def normalise(text: str) -> str:
    """The one normalisation of stored text: every newline form to ``\\n`` and Unicode NFC."""
    if text.isascii() and "\r" not in text:
        return text  # ASCII is NFC and has no other newline forms (a scan spared per file)
    return unicodedata.normalize("NFC", _NEWLINES.sub("\n", text))


def file_format(file_name: str) -> str:
    suffix = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if suffix == "markdown":
        suffix = "md"
    if suffix in ("doc", "rtf"):
        raise UserError(f"{file_name}: .{suffix} files are not supported; save it as .docx or .txt")
    if suffix not in FORMATS:
        raise UserError(f"{file_name}: unsupported file type {('.' + suffix) if suffix else '(no extension)'}; use one of: {', '.join('.' + f for f in FORMATS)}")
    return suffix


def check_size(file_name: str, size: int) -> None:
    if size > config.MAX_UPLOAD_BYTES:
        raise UserError(
            f"{file_name}: the file is {size / 1024 / 1024:.1f} MB, over the limit of {config.MAX_UPLOAD_BYTES / 1024 / 1024:.0f} MB "
            "(CASESTUDY_MAX_UPLOAD_MB)"
        )


def convert(file_name: str, data: bytes) -> Converted:
    """Read one file into normalised text (and speaker cues where the format has them)."""
    fmt = file_format(file_name)
    check_size(file_name, len(data))
    if not data.strip():
        raise UserError(f"{file_name}: the file is empty")
    sha = hashlib.sha256(data).hexdigest()
    if fmt in ("txt", "md", "vtt", "srt"):
        raw, encoding = decode(file_name, data)
        text, turns, warnings = normalise(raw), None, []
        if fmt in ("vtt", "srt"):
            turns, warnings = parse_subtitles(file_name, text, fmt)
            text = "\n".join(f"{c.speaker}: {c.text}" if c.speaker else c.text for c in turns)
    elif fmt == "docx":
        text, encoding, warnings, turns = _docx(file_name, data), "docx (UTF-8 XML)", [], None
    elif fmt == "odt":
        text, encoding, warnings, turns = _odt(file_name, data), "odt (UTF-8 XML)", [], None
    else:
        text, encoding, turns = _pdf(file_name, data), "pdf text layer", None
        warnings = ["PDF text extraction may lose layout (columns, hyphenation); check the text before coding"]
    text = normalise(text)
    if not text.strip():
        raise UserError(f"{file_name}: the file contains no text")
    return Converted(file_name, fmt, encoding, sha, text, turns, warnings)


# --- plain text -----------------------------------------------------------------------
def decode(file_name: str, data: bytes) -> tuple[str, str]:
    """Decode bytes; returns (text, encoding name). BOMs are honoured and removed."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise UserError(f"{file_name}: undecodable bytes at byte {exc.start} although the file starts with a {encoding} byte order mark")
            text = text.lstrip("\ufeff")
            if not text.strip():
                raise UserError(f"{file_name}: the file is empty")
            return text, {"utf-8-sig": "utf-8 (BOM)", "utf-16": "utf-16 (BOM)", "utf-32": "utf-32 (BOM)"}[encoding]
    head = data[:8192]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise UserError(f"{file_name}: this is a binary file ({what}), not a text transcript")
    if b"\x00" in head:
        raise UserError(f"{file_name}: this is a binary file (it contains NUL bytes), not a text transcript")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if _has_utf8_multibyte(data[: exc.start]) or _has_utf8_multibyte(data[exc.end :]):
            raise UserError(
                f"{file_name}: undecodable bytes at byte {exc.start}: the file is mostly UTF-8 but contains invalid "
                "sequences (mixed encodings?); re-save it as UTF-8"
            )
        text, encoding = _legacy(file_name, data)
    else:
        encoding = "utf-8"
    if _CONTROL.search(text[:100000]):
        raise UserError(f"{file_name}: this looks like a binary file (it contains control characters), not a text transcript")
    return text, encoding


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _has_utf8_multibyte(data: bytes) -> bool:
    return _UTF8_MULTIBYTE.search(data) is not None


def _legacy(file_name: str, data: bytes) -> tuple[str, str]:
    """A single-byte (or other legacy) encoding. Latin-script text, which charset-normalizer
    often labels cp1250 or even a Cyrillic code page when only a few accented letters occur,
    is read as cp1252 (else latin-1); a guess outside Latin script is used only for text that is
    not mostly ASCII."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    ascii_share = sum(b < 0x80 for b in data[:65536]) / min(len(data), 65536)
    if best is None or best.encoding in _LATIN_FAMILY or ascii_share >= 0.9:
        for encoding in ("cp1252", "latin_1"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if not _CONTROL.search(text):
                return text, encoding
        raise UserError(f"{file_name}: undecodable bytes: neither UTF-8 nor cp1252/latin-1 reads it as text; re-save it as UTF-8")
    text = str(best)
    if _CONTROL.search(text):
        raise UserError(f"{file_name}: undecodable bytes: no encoding reads it as text; re-save it as UTF-8")
    return text, best.encoding


# --- subtitles ------------------------------------------------------------------------
_CUE_TIME = re.compile(
    r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<end>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})"
)
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>\s][^>]*>")
_LABEL_IN_CUE = re.compile(r"^(?:-\s*)?([A-Z][\w.'-]*(?: [\w.'-]+){0,3}):\s+")


def _is_metadata_block(lines: list[str]) -> bool:
    """A block that holds no cue text: the WEBVTT header, NOTE, STYLE, REGION, or a stray number."""
    first = lines[0].strip()
    return first.startswith(("WEBVTT", "NOTE", "STYLE", "REGION")) or all(line.strip().isdigit() for line in lines if line.strip())


def parse_subtitles(file_name: str, text: str, fmt: str) -> tuple[list[Cue], list[str]]:
    """Cues of a .vtt/.srt file, consecutive cues of one speaker merged into one turn.

    A block with text but no valid timing line (a malformed cue) is left out with a warning
    that quotes its start, never silently.
    """
    blocks = re.split(r"\n\s*\n", text.strip())
    cues: list[Cue] = []
    warnings: list[str] = []
    if fmt == "vtt" and not blocks[0].lstrip().startswith("WEBVTT"):
        raise UserError(f"{file_name}: not a WebVTT file (the first line must be WEBVTT)")
    for block in blocks:
        lines = block.split("\n")
        index = next((i for i, line in enumerate(lines) if _CUE_TIME.match(line)), None)
        if index is None:
            if not _is_metadata_block(lines):
                snippet = " ".join(block.split())[:80]
                warnings.append(f"a cue without a valid timing line was left out (expected 00:00:01.000 --> 00:00:04.000): {snippet!r}")
            continue
        match = _CUE_TIME.match(lines[index])
        body = " ".join(line.strip() for line in lines[index + 1 :] if line.strip())
        voice = _VOICE.search(body) if "<" in body else None
        speaker = voice.group(1).strip() if voice else ""
        if voice is not None and voice.start() == 0 and "<" not in body[voice.end() :]:
            body = body[voice.end() :]  # the usual cue: one leading voice tag (no regex pass)
        elif "<" in body:
            body = _TAG.sub("", body)
        body = " ".join(body.split())
        if not speaker:
            label = _LABEL_IN_CUE.match(body)
            if label:
                speaker, body = label.group(1), body[label.end() :]
        if not body:
            continue
        time = f"{match['start'].replace(',', '.')} --> {match['end'].replace(',', '.')}"
        if cues and speaker and cues[-1].speaker == speaker:
            cues[-1].text += " " + body
            cues[-1].time = cues[-1].time.split(" --> ")[0] + " --> " + time.split(" --> ")[1]
        elif cues and not speaker and not voice and not cues[-1].speaker:
            cues[-1].text += " " + body
            cues[-1].time = cues[-1].time.split(" --> ")[0] + " --> " + time.split(" --> ")[1]
        else:
            cues.append(Cue(speaker, body, time))
    if not cues:
        raise UserError(f"{file_name}: no subtitle cues found (expected lines like 00:00:01.000 --> 00:00:04.000)")
    if not any(c.speaker for c in cues):
        warnings.append("no speakers marked in the cues (<v Name> or 'Name:'); all text is one speaker")
    return cues, warnings


# --- zip-based documents --------------------------------------------------------------
def _open_zip(file_name: str, data: bytes, kind: str) -> zipfile.ZipFile:
    if not data.startswith(b"PK"):
        raise UserError(f"{file_name}: not a valid .{kind} file (it is not a zip archive)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UserError(f"{file_name}: not a valid .{kind} file (broken zip archive: {exc})")
    total = sum(info.file_size for info in infos)
    compressed = sum(info.compress_size for info in infos) or 1
    if total > MAX_UNZIPPED_BYTES or (total > 10 * 1024 * 1024 and total / compressed > MAX_ZIP_RATIO):
        raise UserError(
            f"{file_name}: refused: the .{kind} would unpack to {total / 1024 / 1024:.0f} MB "
            f"(ratio {total / compressed:.0f}:1), which looks like a zip bomb"
        )
    return archive


def _load_zipped(file_name: str, data: bytes, kind: str, member: str, loader):
    """Check the archive (zip bomb guard, required member) before the library parses it."""
    archive = _open_zip(file_name, data, kind)
    if member not in archive.namelist():
        raise UserError(f"{file_name}: not a valid .{kind} file (no {member} inside)")
    try:
        return loader(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - the document libraries raise many kinds on broken files
        raise UserError(f"{file_name}: not a valid .{kind} file ({type(exc).__name__}: {exc})")


def _docx(file_name: str, data: bytes) -> str:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = _load_zipped(file_name, data, "docx", "word/document.xml", docx.Document)
    parts: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            parts.append(Paragraph(child, document).text)
        elif tag == "tbl":
            parts.extend(_table_rows(Table(child, document)))
    return "\n".join(parts)


_TIME_CELL = re.compile(r"^\[?\(?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?\)?\]?$")


_HEADER_WORDS = {"speaker", "spreker", "wie", "who", "name", "naam", "persoon", "person"}


def _speaker_columns(rows: list[list[str]]) -> tuple[int | None, int | None, bool]:
    """(speaker column, time column, first row is a header) of a transcript table, else Nones.

    A transcript table has 2 columns (speaker, text) or 3 (time, speaker, text; or speaker,
    time, text); speaker cells are short labels without sentence punctuation, few distinct.
    """
    if not rows:
        return None, None, False
    width = max(len(r) for r in rows)
    header = bool(rows[0]) and rows[0][0].strip().lower().rstrip(":") in _HEADER_WORDS | {"time", "tijd", "timestamp"}
    body = [r for r in rows[1 if header else 0 :] if len(r) == width]
    if width not in (2, 3) or not body:
        return None, None, header
    time_col = None
    if width == 3:
        time_col = next((c for c in (0, 1) if all(not r[c] or _TIME_CELL.match(r[c]) for r in body)), None)
        if time_col is None:
            return None, None, header
    speaker_col = next(c for c in range(width - 1) if c != time_col)
    speakers = [r[speaker_col] for r in body if r[speaker_col]]
    if not speakers or any(len(v) > 40 or v.endswith((".", "?", "!")) for v in speakers):
        return None, None, header
    if len(set(speakers)) > max(6, len(speakers) // 2):
        return None, None, header
    return speaker_col, time_col, header


def _table_rows(table) -> list[str]:
    """Rows as lines. A table with a speaker column becomes 'Speaker: text' (with its time first)."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:  # merged cells repeat: keep each once
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(cell.text.strip())
        rows.append(cells)
    speaker_col, time_col, header = _speaker_columns(rows)
    lines = []
    for index, cells in enumerate(rows):
        if speaker_col is not None and len(cells) > speaker_col:
            text = " ".join(c for i, c in enumerate(cells) if i not in (speaker_col, time_col) and c)
            speaker = cells[speaker_col].rstrip(":").strip()
            if index == 0 and header:
                continue
            time = f"[{cells[time_col].strip('[]()')}] " if time_col is not None and len(cells) > time_col and cells[time_col] else ""
            lines.append(f"{time}{speaker}: {text}" if speaker else text)
        else:
            lines.append("\t".join(cells))
    return lines


def _odt(file_name: str, data: bytes) -> str:
    from odf import opendocument, teletype
    from odf.namespaces import TABLENS, TEXTNS

    document = _load_zipped(file_name, data, "odt", "content.xml", opendocument.load)
    lines: list[str] = []

    def walk(node) -> None:
        for child in node.childNodes:
            qname = getattr(child, "qname", None)
            if qname in ((TEXTNS, "p"), (TEXTNS, "h")):
                lines.append(teletype.extractText(child))
            elif qname == (TABLENS, "table-row"):
                cells = [teletype.extractText(c).strip() for c in child.childNodes if getattr(c, "qname", None) == (TABLENS, "table-cell")]
                lines.append("\t".join(cells))
            elif getattr(child, "childNodes", None):
                walk(child)

    walk(document.text)
    return "\n".join(lines)


def _pdf(file_name: str, data: bytes) -> str:
    import pypdf

    if not data.startswith(b"%PDF"):
        raise UserError(f"{file_name}: not a valid .pdf file")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UserError(f"{file_name}: the PDF is encrypted; export the transcript without a password")
        text = "\n".join((page.extract_text() or "").rstrip() for page in reader.pages)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on broken files
        raise UserError(f"{file_name}: not a readable .pdf file ({type(exc).__name__}: {exc})")
    if not text.strip():
        raise UserError(f"{file_name}: the PDF has no text layer (a scan?); run OCR or use the .docx/.txt transcript")
    return text
