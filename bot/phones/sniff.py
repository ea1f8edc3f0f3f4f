"""What a file is, judged by its content: spreadsheet kind, text encoding, zip safety."""

from __future__ import annotations

import codecs
import io
import re
import zipfile

from .errors import IngestError, IngestLimits

_TEXT_EXTS = ("csv", "tsv", "txt")
_SHEET_EXTS = ("xlsx", "xlsm", "xls", "ods")

# Formats people send by mistake; named in the error so the message can be specific.
_FOREIGN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF", "pdf"),
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"BM", "bmp"),
    (b"RIFF", "riff"),
    (b"\x7fELF", "elf"),
    (b"MZ", "exe"),
    (b"{\\rtf", "rtf"),
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_MAX_ZIP_ENTRIES = 10_000
# Sheet XML compresses 5-30x; anything far beyond that in a big entry is crafted.
_MAX_RATIO = 400
_RATIO_MIN_SIZE = 16 * 1024 * 1024


def _utf16le(name: str) -> bytes:
    return name.encode("utf-16-le")


def extension(filename: str) -> str:
    name = (filename or "").rsplit("/", 1)[-1].lower()
    return name.rsplit(".", 1)[-1] if "." in name else ""


def detect_kind(data: bytes, filename: str = "") -> str:
    """ "xlsx", "xls", "ods", "html", "vcard" or "text"; IngestError for anything else."""
    head = data[:16]
    if head.startswith(_ZIP_MAGIC):
        return _zip_kind(data, filename)
    if head.startswith(_OLE_MAGIC):
        return _ole_kind(data)
    for magic, name in _FOREIGN_MAGIC:
        if head.startswith(magic):
            raise IngestError("unsupported_type", detected=name)
    return _markup_kind(data) or "text"


_MARKUP_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*")
_HTML_MARKS = (b"<html", b"<table", b"<!doctype html", b"<meta", b"<head", b"<body")


def _markup_kind(data: bytes) -> str | None:
    """ "html" for a web page or bare <table> (whatever its name: Bitrix24 saves one as
    .xls), "vcard" for contacts; None for other text. UTF-8 BOM and blank lines allowed."""
    m = _MARKUP_START.match(data[:4096])
    head = data[m.end() if m else 0 :][:4096]
    if head[:11].upper() == b"BEGIN:VCARD":
        return "vcard"
    if head.startswith(b"<"):
        low = head.lower()
        if any(mark in low for mark in _HTML_MARKS):
            return "html"
    return None


def _zip_kind(data: bytes, filename: str) -> str:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        if extension(filename) in _SHEET_EXTS:
            raise IngestError("unreadable", kind=extension(filename)) from None
        raise IngestError("unsupported_type", detected="zip") from None
    with zf:
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            return "xlsx"
        if "content.xml" in names:
            if "mimetype" in names:
                try:
                    mime = zf.open("mimetype").read(len(_ODS_MIME) + 16)
                except (zipfile.BadZipFile, OSError, RuntimeError):
                    mime = b""
                if not mime.startswith(_ODS_MIME):
                    raise IngestError("unsupported_type", detected="odf")
            return "ods"
    raise IngestError("unsupported_type", detected="zip")


def _ole_kind(data: bytes) -> str:
    # Encrypted OOXML is an OLE compound file holding these streams (names in UTF-16LE).
    if _utf16le("EncryptedPackage") in data and _utf16le("EncryptionInfo") in data:
        raise IngestError("encrypted")
    if _utf16le("Workbook") in data or _utf16le("Book") in data:
        return "xls"
    raise IngestError("unsupported_type", detected="ole")


def check_zip(data: bytes, limits: IngestLimits) -> None:
    """Refuse a zip bomb from its central directory, before anything is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise IngestError("unreadable", kind="zip") from None
    if len(infos) > _MAX_ZIP_ENTRIES:
        raise IngestError("zip_bomb", limit=limits.max_inflated_bytes)
    total = 0
    for info in infos:
        total += info.file_size
        if total > limits.max_inflated_bytes:
            raise IngestError("zip_bomb", limit=limits.max_inflated_bytes)
        if info.file_size > _RATIO_MIN_SIZE and info.file_size > _MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise IngestError("zip_bomb", limit=limits.max_inflated_bytes)


# --- text ------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def detect_encoding(data: bytes, *, head_only: bool = False) -> str:
    """utf-8-sig / utf-16 (BOM, or NUL pattern without one) / utf-8 / cp1251.

    With `head_only`, UTF-8 is judged by the first megabyte; the caller then decodes
    strictly and starts over as cp1251 if a later byte proves it wrong (saves a pass
    over big files, which are nearly always consistent)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = data[:4096]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > 3 * max(even, 1) and odd * 2 >= len(head[1::2]):
            return "utf-16-le"
        if even > 3 * max(odd, 1) and even * 2 >= len(head[0::2]):
            return "utf-16-be"
    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 20
    try:  # validate piecewise: no second copy of a 20 MB file
        for i in range(0, step if head_only else len(data), step):
            decoder.decode(data[i : i + step], final=i + step >= len(data))
    except UnicodeDecodeError:
        return "cp1251"
    return "utf-8"


def check_text(head: str) -> None:
    """Binary content decoded as text is full of control characters: refuse it."""
    if not head:
        return
    bad = len(_CONTROL.findall(head[:65536]))
    if "\x00" in head[:65536] or bad * 100 > len(head[:65536]):
        raise IngestError("unsupported_type", detected="binary")
