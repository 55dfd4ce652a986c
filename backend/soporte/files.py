"""Checking an attachment before it is stored (DESIGN.md "Business rules", CONTRACT.md
"Attachments").

`check_upload` takes the client's file name and bytes and either refuses them with the
contract's errors (422 missing or empty, 413 too large, 415 extension not allowed or content
not matching it) or answers a `CheckedFile`: a safe display name, the bytes, their size and
sha256, and the canonical content type of the extension. The content type never comes from
the client, so a download can never be served as HTML or script.

The content check looks at the bytes (the `filetype` library, plus `zipfile` for Office and
OpenDocument files whose first entries hide their kind): an executable renamed `.pdf` or
`.txt` is refused.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import filetype

from ..core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MiB = 1024 * 1024
MAX_FILE_BYTES = 10 * MiB
MAX_TICKET_BYTES = 50 * MiB
MAX_NAME_LENGTH = 255  # SoporteTicketArchivo.nombre

IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "webp"})
DOCUMENT_EXTENSIONS = frozenset({"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods",
                                 "txt", "csv"})
ARCHIVE_EXTENSIONS = frozenset({"zip", "rar", "7z", "gz", "tar"})
LOG_EXTENSIONS = frozenset({"log"})
ALLOWED_EXTENSIONS = IMAGE_EXTENSIONS | DOCUMENT_EXTENSIONS | ARCHIVE_EXTENSIONS | LOG_EXTENSIONS

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"

# The type stored and served for each extension (whatever the client claimed).
CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": DOCX,
    "xls": "application/vnd.ms-excel",
    "xlsx": XLSX,
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": PPTX,
    "odt": ODT,
    "ods": ODS,
    "txt": "text/plain",
    "csv": "text/csv",
    "log": "text/plain",
    "zip": "application/zip",
    "rar": "application/vnd.rar",
    "7z": "application/x-7z-compressed",
    "gz": "application/gzip",
    "tar": "application/x-tar",
}

# Kinds (filetype's extension names) the content may be detected as, per extension.
_OLE2_KINDS = frozenset({"doc", "xls", "ppt"})  # filetype's guesses between these overlap
_ZIP_KINDS = frozenset({"zip", "epub", "docx", "xlsx", "pptx", "odt", "ods", "odp"})
_DETECTED_AS = {
    "png": {"png", "apng"},
    "jpg": {"jpg"},
    "jpeg": {"jpg"},
    "gif": {"gif"},
    "webp": {"webp"},
    "pdf": {"pdf"},
    "rar": {"rar"},
    "7z": {"7z"},
    "gz": {"gz"},
    "tar": {"tar"},
    "doc": _OLE2_KINDS,
    "xls": _OLE2_KINDS,
    "ppt": _OLE2_KINDS,
    "zip": _ZIP_KINDS,
}
# Office Open XML: the folder holding the main part of each kind.
_OOXML_PART = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
_ODF_MIME = {"odt": ODT, "ods": ODS}
# filetype signatures that plain text can carry by chance ("BM..." at the start, "ustar" at
# byte 257); genuine BMP and tar files always contain NUL bytes, which text never passes.
_TEXT_LOOKALIKE_KINDS = frozenset({"bmp", "tar"})
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
               RuntimeError, NotImplementedError, zlib.error)

_SEPARATORS = re.compile(r"[/\\]")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # controls, invisible formatting


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed every check, ready to store."""

    nombre: str
    data: bytes
    tamano: int
    content_type: str
    sha256: str


def allowed_extensions_text() -> str:
    """The allowed extensions as one sorted, comma-separated line (for messages)."""
    return ", ".join(sorted(ALLOWED_EXTENSIONS))


def safe_filename(filename: str) -> str:
    """The client's file name made safe to keep and show: its base name only (either slash),
    NFC-normalised, without control or invisible formatting characters, trimmed. "" when
    nothing usable remains."""
    base = _SEPARATORS.split(filename or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    base = base.strip()
    return "" if base in (".", "..") else base


def extension_of(name: str) -> str:
    """The lower-cased text after the last dot ("" when there is none)."""
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def check_upload(filename: str | None, data: bytes, ticket_bytes_used: int = 0) -> CheckedFile:
    """Accept an attachment or raise the contract's error: ValidationFailed (422) when the
    file is missing, unnamed or empty; PayloadTooLarge (413) above MAX_FILE_BYTES or past
    MAX_TICKET_BYTES for the ticket; UnsupportedMediaType (415) for an extension outside the
    allowed list or content that does not match it."""
    if filename is None or data is None:
        raise ValidationFailed(details={"file": ["Adjunte un archivo en el campo file."]})
    nombre = safe_filename(filename)
    if not nombre:
        raise ValidationFailed(details={"file": ["El archivo no tiene un nombre válido."]})
    data = bytes(data)
    size = len(data)
    if size == 0:
        raise ValidationFailed(details={"file": ["El archivo está vacío."]})
    if size > MAX_FILE_BYTES:
        raise PayloadTooLarge(
            "El archivo supera el tamaño máximo permitido.", code="demasiado_grande",
            details={"file": [f"El máximo por archivo es {MAX_FILE_BYTES // MiB} MB."]},
        )
    if max(0, ticket_bytes_used) + size > MAX_TICKET_BYTES:
        raise PayloadTooLarge(
            "El ticket superaría el total de adjuntos permitido.", code="demasiado_grande",
            details={"file": [f"El máximo de adjuntos por ticket es {MAX_TICKET_BYTES // MiB} MB."]},
        )
    ext = extension_of(nombre)
    if ext not in ALLOWED_EXTENSIONS:
        shown = f"«.{ext}»" if ext else "sin extensión"
        raise UnsupportedMediaType(
            "Tipo de archivo no permitido.", code="tipo_no_soportado",
            details={"file": [f"Extensión no permitida ({shown}). Se admiten: {allowed_extensions_text()}."]},
        )
    if not content_matches(ext, data):
        raise UnsupportedMediaType(
            "El contenido del archivo no corresponde a su extensión.", code="tipo_no_soportado",
            details={"file": [f"El contenido no es un archivo .{ext} válido."]},
        )
    return CheckedFile(
        nombre=_shorten(nombre, ext),
        data=data,
        tamano=size,
        content_type=CONTENT_TYPES[ext],
        sha256=hashlib.sha256(data).hexdigest(),
    )


def content_matches(ext: str, data: bytes) -> bool:
    """Whether `data` is a file of the (allowed, lower-case) extension `ext`."""
    checker = _CHECKERS.get(ext)
    if checker is not None:
        return checker(ext, data)
    return _detected(data) in _DETECTED_AS[ext]


def _detected(data: bytes) -> str | None:
    kind = filetype.guess(data)
    return kind.extension if kind else None


def _is_text(ext: str, data: bytes) -> bool:
    """UTF-8 text (a BOM allowed), without NUL bytes, that filetype does not take for a binary
    kind (an executable, an image...)."""
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    kind = _detected(data)
    return kind is None or kind in _TEXT_LOOKALIKE_KINDS


def _is_ooxml(ext: str, data: bytes) -> bool:
    """docx/xlsx/pptx: detected as that kind, or a zip with `[Content_Types].xml` and the
    kind's main folder (filetype only reads the first entries)."""
    kind = _detected(data)
    if kind == ext:
        return True
    if kind != "zip":
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except _ZIP_ERRORS:
        return False
    part = _OOXML_PART[ext]
    return "[Content_Types].xml" in names and any(name.startswith(part) for name in names)


def _is_odf(ext: str, data: bytes) -> bool:
    """odt/ods: detected as that kind, or a zip whose `mimetype` entry names the kind."""
    kind = _detected(data)
    if kind == ext:
        return True
    if kind != "zip":
        return False
    expected = _ODF_MIME[ext].encode("ascii")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("mimetype")
            if info.file_size > 200:  # the entry holds one short line; never inflate more
                return False
            with archive.open(info) as entry:
                mimetype = entry.read(200)
    except (KeyError, *_ZIP_ERRORS):
        return False
    return mimetype.strip() == expected


_CHECKERS: dict[str, Callable[[str, bytes], bool]] = {
    "txt": _is_text,
    "csv": _is_text,
    "log": _is_text,
    "docx": _is_ooxml,
    "xlsx": _is_ooxml,
    "pptx": _is_ooxml,
    "odt": _is_odf,
    "ods": _is_odf,
}


def _shorten(nombre: str, ext: str) -> str:
    """At most MAX_NAME_LENGTH characters, keeping `.ext`."""
    if len(nombre) <= MAX_NAME_LENGTH:
        return nombre
    suffix = f".{nombre[-len(ext):]}"
    stem = nombre[: len(nombre) - len(suffix)][: MAX_NAME_LENGTH - len(suffix)].rstrip()
    return f"{stem}{suffix}"
