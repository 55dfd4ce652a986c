"""Ticket attachments through both APIs, on both storage backends (a local folder in tmp and
S3 served over HTTP by moto's standalone server): the stored row and bytes, downloads, deletion,
every refusal (nothing kept afterwards), storage outages and the /ready probe."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import event, select
from werkzeug.http import parse_options_header

from backend import create_app
from backend.extensions import db as _db
from backend.soporte.files import MAX_FILE_BYTES, MAX_TICKET_BYTES
from backend.soporte.models import SoporteTicketArchivo
from backend.soporte.storage import LocalStorage, S3Storage, Storage, StorageError
from tests.conftest import assert_error, make_config, persist
from tests.soporte.conftest import ARCHIVO_KEYS, GLOBAL_KEY

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
       b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
TEXT = "Año 2024: la factura no sale ✓\r\nlínea 2\n".encode()
EXE = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44
       + b"\x80\x00\x00\x00This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 64
       + b"PE\x00\x00L\x01")
KEY_PATTERN = r"tickets/{ticket_id}/[0-9a-f]{{32}}"
ARCHIVO_INTERNO_KEYS = {"id", "nombre", "tamano", "content_type"}


# ---------------------------------------------------------------- the two backends


@dataclass
class Almacen:
    """The storage the app uses during one test, and ways to look behind its back."""

    kind: str
    storage: Storage
    objects: Callable[[], dict[str, bytes]]  # every object stored: key -> bytes
    down: Callable[[], Storage]  # the same storage, unreachable


def _local_objects(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _s3_objects(client, bucket: str) -> dict[str, bytes]:
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def almacen(request, app, tmp_path) -> Iterator[Almacen]:
    """The app's storage swapped for a fresh local folder or a fresh S3 bucket (restored after)."""
    if request.param == "local":
        root = tmp_path / "uploads"
        blocker = tmp_path / "no-es-carpeta"
        blocker.write_bytes(b"x")
        almacen = Almacen("local", LocalStorage(str(root)), lambda: _local_objects(root),
                          lambda: LocalStorage(str(blocker / "uploads")))
    else:
        client = request.getfixturevalue("s3_client")
        bucket = request.getfixturevalue("s3_bucket")
        make = request.getfixturevalue("make_s3_storage")
        dead = request.getfixturevalue("dead_endpoint")
        almacen = Almacen("s3", make(bucket), lambda: _s3_objects(client, bucket),
                          lambda: make(bucket, endpoint_url=dead))
    previous = app.extensions["storage"]
    app.extensions["storage"] = almacen.storage
    try:
        yield almacen
    finally:
        app.extensions["storage"] = previous


@contextmanager
def storage_swapped(app, storage: Storage):
    previous = app.extensions["storage"]
    app.extensions["storage"] = storage
    try:
        yield
    finally:
        app.extensions["storage"] = previous


# ---------------------------------------------------------------- data and calls


@pytest.fixture
def ticket(empresa, soporte_activo, make_ticket):
    return make_ticket(empresa, soporte_activo)


@pytest.fixture
def otra_empresa(make_empresa):
    return make_empresa(nombre="Otra SAS")


@pytest.fixture
def ticket_ajeno(otra_empresa, make_ticket):
    """A ticket of another company."""
    return make_ticket(otra_empresa, titulo="Ticket ajeno")


def _multipart(data: bytes, name: str, content_type: str = "application/octet-stream") -> dict:
    return {"file": (BytesIO(data), name, content_type)}


def admin_upload(client, headers, ticket_id, data, name, content_type="application/octet-stream"):
    return client.post(f"/admin/soporte-tickets/{ticket_id}/archivos", headers=headers,
                       data=_multipart(data, name, content_type), content_type="multipart/form-data")


def internal_upload(client, headers, ticket_id, data, name, content_type="application/octet-stream"):
    return client.post(f"/api/internal/support/tickets/{ticket_id}/upload", headers=headers,
                       data=_multipart(data, name, content_type), content_type="multipart/form-data")


def _filas(db) -> list[SoporteTicketArchivo]:
    db.session.expire_all()
    return list(db.session.scalars(select(SoporteTicketArchivo).order_by(SoporteTicketArchivo.id)))


def _assert_download(response, data: bytes, content_type: str, nombre: str) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_data() == data
    assert response.mimetype == content_type
    assert "html" not in response.content_type and "script" not in response.content_type
    disposition, params = parse_options_header(response.headers["Content-Disposition"])
    assert disposition == "attachment"
    assert params["filename"] == nombre
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# ---------------------------------------------------------------- uploads


def test_staff_upload_stores_the_row_and_the_exact_bytes(client, db, admin, admin_headers,
                                                          ticket, almacen):
    response = admin_upload(client, admin_headers, ticket.id, PDF, "Factura marzo.pdf", "text/html")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == ARCHIVO_KEYS
    assert body["nombre"] == "Factura marzo.pdf"
    assert body["tamano"] == len(PDF)
    assert body["content_type"] == "application/pdf"  # never the client's claim
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["created_at"])

    [fila] = _filas(db)
    assert (fila.id, fila.ticket_id, fila.nombre, fila.tamano, fila.content_type, fila.sha256,
            fila.subido_por) == (body["id"], ticket.id, "Factura marzo.pdf", len(PDF),
                                 "application/pdf", body["sha256"], admin.id)
    assert re.fullmatch(KEY_PATTERN.format(ticket_id=ticket.id), fila.storage_key)
    assert "Factura" not in fila.storage_key
    assert almacen.objects() == {fila.storage_key: PDF}


def test_internal_upload_stores_the_row_and_the_exact_bytes(client, db, ticket, internal_headers,
                                                             almacen):
    response = internal_upload(client, internal_headers, ticket.id, PNG, "captura.png")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == ARCHIVO_INTERNO_KEYS
    assert (body["nombre"], body["tamano"], body["content_type"]) == ("captura.png", len(PNG),
                                                                       "image/png")
    [fila] = _filas(db)
    assert (fila.id, fila.ticket_id, fila.tamano, fila.sha256, fila.subido_por) == (
        body["id"], ticket.id, len(PNG), hashlib.sha256(PNG).hexdigest(), None)
    assert re.fullmatch(KEY_PATTERN.format(ticket_id=ticket.id), fila.storage_key)
    assert almacen.objects() == {fila.storage_key: PNG}


def test_a_company_key_uploads_to_its_own_tickets(client, db, empresa, ticket, company_key, almacen):
    headers = {"X-API-Key": company_key(empresa), "X-Empresa-Id": str(empresa.id)}
    response = internal_upload(client, headers, ticket.id, TEXT, "notas.txt")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert list(almacen.objects().values()) == [TEXT]


def test_a_client_path_in_the_name_never_reaches_the_storage(client, db, admin_headers, ticket,
                                                              almacen):
    response = admin_upload(client, admin_headers, ticket.id, PDF, "../../../app.pdf")
    assert response.status_code == 201, response.get_data(as_text=True)
    [fila] = _filas(db)
    assert fila.nombre == "app.pdf"
    assert list(almacen.objects()) == [fila.storage_key]
    assert ".." not in fila.storage_key and "app" not in fila.storage_key


def test_two_uploads_of_the_same_name_get_two_keys(client, db, admin_headers, internal_headers,
                                                    ticket, almacen):
    assert admin_upload(client, admin_headers, ticket.id, PDF, "a.pdf").status_code == 201
    assert internal_upload(client, internal_headers, ticket.id, PDF[:-1] + b" ", "a.pdf") \
        .status_code == 201
    filas = _filas(db)
    assert len({f.storage_key for f in filas}) == 2
    assert almacen.objects() == {filas[0].storage_key: PDF, filas[1].storage_key: PDF[:-1] + b" "}


def test_a_file_of_exactly_ten_mib_is_accepted(client, db, admin_headers, ticket, almacen):
    data = b"a" * (MAX_FILE_BYTES - 1) + b"\n"
    response = admin_upload(client, admin_headers, ticket.id, data, "grande.log")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["tamano"] == 10 * 1024 * 1024
    [fila] = _filas(db)
    assert almacen.objects() == {fila.storage_key: data}


def test_the_ticket_may_reach_exactly_fifty_mib(client, db, admin_headers, ticket, almacen):
    persist(db, SoporteTicketArchivo(ticket_id=ticket.id, nombre="previo.zip", tamano=MAX_TICKET_BYTES - 10,
                                     storage_key=f"tickets/{ticket.id}/{'0' * 32}", sha256="0" * 64,
                                     content_type="application/zip"))
    response = admin_upload(client, admin_headers, ticket.id, b"123456789\n", "ultimo.txt")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert len(_filas(db)) == 2


# ---------------------------------------------------------------- downloads


@pytest.mark.parametrize(("nombre", "data", "content_type"), [
    ("Factura marzo.pdf", PDF, "application/pdf"),
    ("Acta de reunión ñandú €.png", PNG, "image/png"),
    ("notas de Peña.txt", TEXT, "text/plain"),
    ("informe; v2 (final).pdf", PDF, "application/pdf"),
])
def test_download_answers_the_exact_bytes_on_both_apis(client, admin_headers, internal_headers,
                                                        ticket, almacen, nombre, data, content_type):
    subida = admin_upload(client, admin_headers, ticket.id, data, nombre)
    assert subida.status_code == 201, subida.get_data(as_text=True)
    archivo_id = subida.get_json()["id"]

    staff = client.get(f"/admin/soporte-tickets/{ticket.id}/archivos/{archivo_id}",
                       headers=admin_headers)
    _assert_download(staff, data, content_type, nombre)
    interna = client.get(f"/api/internal/support/tickets/{ticket.id}/archivos/{archivo_id}",
                         headers=internal_headers)
    _assert_download(interna, data, content_type, nombre)


def test_download_quotes_a_name_with_quotes_and_semicolons(client, db, admin_headers,
                                                           internal_headers, ticket, almacen):
    # Clients encode such names in many ways (%22, \"); whatever was kept is served safely.
    archivo_id = admin_upload(client, admin_headers, ticket.id, PDF, "f.pdf").get_json()["id"]
    fila = db.session.get(SoporteTicketArchivo, archivo_id)
    fila.nombre = 'informe "final"; filename=x.html.pdf'
    db.session.commit()
    for url, headers in ((f"/admin/soporte-tickets/{ticket.id}/archivos/{archivo_id}", admin_headers),
                         (f"/api/internal/support/tickets/{ticket.id}/archivos/{archivo_id}",
                          internal_headers)):
        _assert_download(client.get(url, headers=headers), PDF, "application/pdf",
                         'informe "final"; filename=x.html.pdf')


def test_download_never_serves_the_clients_content_type(client, internal_headers, soporte_headers,
                                                        ticket, almacen):
    html_like = b"<html><body><script>alert(1)</script></body></html>\n"
    subida = internal_upload(client, internal_headers, ticket.id, html_like, "pagina.txt", "text/html")
    assert subida.status_code == 201, subida.get_data(as_text=True)
    response = client.get(f"/admin/soporte-tickets/{ticket.id}/archivos/{subida.get_json()['id']}",
                          headers=soporte_headers)
    _assert_download(response, html_like, "text/plain", "pagina.txt")


def test_ticket_detail_lists_the_files_on_both_apis(client, admin_headers, internal_headers, ticket,
                                                    almacen):
    subida = admin_upload(client, admin_headers, ticket.id, PDF, "f.pdf").get_json()
    staff = client.get(f"/admin/soporte-tickets/{ticket.id}", headers=admin_headers).get_json()
    assert staff["archivos"] == [subida]
    interna = client.get(f"/api/internal/support/ticket_id/{ticket.id}", headers=internal_headers)
    assert [a["id"] for a in interna.get_json()["archivos"]] == [subida["id"]]


def test_a_file_of_another_ticket_or_company_is_404(client, db, admin_headers, internal_headers,
                                                     empresa, soporte_activo, make_ticket, ticket,
                                                     ticket_ajeno, otra_empresa, almacen):
    otro_ticket = make_ticket(empresa, soporte_activo, titulo="Otro ticket propio")
    propio = admin_upload(client, admin_headers, ticket.id, PDF, "propio.pdf").get_json()["id"]
    ajeno = admin_upload(client, admin_headers, ticket_ajeno.id, PNG, "ajeno.png").get_json()["id"]

    # Staff: a file through a ticket it does not belong to.
    for ticket_id, archivo_id in ((otro_ticket.id, propio), (ticket.id, ajeno), (ticket.id, 999_999),
                                  (999_999, propio)):
        assert_error(client.get(f"/admin/soporte-tickets/{ticket_id}/archivos/{archivo_id}",
                                headers=admin_headers), 404, "no_encontrado")
    # The internal API: another ticket, another company's file, another company's ticket.
    for ticket_id, archivo_id in ((otro_ticket.id, propio), (ticket.id, ajeno),
                                  (ticket_ajeno.id, ajeno)):
        response = client.get(f"/api/internal/support/tickets/{ticket_id}/archivos/{archivo_id}",
                              headers=internal_headers)
        body = assert_error(response, 404, "no_encontrado")
        assert "PDF" not in str(body) and response.get_data() not in (PDF, PNG)
    # The other company reaches its own file and not ours.
    ajenos = {"X-API-Key": GLOBAL_KEY, "X-Empresa-Id": str(otra_empresa.id)}
    assert client.get(f"/api/internal/support/tickets/{ticket_ajeno.id}/archivos/{ajeno}",
                      headers=ajenos).get_data() == PNG
    assert_error(client.get(f"/api/internal/support/tickets/{ticket.id}/archivos/{propio}",
                            headers=ajenos), 404)
    assert len(_filas(db)) == 2


def test_download_of_a_row_whose_bytes_are_gone_is_404(client, db, admin_headers, ticket, almacen):
    subida = admin_upload(client, admin_headers, ticket.id, PDF, "f.pdf").get_json()
    [fila] = _filas(db)
    almacen.storage.delete(fila.storage_key)
    assert_error(client.get(f"/admin/soporte-tickets/{ticket.id}/archivos/{subida['id']}",
                            headers=admin_headers), 404, "no_encontrado")


# ---------------------------------------------------------------- deletion


def test_delete_removes_the_row_and_the_bytes(client, db, admin_headers, ticket, almacen):
    primero = admin_upload(client, admin_headers, ticket.id, PDF, "uno.pdf").get_json()["id"]
    segundo = admin_upload(client, admin_headers, ticket.id, PNG, "dos.png").get_json()["id"]
    [_, fila_dos] = _filas(db)

    response = client.delete(f"/admin/soporte-tickets/{ticket.id}/archivos/{primero}",
                             headers=admin_headers)
    assert response.status_code == 204, response.get_data(as_text=True)
    assert [f.id for f in _filas(db)] == [segundo]
    assert almacen.objects() == {fila_dos.storage_key: PNG}  # only that file's bytes went away
    assert_error(client.get(f"/admin/soporte-tickets/{ticket.id}/archivos/{primero}",
                            headers=admin_headers), 404)
    assert_error(client.delete(f"/admin/soporte-tickets/{ticket.id}/archivos/{primero}",
                               headers=admin_headers), 404)


def test_delete_through_another_ticket_is_404_and_keeps_everything(client, db, admin_headers,
                                                                   cliente_headers, ticket,
                                                                   ticket_ajeno, almacen):
    archivo_id = admin_upload(client, admin_headers, ticket.id, PDF, "f.pdf").get_json()["id"]
    antes = almacen.objects()
    assert_error(client.delete(f"/admin/soporte-tickets/{ticket_ajeno.id}/archivos/{archivo_id}",
                               headers=admin_headers), 404)
    assert_error(client.delete(f"/admin/soporte-tickets/{ticket.id}/archivos/{archivo_id}"), 401)
    assert_error(client.delete(f"/admin/soporte-tickets/{ticket.id}/archivos/{archivo_id}",
                               headers=cliente_headers), 403)
    assert [f.id for f in _filas(db)] == [archivo_id]
    assert almacen.objects() == antes


def test_delete_is_staff_only_and_not_on_the_internal_api(client, db, admin_headers, internal_headers,
                                                          ticket, almacen):
    archivo_id = admin_upload(client, admin_headers, ticket.id, PDF, "f.pdf").get_json()["id"]
    response = client.delete(f"/api/internal/support/tickets/{ticket.id}/archivos/{archivo_id}",
                             headers=internal_headers)
    assert_error(response, 405)
    assert len(_filas(db)) == 1 and len(almacen.objects()) == 1


def test_staff_upload_and_delete_write_audit_rows(client, admin, admin_headers, ticket, almacen,
                                                  audit_rows):
    archivo_id = admin_upload(client, admin_headers, ticket.id, PDF, "f.pdf").get_json()["id"]
    assert client.delete(f"/admin/soporte-tickets/{ticket.id}/archivos/{archivo_id}",
                         headers=admin_headers).status_code == 204
    rows = audit_rows("soporte_ticket_archivos", archivo_id)
    assert [(r.accion, r.usuario_id) for r in rows] == [("crear", admin.id), ("eliminar", admin.id)]


# ---------------------------------------------------------------- refusals: nothing kept


def _refusals(ticket, otra_empresa, cliente_headers, admin_headers, internal_headers, company_key,
              empresa):
    """(label, call, status, code) for every refused upload."""
    big = b"a" * (MAX_FILE_BYTES + 1)
    ajenos = {"X-API-Key": GLOBAL_KEY, "X-Empresa-Id": str(otra_empresa.id)}
    otra_key = {"X-API-Key": company_key(otra_empresa), "X-Empresa-Id": str(empresa.id)}
    admin_url = f"/admin/soporte-tickets/{ticket.id}/archivos"
    internal_url = f"/api/internal/support/tickets/{ticket.id}/upload"
    cases = []
    for api, upload, headers in (("admin", admin_upload, admin_headers),
                                 ("internal", internal_upload, internal_headers)):
        url = admin_url if api == "admin" else internal_url
        cases += [
            (f"{api}-oversize", lambda c, u=upload, h=headers: u(c, h, ticket.id, big, "grande.txt"),
             413, "demasiado_grande", None),
            (f"{api}-extension", lambda c, u=upload, h=headers: u(c, h, ticket.id, EXE, "setup.exe"),
             415, "tipo_no_soportado", "file"),
            (f"{api}-html", lambda c, u=upload, h=headers: u(c, h, ticket.id, b"<html></html>",
                                                            "pagina.html", "text/html"),
             415, "tipo_no_soportado", "file"),
            (f"{api}-disguised-exe", lambda c, u=upload, h=headers: u(c, h, ticket.id, EXE,
                                                                     "factura.pdf", "application/pdf"),
             415, "tipo_no_soportado", "file"),
            (f"{api}-empty", lambda c, u=upload, h=headers: u(c, h, ticket.id, b"", "vacio.txt"),
             422, "validacion", "file"),
            (f"{api}-no-file-field", lambda c, url=url, h=headers: c.post(
                url, headers=h, data={"archivo": (BytesIO(PDF), "f.pdf")},
                content_type="multipart/form-data"), 422, "validacion", "file"),
            (f"{api}-form-field-not-a-file", lambda c, url=url, h=headers: c.post(
                url, headers=h, data={"file": "no soy un archivo"}, content_type="multipart/form-data"),
             422, "validacion", "file"),
            (f"{api}-json-body", lambda c, url=url, h=headers: c.post(
                url, headers=h, json={"file": "JVBERi0xLjQK", "nombre": "f.pdf"}),
             422, "validacion", "file"),
            (f"{api}-no-body", lambda c, url=url, h=headers: c.post(url, headers=h),
             422, "validacion", "file"),
        ]
    cases += [
        ("admin-anonymous", lambda c: admin_upload(c, {}, ticket.id, PDF, "f.pdf"), 401,
         "no_autenticado", None),
        ("admin-cliente", lambda c: admin_upload(c, cliente_headers, ticket.id, PDF, "f.pdf"), 403,
         "prohibido", None),
        ("admin-missing-ticket", lambda c: admin_upload(c, admin_headers, 999_999, PDF, "f.pdf"), 404,
         "no_encontrado", None),
        ("internal-no-key", lambda c: internal_upload(c, {"X-Empresa-Id": str(empresa.id)}, ticket.id,
                                                      PDF, "f.pdf"), 401, "no_autenticado", None),
        ("internal-bad-key", lambda c: internal_upload(c, {"X-API-Key": "otra-cosa",
                                                           "X-Empresa-Id": str(empresa.id)},
                                                       ticket.id, PDF, "f.pdf"), 401, None, None),
        ("internal-other-company", lambda c: internal_upload(c, ajenos, ticket.id, PDF, "f.pdf"), 404,
         "no_encontrado", None),
        ("internal-other-companys-key", lambda c: internal_upload(c, otra_key, ticket.id, PDF, "f.pdf"),
         403, "prohibido", None),
        ("internal-other-companys-key-no-file", lambda c: c.post(
            internal_url, headers=otra_key, json={"file": "x"}), 403, "prohibido", None),
        ("internal-unknown-company", lambda c: internal_upload(c, {"X-API-Key": GLOBAL_KEY,
                                                                   "X-Empresa-Id": "999999"},
                                                               ticket.id, PDF, "f.pdf"),
         404, "no_encontrado", None),
        ("internal-unknown-company-no-file", lambda c: c.post(
            internal_url, headers={"X-API-Key": GLOBAL_KEY, "X-Empresa-Id": "999999"}),
         404, "no_encontrado", None),
        ("internal-bad-company-header", lambda c: internal_upload(c, {"X-API-Key": GLOBAL_KEY,
                                                                      "X-Empresa-Id": "uno"},
                                                                  ticket.id, PDF, "f.pdf"),
         400, "solicitud_invalida", None),
        ("internal-access-token", lambda c: internal_upload(c, {**admin_headers,
                                                                "X-Empresa-Id": str(empresa.id)},
                                                            ticket.id, PDF, "f.pdf"),
         401, "no_autenticado", None),
    ]
    return cases


REFUSALS = ["admin-oversize", "admin-extension", "admin-html", "admin-disguised-exe", "admin-empty",
            "admin-no-file-field", "admin-form-field-not-a-file", "admin-json-body", "admin-no-body",
            "internal-oversize", "internal-extension", "internal-html", "internal-disguised-exe",
            "internal-empty", "internal-no-file-field", "internal-form-field-not-a-file",
            "internal-json-body", "internal-no-body", "admin-anonymous", "admin-cliente",
            "admin-missing-ticket", "internal-no-key", "internal-bad-key", "internal-other-company",
            "internal-other-companys-key", "internal-other-companys-key-no-file",
            "internal-unknown-company", "internal-unknown-company-no-file",
            "internal-bad-company-header", "internal-access-token"]


@pytest.mark.parametrize("caso", REFUSALS)
def test_refused_upload_keeps_no_row_and_no_bytes(client, db, caso, empresa, ticket, otra_empresa,
                                                  cliente_headers, admin_headers, internal_headers,
                                                  company_key, almacen):
    cases = {label: rest for label, *rest in _refusals(ticket, otra_empresa, cliente_headers,
                                                       admin_headers, internal_headers, company_key,
                                                       empresa)}
    assert set(cases) == set(REFUSALS)
    call, status, code, detail = cases[caso]
    body = assert_error(call(client), status, code)
    if detail is not None:
        assert set(body["details"]) == {detail}, body
        assert body["details"][detail] and all(isinstance(m, str) for m in body["details"][detail])
    assert _filas(db) == []
    assert almacen.objects() == {}


def test_a_ticket_going_past_fifty_mib_is_413_on_both_apis(client, db, admin_headers, internal_headers,
                                                           ticket, almacen):
    previo = persist(db, SoporteTicketArchivo(
        ticket_id=ticket.id, nombre="previo.zip", tamano=MAX_TICKET_BYTES - 10,
        storage_key=f"tickets/{ticket.id}/{'0' * 32}", sha256="0" * 64, content_type="application/zip"))
    for upload, headers in ((admin_upload, admin_headers), (internal_upload, internal_headers)):
        body = assert_error(upload(client, headers, ticket.id, b"12345678901", "uno-mas.txt"),
                            413, "demasiado_grande")
        assert "50 MB" in body["details"]["file"][0]
    assert [f.id for f in _filas(db)] == [previo.id]
    assert almacen.objects() == {}


def test_fifty_mib_reached_by_real_uploads_refuses_the_next_byte(client, db, admin_headers,
                                                                 internal_headers, ticket, almacen):
    chunk = b"x" * (MAX_FILE_BYTES - 1) + b"\n"
    for n in range(5):
        upload = admin_upload if n % 2 == 0 else internal_upload
        headers = admin_headers if n % 2 == 0 else internal_headers
        response = upload(client, headers, ticket.id, chunk, f"parte{n}.log")
        assert response.status_code == 201, response.get_data(as_text=True)
    assert_error(internal_upload(client, internal_headers, ticket.id, b"1", "uno.txt"), 413,
                 "demasiado_grande")
    assert sum(f.tamano for f in _filas(db)) == MAX_TICKET_BYTES
    assert len(almacen.objects()) == 5


def test_a_request_above_max_content_length_is_a_json_413(client, db, admin_headers, ticket, almacen):
    body = b"a" * (50 * 1024 * 1024 + 1)
    response = admin_upload(client, admin_headers, ticket.id, body, "enorme.txt")
    assert_error(response, 413, "demasiado_grande")
    assert _filas(db) == [] and almacen.objects() == {}


# ---------------------------------------------------------------- storage failures


def test_storage_down_during_an_upload_is_a_clean_503(app, client, db, admin_headers,
                                                      internal_headers, ticket, almacen):
    with storage_swapped(app, almacen.down()):
        for upload, headers in ((admin_upload, admin_headers), (internal_upload, internal_headers)):
            response = upload(client, headers, ticket.id, PDF, "f.pdf")
            body = assert_error(response, 503, "almacenamiento_no_disponible")
            assert "Traceback" not in str(body) and "127.0.0.1" not in str(body)
    assert _filas(db) == []
    assert almacen.objects() == {}


def test_storage_down_during_a_download_is_503(app, client, admin_headers, internal_headers, ticket,
                                               almacen):
    archivo_id = admin_upload(client, admin_headers, ticket.id, PDF, "f.pdf").get_json()["id"]
    with storage_swapped(app, almacen.down()):
        assert_error(client.get(f"/admin/soporte-tickets/{ticket.id}/archivos/{archivo_id}",
                                headers=admin_headers), 503, "almacenamiento_no_disponible")
        assert_error(client.get(f"/api/internal/support/tickets/{ticket.id}/archivos/{archivo_id}",
                                headers=internal_headers), 503, "almacenamiento_no_disponible")


def test_storage_down_during_a_delete_keeps_the_row_and_the_bytes(app, client, db, admin_headers,
                                                                  ticket, almacen):
    archivo_id = admin_upload(client, admin_headers, ticket.id, PDF, "f.pdf").get_json()["id"]
    [fila] = _filas(db)
    with storage_swapped(app, almacen.down()):
        response = client.delete(f"/admin/soporte-tickets/{ticket.id}/archivos/{archivo_id}",
                                 headers=admin_headers)
        assert_error(response, 503, "almacenamiento_no_disponible")
    assert [f.id for f in _filas(db)] == [archivo_id]
    assert almacen.objects() == {fila.storage_key: PDF}
    # And once the storage is back, the file is still whole and can be deleted.
    _assert_download(client.get(f"/admin/soporte-tickets/{ticket.id}/archivos/{archivo_id}",
                                headers=admin_headers), PDF, "application/pdf", "f.pdf")
    assert client.delete(f"/admin/soporte-tickets/{ticket.id}/archivos/{archivo_id}",
                         headers=admin_headers).status_code == 204
    assert _filas(db) == [] and almacen.objects() == {}


def test_a_put_that_fails_after_the_bytes_landed_leaves_no_bytes(client, db, admin_headers, ticket,
                                                                  almacen):
    """S3 may store the object and still fail the call (a read timeout on the answer): the
    upload is refused, so the bytes must not stay behind without a row."""
    original_put = almacen.storage.put

    def put_then_fail(key, data, content_type):
        original_put(key, data, content_type)
        raise StorageError("read timeout after the object was stored")

    almacen.storage.put = put_then_fail
    assert_error(admin_upload(client, admin_headers, ticket.id, PDF, "f.pdf"), 503,
                 "almacenamiento_no_disponible")
    assert _filas(db) == []
    assert almacen.objects() == {}


@pytest.fixture
def insert_fails():
    """Every INSERT of an attachment row fails (after the bytes were written)."""

    def boom(*_args):
        raise RuntimeError("la base de datos se cayó al guardar la fila")

    event.listen(SoporteTicketArchivo, "before_insert", boom)
    yield
    event.remove(SoporteTicketArchivo, "before_insert", boom)


def test_a_failed_commit_after_the_bytes_were_written_leaves_no_bytes(client, db, admin_headers,
                                                                      internal_headers, ticket,
                                                                      almacen, insert_fails):
    escritos = []
    original_put = almacen.storage.put

    def spy(key, data, content_type):
        original_put(key, data, content_type)
        escritos.append(key)
        assert almacen.objects() == {key: data}  # the bytes really were there

    almacen.storage.put = spy
    for upload, headers in ((admin_upload, admin_headers), (internal_upload, internal_headers)):
        body = assert_error(upload(client, headers, ticket.id, PDF, "f.pdf"), 500, "error_interno")
        assert "base de datos" not in str(body)
    assert len(escritos) == 2
    assert _filas(db) == []
    assert almacen.objects() == {}


# ---------------------------------------------------------------- readiness


def test_ready_reports_the_storage(client, almacen):
    response = client.get("/ready")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["checks"]["storage"] == "ok"


def test_ready_is_503_when_the_storage_is_unreachable(app, client, almacen):
    with storage_swapped(app, almacen.down()):
        response = client.get("/ready")
    body = assert_error(response, 503)
    checks = body["details"]["checks"]
    assert checks["database"] == "ok"
    assert checks["storage"].startswith("error")
    assert client.get("/ready").status_code == 200


@pytest.mark.integration
def test_ready_is_503_when_the_bucket_is_missing(app, client, make_s3_storage):
    with storage_swapped(app, make_s3_storage("bucket-que-no-existe")):
        body = assert_error(client.get("/ready"), 503)
    assert body["details"]["checks"]["storage"].startswith("error")


@pytest.fixture
def s3_app(moto_endpoint, tmp_path):
    """`s3_app(bucket, endpoint)`: an app whose settings say STORAGE_BACKEND=s3 (no swapping)."""
    built = []

    def build(bucket: str, endpoint_url: str | None = None):
        built.append(create_app(make_config(
            STORAGE_BACKEND="s3", S3_BUCKET=bucket, S3_ENDPOINT_URL=endpoint_url or moto_endpoint,
            S3_ACCESS_KEY="testing", S3_SECRET_KEY="testing", S3_REGION="us-east-1",
            UPLOAD_FOLDER=str(tmp_path / "nunca-usado"), MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
            LOCATION_DB_PATH=str(tmp_path / "location.sqlite3"),
            LICENSE_SIGNING_KEY_PATH=str(tmp_path / "license.pem"))))
        return built[-1]

    yield build
    for app in built:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.mark.integration
def test_an_app_built_with_s3_settings_is_ready_on_the_bucket(s3_app, s3_bucket, dead_endpoint,
                                                              tmp_path):
    app = s3_app(s3_bucket)
    storage = app.extensions["storage"]
    assert isinstance(storage, S3Storage) and storage.bucket == s3_bucket
    response = app.test_client().get("/ready")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["checks"]["storage"] == "ok"
    assert not (tmp_path / "nunca-usado").exists()

    unreachable = s3_app(s3_bucket, dead_endpoint)
    body = assert_error(unreachable.test_client().get("/ready"), 503)
    assert body["details"]["checks"]["storage"].startswith("error")
