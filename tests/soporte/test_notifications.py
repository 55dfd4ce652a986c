"""Support desk emails, read from a real SMTP server (the aiosmtpd sink of tests.identity):
who hears of a new ticket, of a staff reply and of a change of state; internal notes are
never announced; ticket content is escaped in the HTML body; a mail server that is down never
changes the answer; and, once, a reply travels through Redis to a real Celery worker."""
from __future__ import annotations

import logging

import pytest

from backend.identity.models import Rol
from backend.soporte.models import EstadoTicket, SoporteSuscripcion, SoporteTicket, SoporteTicketComentario
from tests import celery_worker
from tests.identity import conftest as identity
from tests.identity.conftest import free_port

# The SMTP sink's fixtures, made fixtures of this module (`mailbox` is autouse: every email of
# these tests goes over SMTP to the sink).
smtp_sink = identity.smtp_sink
mailbox = identity.mailbox

URL = "/admin/soporte-tickets"
INTERNAL = "/api/internal/support"
CONTACTO = "contacto@acme.com"
NUEVO = {"titulo": "No puedo facturar", "descripcion": "El botón no responde.", "prioridad": "alta"}


def recipients(mailbox) -> list[str]:
    return sorted(m["To"] for m in mailbox.messages)


@pytest.fixture
def empresa_con_contacto(db, empresa):
    empresa.email = CONTACTO
    db.session.commit()
    return empresa


@pytest.fixture
def equipo(make_usuario, soporte_user):
    """Two active `soporte` users (soporte@test.com and ana@soporte.com), an inactive one and
    an active admin (who hears of nothing while there is support staff)."""
    make_usuario(rol=Rol.SOPORTE, email="ana@soporte.com")
    make_usuario(rol=Rol.SOPORTE, email="baja@soporte.com", is_active=False)
    make_usuario(rol=Rol.ADMIN, email="jefa@test.com")
    return ["ana@soporte.com", "soporte@test.com"]


@pytest.fixture
def ticket(empresa_con_contacto, soporte_activo, cliente, make_ticket):
    """A ticket of Acme opened by its user cliente@acme.com (stored: no email sent)."""
    return make_ticket(empresa_con_contacto, soporte_activo, usuario_id=cliente.id)


# ---------------------------------------------------------------- a ticket is opened

def _check_opened(mailbox, ticket_id: int, to: list[str]) -> None:
    assert recipients(mailbox) == to
    for message in mailbox.messages:
        assert message["Subject"] == f"Nuevo ticket de soporte #{ticket_id}: No puedo facturar"
        text = mailbox.text(message)
        assert f"#{ticket_id} No puedo facturar" in text
        assert "Acme SAS" in text and "alta" in text and "El botón no responde." in text
        assert "No puedo facturar" in mailbox.html(message)


def test_ticket_opened_by_staff_emails_the_support_staff(client, admin_headers, equipo,
                                                         empresa_con_contacto, soporte_activo,
                                                         mailbox):
    response = client.post(URL, headers=admin_headers,
                           json={"empresa_id": empresa_con_contacto.id, **NUEVO})
    assert response.status_code == 201, response.get_json()
    _check_opened(mailbox, response.get_json()["id"], equipo)


def test_ticket_opened_through_the_internal_api_emails_the_support_staff(
        client, equipo, empresa_con_contacto, soporte_activo, internal_headers, mailbox):
    response = client.post(f"{INTERNAL}/create_tickets", headers=internal_headers, json=NUEVO)
    assert response.status_code == 201, response.get_json()
    _check_opened(mailbox, response.get_json()["id"], equipo)


def test_without_support_staff_the_admins_hear_of_it(client, make_usuario, admin, empresa,
                                                     soporte_activo, internal_headers,
                                                     mailbox):
    make_usuario(rol=Rol.SOPORTE, email="baja@soporte.com", is_active=False)
    make_usuario(rol=Rol.ADMIN, email="otra.admin@test.com")
    make_usuario(rol=Rol.ADMIN, email="ex.admin@test.com", is_active=False)
    response = client.post(f"{INTERNAL}/create_tickets", headers=internal_headers, json=NUEVO)
    assert response.status_code == 201
    _check_opened(mailbox, response.get_json()["id"], ["admin@test.com", "otra.admin@test.com"])


def test_a_refused_ticket_emails_nobody(client, equipo, empresa, internal_headers,
                                        mailbox):
    response = client.post(f"{INTERNAL}/create_tickets", headers=internal_headers, json=NUEVO)
    assert response.status_code == 403
    assert mailbox.messages == []


# ---------------------------------------------------------------- staff replies

def test_staff_reply_emails_the_company_contact_and_the_ticket_user(
        client, soporte_headers, equipo, ticket, mailbox):
    response = client.post(f"{URL}/{ticket.id}/comentarios", headers=soporte_headers,
                           json={"contenido": "Ya quedó corregido.\nPruebe de nuevo."})
    assert response.status_code == 201
    assert recipients(mailbox) == ["cliente@acme.com", CONTACTO]
    for message in mailbox.messages:
        assert message["Subject"] == f"Respuesta a su ticket #{ticket.id}: No puedo facturar"
        assert "Ya quedó corregido.\nPruebe de nuevo." in mailbox.text(message).replace("\r\n", "\n")
        assert "Ya quedó corregido." in mailbox.html(message)


def test_reply_to_one_address_once(client, db, admin_headers, empresa, soporte_activo,
                                   make_usuario, make_ticket, mailbox):
    empresa.email = "Compras@Acme.com"
    db.session.commit()
    usuario = make_usuario(empresa_id=empresa.id, email="compras@acme.com")
    ticket = make_ticket(empresa, soporte_activo, usuario_id=usuario.id)
    assert client.post(f"{URL}/{ticket.id}/comentarios", headers=admin_headers,
                       json={"contenido": "Hola"}).status_code == 201
    assert recipients(mailbox) == ["compras@acme.com"]


def test_reply_without_contact_or_user_emails_nobody(client, admin_headers, empresa, soporte_activo,
                                                     make_ticket, mailbox):
    ticket = make_ticket(empresa, soporte_activo)
    assert client.post(f"{URL}/{ticket.id}/comentarios", headers=admin_headers,
                       json={"contenido": "Hola"}).status_code == 201
    assert mailbox.messages == []


def test_internal_note_emails_nobody(client, db, soporte_headers, equipo, ticket,
                                     mailbox):
    response = client.post(f"{URL}/{ticket.id}/comentarios", headers=soporte_headers,
                           json={"contenido": "Cliente moroso", "interno": True})
    assert response.status_code == 201
    assert db.session.get(SoporteTicketComentario, response.get_json()["id"]).interno is True
    assert mailbox.messages == []


def test_company_comment_does_not_email_the_company(client, ticket, internal_headers,
                                                   mailbox):
    assert client.post(f"{INTERNAL}/tickets/{ticket.id}/comentarios", headers=internal_headers,
                       json={"contenido": "Gracias"}).status_code == 201
    assert CONTACTO not in recipients(mailbox) and "cliente@acme.com" not in recipients(mailbox)


# ---------------------------------------------------------------- changes of state

@pytest.mark.parametrize(("call", "antes", "ahora"), [
    (("PATCH", "", {"estado": "en_proceso"}), "abierto", "en_proceso"),
    (("POST", "/cerrar", None), "abierto", "cerrado"),
    (("POST", "/cancelar", None), "abierto", "cancelado"),
    (("POST", "/reabrir", None), "cerrado", "abierto"),
])
def test_change_of_state_emails_the_company(client, db, admin_headers, equipo, ticket, call, antes,
                                            ahora, mailbox):
    if antes != "abierto":
        ticket.estado = EstadoTicket(antes)
        db.session.commit()
    method, path, body = call
    response = client.open(f"{URL}/{ticket.id}{path}", method=method, json=body,
                           headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert recipients(mailbox) == ["cliente@acme.com", CONTACTO]
    for message in mailbox.messages:
        assert message["Subject"] == f"Su ticket #{ticket.id} pasó a {ahora}"
        text = mailbox.text(message)
        assert f"#{ticket.id} (No puedo facturar)" in text
        assert f"«{antes}» a «{ahora}»" in text
        assert f"«{antes}» a «{ahora}»" in mailbox.html(message)


def test_no_email_without_a_change_of_state(client, admin_headers, ticket, mailbox):
    assert client.patch(f"{URL}/{ticket.id}", headers=admin_headers,
                        json={"prioridad": "urgente"}).status_code == 200
    assert client.patch(f"{URL}/{ticket.id}", headers=admin_headers,
                        json={"estado": "abierto"}).status_code == 200
    assert client.post(f"{URL}/{ticket.id}/reabrir", headers=admin_headers).status_code == 409
    assert mailbox.messages == []


# ---------------------------------------------------------------- escaping

def test_html_body_escapes_ticket_content(client, admin_headers, equipo, empresa_con_contacto,
                                          soporte_activo, mailbox):
    titulo = "<script>alert('x')</script> & co"
    response = client.post(URL, headers=admin_headers, json={
        "empresa_id": empresa_con_contacto.id, "titulo": titulo,
        "descripcion": '<img src=x onerror="alert(1)">'})
    ticket_id = response.get_json()["id"]
    message = mailbox.last("ana@soporte.com")
    html = mailbox.html(message)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    text = mailbox.text(message)
    assert f"#{ticket_id} {titulo}" in text  # the text body carries it as written

    mailbox.clear()
    assert client.post(f"{URL}/{ticket_id}/comentarios", headers=admin_headers,
                       json={"contenido": "<b>listo</b>"}).status_code == 201
    html = mailbox.html(mailbox.last(CONTACTO))
    assert "<b>listo</b>" not in html and "&lt;b&gt;listo&lt;/b&gt;" in html
    assert "<script>" not in html
    assert "<b>listo</b>" in mailbox.text(mailbox.last(CONTACTO))

    mailbox.clear()
    assert client.post(f"{URL}/{ticket_id}/cerrar", headers=admin_headers).status_code == 200
    html = mailbox.html(mailbox.last(CONTACTO))
    assert "<script>" not in html and "&lt;script&gt;" in html


# ---------------------------------------------------------------- mail server down

@pytest.fixture
def smtp_down(app, monkeypatch):
    """SMTP pointed at a port nobody listens on."""
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())


def _outage_logged(caplog, ticket_id: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "backend.soporte" and r.levelno >= logging.ERROR
            and f"ticket {ticket_id}" in r.getMessage()]


def test_a_mail_server_down_never_fails_the_call(client, db, admin_headers, equipo,
                                                 empresa_con_contacto, soporte_activo,
                                                 internal_headers, smtp_down, caplog,
                                                 mailbox):
    caplog.set_level(logging.INFO)
    response = client.post(f"{INTERNAL}/create_tickets", headers=internal_headers, json=NUEVO)
    assert response.status_code == 201, response.get_json()
    ticket_id = response.get_json()["id"]
    assert db.session.get(SoporteTicket, ticket_id) is not None
    assert db.session.get(SoporteSuscripcion, soporte_activo.id).tickets_consumidos == 1
    assert len(_outage_logged(caplog, ticket_id)) == 2  # one per staff member

    caplog.clear()
    response = client.post(f"{URL}/{ticket_id}/comentarios", headers=admin_headers,
                           json={"contenido": "Respuesta"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["contenido"] == "Respuesta"
    db.session.expire_all()
    assert db.session.get(SoporteTicketComentario, response.get_json()["id"]) is not None
    assert len(_outage_logged(caplog, ticket_id)) == 1  # the contact (the ticket has no user)

    caplog.clear()
    response = client.post(f"{URL}/{ticket_id}/cerrar", headers=admin_headers)
    assert response.status_code == 200 and response.get_json()["estado"] == "cerrado"
    db.session.expire_all()
    assert db.session.get(SoporteTicket, ticket_id).estado == EstadoTicket.CERRADO
    assert len(_outage_logged(caplog, ticket_id)) == 1
    assert mailbox.messages == []
    assert CONTACTO not in caplog.text and "Respuesta" not in caplog.text


# ---------------------------------------------------------------- a real worker

celery_over_redis, worker = celery_worker.fixtures(10, "soporte-tests")


@pytest.mark.integration
def test_staff_reply_delivered_by_a_real_worker(client, admin_headers, ticket, mailbox,
                                                celery_over_redis, worker, tmp_path):
    response = client.post(f"{URL}/{ticket.id}/comentarios", headers=admin_headers,
                           json={"contenido": "Respuesta por el worker"})
    assert response.status_code == 201, response.get_json()
    assert mailbox.messages == []  # queued, not sent in-process
    try:
        message = mailbox.wait_for(CONTACTO, timeout=45)
        mailbox.wait_for("cliente@acme.com", timeout=15)
    except AssertionError:
        raise AssertionError((tmp_path / "worker.log").read_text(errors="replace")[-3000:]) from None
    assert worker.poll() is None  # the worker is the one that delivered it
    assert message["Subject"] == f"Respuesta a su ticket #{ticket.id}: No puedo facturar"
    assert "Respuesta por el worker" in mailbox.text(message)
    assert recipients(mailbox) == ["cliente@acme.com", CONTACTO]
