"""Checking an attachment before it is stored: every allowed extension with genuine content,
sizes, unknown extensions, content that lies about its extension, and file names."""
from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile
import zipfile
import zlib

import filetype
import pytest

from backend.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from backend.soporte.files import (
    ALLOWED_EXTENSIONS,
    MAX_FILE_BYTES,
    MAX_TICKET_BYTES,
    CheckedFile,
    check_upload,
    safe_filename,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"

# A Windows PE and a Linux ELF header: what "an executable" looks like to a content check.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"\x80\x00\x00\x00" \
    + b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 64 + b"PE\x00\x00L\x01"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 100


# --- genuine samples -------------------------------------------------------------------


def _png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte + one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
       b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
JPEG = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        b"\xff\xdb\x00C\x00" + bytes([1] * 64)
        + b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
        + b"\xff\xc4\x00\x14\x00\x01" + b"\x00" * 15 + b"\x00\x00"
        + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\xd2\xcf\x20\xff\xd9")
WEBP = (b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88"
        b"\xfe\x07\x00")
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _ole2(first_sector: bytes) -> bytes:
    """A compound-file (OLE2) header and a first sector starting as Word/Excel/PowerPoint
    write it (the FIB, a BIFF8 BOF record, a PowerPoint record header)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    header = header.ljust(512, b"\x00")
    return header + first_sector.ljust(512, b"\x00")


DOC = _ole2(b"\xec\xa5\xc1\x00")
XLS = _ole2(b"\x09\x08\x10\x00\x00\x06\x05\x00")
PPT = _ole2(b"\xa0\x46\x1d\xf0")


def _zip(entries: list[tuple[str, bytes]], stored_first: bool = False, stored: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, body) in enumerate(entries):
            keep = stored or (stored_first and index == 0)
            archive.writestr(name, body, compress_type=zipfile.ZIP_STORED if keep else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


CONTENT_TYPES_XML = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
RELS = b'<?xml version="1.0"?><Relationships/>'


def _ooxml(part: str) -> bytes:
    return _zip([("[Content_Types].xml", CONTENT_TYPES_XML), ("_rels/.rels", RELS),
                 (f"{part}/document.xml", b"<doc/>")])


def _odf(mime: str) -> bytes:
    return _zip([("mimetype", mime.encode()), ("content.xml", b"<office:document-content/>"),
                 ("META-INF/manifest.xml", b"<manifest/>")], stored_first=True)


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        body = b"linea de log\n"
        info = tarfile.TarInfo("logs/app.log")
        info.size = len(body)
        archive.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def _seven_zip() -> bytes:
    """An empty 7z archive: signature, version, CRC of the (empty) next-header reference."""
    next_header = struct.pack("<QQI", 0, 0, 0)
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(next_header)) + next_header


RAR5 = b"Rar!\x1a\x07\x01\x00" + b"\x33\x92\xb5\xe5\x0a\x01\x05\x06\x00\x05\x01\x01\x80\x80\x00"
RAR4 = b"Rar!\x1a\x07\x00" + b"\xcf\x90\x73\x00\x00\x0d\x00\x00\x00\x00\x00\x00\x00"
TEXT = "Informe de soporte\nAño 2024: señal perdida en el módulo de facturación ✓\n".encode()
CSV = "\ufeffnit,nombre\n900123456-7,Compañía Andina\n".encode()
LOG = b"2024-05-01T10:00:00Z INFO worker started\n2024-05-01T10:00:01Z ERROR timeout\n"

GENUINE = [
    ("foto.png", _png(), "image/png"),
    ("foto.jpg", JPEG, "image/jpeg"),
    ("foto.jpeg", JPEG, "image/jpeg"),
    ("animacion.gif", GIF, "image/gif"),
    ("imagen.webp", WEBP, "image/webp"),
    ("factura.pdf", PDF, "application/pdf"),
    ("carta.doc", DOC, "application/msword"),
    ("cuentas.xls", XLS, "application/vnd.ms-excel"),
    ("charla.ppt", PPT, "application/vnd.ms-powerpoint"),
    ("carta.docx", _ooxml("word"), DOCX),
    ("cuentas.xlsx", _ooxml("xl"), XLSX),
    ("charla.pptx", _ooxml("ppt"), PPTX),
    ("carta.odt", _odf(ODT), ODT),
    ("cuentas.ods", _odf(ODS), ODS),
    ("notas.txt", TEXT, "text/plain"),
    ("empresas.csv", CSV, "text/csv"),
    ("servidor.log", LOG, "text/plain"),
    ("paquete.zip", _zip([("a.txt", b"hola"), ("b/c.txt", b"mundo")]), "application/zip"),
    ("comprimido.rar", RAR5, "application/vnd.rar"),
    ("antiguo.rar", RAR4, "application/vnd.rar"),
    ("comprimido.7z", _seven_zip(), "application/x-7z-compressed"),
    ("registro.log.gz", gzip.compress(LOG), "application/gzip"),
    ("registros.tar", _tar(), "application/x-tar"),
]


def test_every_allowed_extension_has_a_genuine_sample():
    covered = {name.rsplit(".", 1)[1] for name, _, _ in GENUINE}
    assert covered == ALLOWED_EXTENSIONS == {
        "png", "jpg", "jpeg", "gif", "webp", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx",
        "odt", "ods", "txt", "csv", "zip", "rar", "7z", "gz", "tar", "log"}


@pytest.mark.parametrize(("name", "data", "content_type"), GENUINE, ids=[g[0] for g in GENUINE])
def test_genuine_file_is_accepted_with_its_canonical_type(name, data, content_type):
    checked = check_upload(name, data)
    assert checked == CheckedFile(nombre=name, data=data, tamano=len(data), content_type=content_type,
                                  sha256=hashlib.sha256(data).hexdigest())


def test_extension_case_does_not_matter_and_the_name_keeps_it():
    checked = check_upload("FOTO.PNG", _png())
    assert (checked.nombre, checked.content_type) == ("FOTO.PNG", "image/png")


def test_sha256_is_the_digest_of_the_bytes():
    assert check_upload("a.txt", b"abc").sha256 == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_office_file_whose_first_entries_hide_its_kind_is_read_with_zipfile():
    # A large stored entry pushes `word/` past what filetype reads: it only sees "zip".
    data = _zip([("[Content_Types].xml", CONTENT_TYPES_XML), ("docProps/thumbnail.jpeg", b"\xff" * 9000),
                 ("word/document.xml", b"<doc/>")], stored=True)
    assert filetype.guess(data).extension == "zip"
    assert check_upload("grande.docx", data).content_type == DOCX
    with pytest.raises(UnsupportedMediaType):
        check_upload("grande.xlsx", data)  # no xl/ part in it


def test_opendocument_whose_mimetype_is_not_first_is_read_with_zipfile():
    data = _zip([("content.xml", b"<x/>"), ("mimetype", ODS.encode())])
    assert filetype.guess(data).extension == "zip"
    assert check_upload("hoja.ods", data).content_type == ODS
    with pytest.raises(UnsupportedMediaType):
        check_upload("hoja.odt", data)


def test_zip_accepts_any_zip_based_file():
    assert check_upload("entrega.zip", _ooxml("word")).content_type == "application/zip"
    assert check_upload("entrega.zip", _odf(ODT)).content_type == "application/zip"


def test_text_that_looks_like_a_bitmap_header_is_still_text():
    data = b"BMI,peso,altura\n24.1,70,1.70\n"
    assert check_upload("medidas.csv", data).content_type == "text/csv"


# --- refusals --------------------------------------------------------------------------


def _details(exc) -> list[str]:
    assert set(exc.details) == {"file"}
    assert exc.details["file"] and all(isinstance(m, str) and m for m in exc.details["file"])
    return exc.details["file"]


@pytest.mark.parametrize(("name", "data"), [
    (None, b"contenido"), ("", b"contenido"), ("notas.txt", b""), ("notas.txt", None),
    ("carpeta/", b"x"), ("\x00\x01\x1f", b"x"), ("   ", b"x"), ("..", b"x"),
])
def test_missing_unnamed_or_empty_file_is_422(name, data):
    with pytest.raises(ValidationFailed) as caught:
        check_upload(name, data)
    assert (caught.value.status, caught.value.code) == (422, "validacion")
    _details(caught.value)


def test_empty_file_message_says_it_is_empty():
    with pytest.raises(ValidationFailed) as caught:
        check_upload("notas.txt", b"")
    assert _details(caught.value) == ["El archivo está vacío."]


def test_file_of_exactly_ten_mib_is_accepted_and_one_byte_more_is_413():
    assert check_upload("grande.txt", b"a" * MAX_FILE_BYTES).tamano == 10 * 1024 * 1024
    with pytest.raises(PayloadTooLarge) as caught:
        check_upload("grande.txt", b"a" * (MAX_FILE_BYTES + 1))
    assert (caught.value.status, caught.value.code) == (413, "demasiado_grande")
    assert "10 MB" in _details(caught.value)[0]


def test_ticket_total_past_fifty_mib_is_413():
    used = MAX_TICKET_BYTES - 100
    assert check_upload("ultimo.txt", b"a" * 100, ticket_bytes_used=used).tamano == 100
    with pytest.raises(PayloadTooLarge) as caught:
        check_upload("uno-mas.txt", b"a" * 101, ticket_bytes_used=used)
    assert (caught.value.status, caught.value.code) == (413, "demasiado_grande")
    assert "50 MB" in _details(caught.value)[0]
    assert MAX_TICKET_BYTES == 50 * 1024 * 1024


@pytest.mark.parametrize(("name", "data"), [
    ("instalador.exe", EXE), ("pagina.html", b"<html><script>alert(1)</script></html>"),
    ("dibujo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("app.js", b"alert(1)"), ("script.sh", b"#!/bin/sh\nrm -rf /\n"), ("sin_extension", b"hola"),
    ("punto.", b"hola"), ("foto.png.exe", EXE), ("pagina.htm", b"<html></html>"),
])
def test_extension_outside_the_list_is_415(name, data):
    with pytest.raises(UnsupportedMediaType) as caught:
        check_upload(name, data)
    assert (caught.value.status, caught.value.code) == (415, "tipo_no_soportado")
    assert "Se admiten" in _details(caught.value)[0]


@pytest.mark.parametrize(("name", "data"), [
    ("factura.pdf", EXE), ("factura.pdf", ELF), ("notas.txt", EXE), ("notas.txt", ELF),
    ("servidor.log", ELF), ("carta.docx", EXE), ("foto.png", EXE), ("foto.jpg", ELF),
    ("factura.pdf", _png()), ("foto.png", PDF), ("foto.gif", JPEG), ("foto.webp", _png()),
    ("carta.docx", _zip([("a.txt", b"hola")])), ("cuentas.xlsx", _ooxml("word")),
    ("carta.docx", _zip([("leeme.txt", b"hola"), ("word/document.xml", b"<doc/>")])),
    ("carta.odt", _odf(ODS)), ("carta.odt", _zip([("a.txt", b"hola")])),
    ("datos.csv", b"nit,nombre\x00\x00\x01\x02\n"), ("notas.txt", b"Caf\xe9 con leche\n"),
    ("notas.txt", _png()), ("notas.txt", b"MZ cabecera sin ceros\n"), ("paquete.zip", _tar()),
    ("paquete.zip", b"PK no es un zip"[:2] + b"\x00\x00"), ("carta.doc", b"\xd0\xcf\x11\xe0" + b"\x00" * 600),
    ("carta.doc", _zip([("a.txt", b"hola")])), ("registros.tar", gzip.compress(b"x")),
    ("registro.gz", _tar()), ("comprimido.7z", RAR5), ("comprimido.rar", _seven_zip()),
    ("foto.png", b"\x89PNG"[:3] + b"no"), ("factura.pdf", b"hola, no soy un PDF"),
])
def test_content_that_does_not_match_the_extension_is_415(name, data):
    with pytest.raises(UnsupportedMediaType) as caught:
        check_upload(name, data)
    assert (caught.value.status, caught.value.code) == (415, "tipo_no_soportado")
    extension = name.rsplit(".", 1)[1]
    assert _details(caught.value) == [f"El contenido no es un archivo .{extension} válido."]


# --- file names ------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "kept"), [
    ("../../etc/factura.pdf", "factura.pdf"),
    ("/var/www/factura.pdf", "factura.pdf"),
    ("C:\\Users\\ana\\Documents\\factura.pdf", "factura.pdf"),
    ("..\\..\\factura.pdf", "factura.pdf"),
    ("mezcla/de\\rutas/factura.pdf", "factura.pdf"),
    ("fac\x00tu\nra\r\t.pdf", "factura.pdf"),
    ("fac\x7ftura\x1b[31m.pdf", "factura[31m.pdf"),
    ("informe\u202efdp.pdf", "informefdp.pdf"),  # right-to-left override: spoofs the shown name
    ("  Acta de reunión.pdf  ", "Acta de reunión.pdf"),
    ("Acta de reunio\u0301n.pdf", "Acta de reunión.pdf"),  # NFD (macOS) becomes NFC
])
def test_file_names_are_cleaned(given, kept):
    assert check_upload(given, PDF).nombre == kept
    assert safe_filename(given) == kept


def test_a_300_character_name_is_cut_to_255_keeping_the_extension():
    checked = check_upload("a" * 296 + ".pdf", PDF)
    assert len(checked.nombre) == 255
    assert checked.nombre == "a" * 251 + ".pdf"
    long_upper = "ñ" * 400 + ".XLSX"
    assert check_upload(long_upper, _ooxml("xl")).nombre == "ñ" * 250 + ".XLSX"


def test_a_name_of_255_characters_is_kept_whole():
    name = "b" * 251 + ".txt"
    assert check_upload(name, b"hola").nombre == name
