"""The availability rule: may a company open a ticket, and why not. Table-driven across
modalities and states, read through both GET /admin/soporte-tickets/disponibilidad/:empresa_id
and GET /api/internal/support/status (the whole `disponibilidad` object); opening a ticket
(staff and internal API) is refused 403 `soporte_no_disponible` for every `motivo`, creating
no ticket and spending no quota; renewal and a successful payment make support available."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta

from backend.empresas.models import Empresa, EstadoEmpresa
from backend.soporte.models import (
    EstadoPago,
    EstadoSoporte,
    Modalidad,
    SoportePago,
    SoporteSuscripcion,
    SoporteTicket,
)
from tests.conftest import assert_error, persist

HOY = date.today()
AYER = HOY - timedelta(days=1)
ADMIN_URL = "/admin/soporte-tickets/disponibilidad/{}"
STATUS_URL = "/api/internal/support/status"
TICKETS_URL = "/admin/soporte-tickets"
MOTIVOS = {"sin_suscripcion_soporte", "cancelado", "pago_pendiente", "vencido", "fuera_de_vigencia",
           "suscripcion_no_vigente", "cupo_tickets_agotado", "cupo_horas_agotado"}


def _esperado(motivo, modalidad=None, desde=AYER, hasta=HOY + timedelta(days=29),
              tickets=(None, 0, None), horas=(None, 0.0, None)) -> dict:
    """The whole `disponibilidad` object, written out by hand."""
    return {
        "puede_crear_ticket": motivo is None, "motivo": motivo, "modalidad": modalidad,
        "vigencia": {"desde": desde and desde.isoformat(), "hasta": hasta and hasta.isoformat()},
        "tickets": dict(zip(("maximo", "consumidos", "disponibles"), tickets, strict=True)),
        "horas": dict(zip(("maximo", "consumidas", "disponibles"), horas, strict=True)),
    }


def _disponibilidad(client, admin_headers, internal_headers, empresa_id) -> dict:
    """The same object through the staff route and the internal API."""
    staff = client.get(ADMIN_URL.format(empresa_id), headers=admin_headers)
    assert staff.status_code == 200, staff.get_json()
    internal = client.get(STATUS_URL, headers={**internal_headers, "X-Empresa-Id": str(empresa_id)})
    assert internal.status_code == 200, internal.get_json()
    assert staff.get_json() == internal.get_json()
    return staff.get_json()


def _abrir(client, headers, empresa_id, titulo="No factura"):
    return client.post(TICKETS_URL, json={"empresa_id": empresa_id, "titulo": titulo,
                                          "descripcion": "El botón no responde."}, headers=headers)


def _soporte(db, soporte_id) -> SoporteSuscripcion:
    db.session.expire_all()
    return db.session.get(SoporteSuscripcion, soporte_id)


def _tickets(db) -> int:
    db.session.expire_all()
    return db.session.query(SoporteTicket).count()


# ---------------------------------------------------------------- the table
# id -> (type: modality and limits, support subscription values, plan subscription values,
#        company state, expected object). `None` for the support subscription: none at all.

FIN = HOY + timedelta(days=29)
T, H = Modalidad.POR_TICKETS, Modalidad.POR_HORAS
CASOS = {
    # Available, one per modality, limits shown where the modality counts.
    "por_tickets_disponible": (
        (T, {"max_tickets": 3}), {"tickets_consumidos": 1}, {}, None,
        _esperado(None, "por_tickets", tickets=(3, 1, 2))),
    "por_horas_disponible": (
        (H, {"max_horas": Decimal("10.00")}),
        {"tickets_consumidos": 2, "horas_consumidas": Decimal("4.50")}, {}, None,
        _esperado(None, "por_horas", tickets=(None, 2, None), horas=(10.0, 4.5, 5.5))),
    "mensual_sin_tope": (
        (Modalidad.MENSUAL, {}), {"tickets_consumidos": 7, "horas_consumidas": Decimal("3")}, {},
        None, _esperado(None, "mensual", tickets=(None, 7, None), horas=(None, 3.0, None))),
    "anual_sin_tope": (
        (Modalidad.ANUAL, {}), {"fecha_fin": HOY + timedelta(days=300), "tickets_consumidos": 40},
        {}, None, _esperado(None, "anual", hasta=HOY + timedelta(days=300),
                            tickets=(None, 40, None))),
    "mensual_con_tope_disponible": (
        (Modalidad.MENSUAL, {"max_tickets": 2, "max_horas": Decimal("8.00")}),
        {"tickets_consumidos": 1, "horas_consumidas": Decimal("7.75")}, {}, None,
        _esperado(None, "mensual", tickets=(2, 1, 1), horas=(8.0, 7.75, 0.25))),
    "ultimo_dia": (
        (T, {"max_tickets": 1}), {"fecha_inicio": HOY - timedelta(days=30), "fecha_fin": HOY}, {},
        None, _esperado(None, "por_tickets", desde=HOY - timedelta(days=30), hasta=HOY,
                        tickets=(1, 0, 1))),
    "primer_dia": (
        (T, {"max_tickets": 1}), {"fecha_inicio": HOY}, {}, None,
        _esperado(None, "por_tickets", desde=HOY, tickets=(1, 0, 1))),
    # Quotas spent.
    "por_tickets_agotado": (
        (T, {"max_tickets": 3}), {"tickets_consumidos": 3}, {}, None,
        _esperado("cupo_tickets_agotado", "por_tickets", tickets=(3, 3, 0))),
    "por_horas_agotado": (
        (H, {"max_horas": Decimal("10.00")}),
        {"tickets_consumidos": 4, "horas_consumidas": Decimal("10.00")}, {}, None,
        _esperado("cupo_horas_agotado", "por_horas", tickets=(None, 4, None),
                  horas=(10.0, 10.0, 0.0))),
    "por_horas_excedido": (
        (H, {"max_horas": Decimal("10.00")}), {"horas_consumidas": Decimal("12.25")}, {}, None,
        _esperado("cupo_horas_agotado", "por_horas", horas=(10.0, 12.25, 0.0))),
    "por_tickets_cuenta_solo_tickets": (
        (T, {"max_tickets": 3, "max_horas": Decimal("1.00")}),
        {"tickets_consumidos": 2, "horas_consumidas": Decimal("5.00")}, {}, None,
        _esperado(None, "por_tickets", tickets=(3, 2, 1), horas=(None, 5.0, None))),
    "por_horas_cuenta_solo_horas": (
        (H, {"max_horas": Decimal("2.00"), "max_tickets": 1}), {"tickets_consumidos": 9}, {}, None,
        _esperado(None, "por_horas", tickets=(None, 9, None), horas=(2.0, 0.0, 2.0))),
    "mensual_con_tope_de_tickets_agotado": (
        (Modalidad.MENSUAL, {"max_tickets": 2}), {"tickets_consumidos": 2}, {}, None,
        _esperado("cupo_tickets_agotado", "mensual", tickets=(2, 2, 0))),
    "anual_con_tope_de_horas_agotado": (
        (Modalidad.ANUAL, {"max_horas": Decimal("5.00")}),
        {"tickets_consumidos": 3, "horas_consumidas": Decimal("5.00")}, {}, None,
        _esperado("cupo_horas_agotado", "anual", tickets=(None, 3, None), horas=(5.0, 5.0, 0.0))),
    # The support subscription's own state and dates.
    "cancelado": (
        (T, {"max_tickets": 3}), {"estado": EstadoSoporte.CANCELADO}, {}, None,
        _esperado("cancelado", "por_tickets", tickets=(3, 0, 3))),
    "cancelado_antes_que_cupo": (
        (T, {"max_tickets": 3}), {"estado": EstadoSoporte.CANCELADO, "tickets_consumidos": 3}, {},
        None, _esperado("cancelado", "por_tickets", tickets=(3, 3, 0))),
    "pago_pendiente": (
        (Modalidad.MENSUAL, {}), {"estado": EstadoSoporte.PENDIENTE_PAGO}, {}, None,
        _esperado("pago_pendiente", "mensual")),
    "vencido": (
        (H, {"max_horas": Decimal("10.00")}),
        {"fecha_inicio": HOY - timedelta(days=31), "fecha_fin": AYER}, {}, None,
        _esperado("vencido", "por_horas", desde=HOY - timedelta(days=31), hasta=AYER,
                  horas=(10.0, 0.0, 10.0))),
    "vencido_guardado": (
        (Modalidad.ANUAL, {}), {"estado": EstadoSoporte.VENCIDO}, {}, None,
        _esperado("vencido", "anual")),
    "vencido_antes_que_plan": (
        (Modalidad.MENSUAL, {}), {"fecha_inicio": HOY - timedelta(days=31), "fecha_fin": AYER},
        {"estado": "suspendida"}, None,
        _esperado("vencido", "mensual", desde=HOY - timedelta(days=31), hasta=AYER)),
    "fuera_de_vigencia": (
        (T, {"max_tickets": 3}),
        {"fecha_inicio": HOY + timedelta(days=1), "fecha_fin": HOY + timedelta(days=31)}, {}, None,
        _esperado("fuera_de_vigencia", "por_tickets", desde=HOY + timedelta(days=1),
                  hasta=HOY + timedelta(days=31), tickets=(3, 0, 3))),
    # The company and its plan subscription.
    "empresa_inactiva": (
        (T, {"max_tickets": 3}), {}, {}, EstadoEmpresa.INACTIVA,
        _esperado("suscripcion_no_vigente", "por_tickets", tickets=(3, 0, 3))),
    "plan_suspendido": (
        (Modalidad.MENSUAL, {}), {}, {"estado": "suspendida"}, None,
        _esperado("suscripcion_no_vigente", "mensual")),
    "plan_cancelado": (
        (Modalidad.ANUAL, {}), {}, {"estado": "cancelada"}, None,
        _esperado("suscripcion_no_vigente", "anual")),
    "plan_inactivo": (
        (Modalidad.MENSUAL, {}), {}, {"estado": "inactiva"}, None,
        _esperado("suscripcion_no_vigente", "mensual")),
    "plan_expirado": (
        (H, {"max_horas": Decimal("3.00")}), {},
        {"fecha_inicio": HOY - timedelta(days=40), "fecha_fin": AYER}, None,
        _esperado("suscripcion_no_vigente", "por_horas", horas=(3.0, 0.0, 3.0))),
    "plan_aun_no_empieza": (
        (Modalidad.MENSUAL, {}), {}, {"fecha_inicio": HOY + timedelta(days=1),
                                      "fecha_fin": HOY + timedelta(days=30)}, None,
        _esperado("suscripcion_no_vigente", "mensual")),
    "plan_antes_que_cupo": (
        (T, {"max_tickets": 3}), {"tickets_consumidos": 3}, {"estado": "suspendida"}, None,
        _esperado("suscripcion_no_vigente", "por_tickets", tickets=(3, 3, 0))),
}
NO_DISPONIBLES = {k: v for k, v in CASOS.items() if v[4]["motivo"] is not None}


def test_the_table_covers_every_motivo_and_modality():
    motivos = {caso[4]["motivo"] for caso in CASOS.values()} | {"sin_suscripcion_soporte"}
    assert motivos == MOTIVOS | {None}
    assert {caso[0][0] for caso in CASOS.values()} == set(Modalidad)


@pytest.fixture
def escenario(db, empresa, plan_vigente, make_suscripcion, make_tipo, make_soporte):
    """Build one row of the table for the `empresa` fixture; returns its support subscription."""

    def build(caso):
        (modalidad, limites), soporte_values, plan_values, empresa_estado, _ = CASOS[caso]
        if empresa_estado is not None:
            row = db.session.get(Empresa, empresa.id)
            row.estado = empresa_estado
            persist(db, row)
        plan_sub = make_suscripcion(empresa, plan_vigente, **plan_values)
        tipo = make_tipo(modalidad, **limites)
        return make_soporte(plan_sub, tipo, **soporte_values)

    return build


@pytest.mark.parametrize("caso", sorted(CASOS))
def test_disponibilidad_table(client, admin_headers, internal_headers, empresa, escenario, caso):
    escenario(caso)
    assert _disponibilidad(client, admin_headers, internal_headers, empresa.id) == CASOS[caso][4]


def test_without_a_support_subscription(client, admin_headers, internal_headers, empresa,
                                        suscripcion_vigente):
    assert _disponibilidad(client, admin_headers, internal_headers, empresa.id) == _esperado(
        "sin_suscripcion_soporte", desde=None, hasta=None)


def test_soporte_staff_reads_it_too(client, soporte_headers, internal_headers, empresa, escenario):
    escenario("por_tickets_disponible")
    response = client.get(ADMIN_URL.format(empresa.id), headers=soporte_headers)
    assert response.status_code == 200
    assert response.get_json() == CASOS["por_tickets_disponible"][4]


# ---------------------------------------------------------------- which subscription decides

@pytest.mark.parametrize(("desde", "hasta"), [(AYER, FIN), (HOY, FIN), (AYER, HOY), (HOY, HOY)])
def test_the_one_in_force_decides_over_newer_ones(client, admin_headers, internal_headers, empresa,
                                                  suscripcion_vigente, make_tipo, make_soporte,
                                                  desde, hasta):
    vigente = make_soporte(suscripcion_vigente, make_tipo(T, max_tickets=4), tickets_consumidos=1,
                           fecha_inicio=desde, fecha_fin=hasta)
    make_soporte(suscripcion_vigente, make_tipo(Modalidad.MENSUAL), estado=EstadoSoporte.CANCELADO)
    body = _disponibilidad(client, admin_headers, internal_headers, empresa.id)
    assert body == _esperado(None, "por_tickets", desde=vigente.fecha_inicio,
                             hasta=vigente.fecha_fin, tickets=(4, 1, 3))


def test_otherwise_the_newest_explains(client, admin_headers, internal_headers, empresa,
                                       suscripcion_vigente, make_tipo, make_soporte):
    make_soporte(suscripcion_vigente, make_tipo(Modalidad.MENSUAL),
                 fecha_inicio=HOY - timedelta(days=60), fecha_fin=HOY - timedelta(days=31))
    make_soporte(suscripcion_vigente, make_tipo(T, max_tickets=2), estado=EstadoSoporte.PENDIENTE_PAGO)
    body = _disponibilidad(client, admin_headers, internal_headers, empresa.id)
    assert body == _esperado("pago_pendiente", "por_tickets", tickets=(2, 0, 2))


def test_another_companys_support_does_not_count(client, admin_headers, internal_headers, empresa,
                                                 suscripcion_vigente, make_empresa, make_plan,
                                                 make_suscripcion, make_tipo, make_soporte):
    otra = make_empresa()
    make_soporte(make_suscripcion(otra, make_plan()), make_tipo(Modalidad.MENSUAL))
    assert _disponibilidad(client, admin_headers, internal_headers, empresa.id)["motivo"] == (
        "sin_suscripcion_soporte")
    assert _disponibilidad(client, admin_headers, internal_headers, otra.id)["motivo"] is None


# ---------------------------------------------------------------- who may ask

def test_staff_route_refusals(client, cliente_headers, admin_headers, empresa):
    assert_error(client.get(ADMIN_URL.format(empresa.id)), 401, "no_autenticado")
    assert_error(client.get(ADMIN_URL.format(empresa.id), headers=cliente_headers), 403, "prohibido")
    assert_error(client.get(ADMIN_URL.format(empresa.id + 1), headers=admin_headers), 404,
                 "no_encontrado")


def test_internal_route_refusals(client, internal_headers, empresa):
    assert_error(client.get(STATUS_URL, headers={"X-Empresa-Id": str(empresa.id)}), 401)
    assert_error(client.get(STATUS_URL, headers={**internal_headers, "X-API-Key": "mala"}), 401)
    assert_error(client.get(STATUS_URL, headers={**internal_headers, "X-Empresa-Id": "x"}), 400,
                 "solicitud_invalida")
    assert_error(client.get(STATUS_URL, headers={**internal_headers,
                                                 "X-Empresa-Id": str(empresa.id + 1)}),
                 404, "no_encontrado")


# ---------------------------------------------------------------- opening a ticket

@pytest.mark.parametrize("caso", sorted(NO_DISPONIBLES))
def test_opening_is_refused_for_every_motivo(client, db, admin_headers, internal_headers, empresa,
                                             escenario, audit_rows, caso):
    soporte = escenario(caso)
    before = (soporte.tickets_consumidos, soporte.horas_consumidas, soporte.estado)
    motivo = CASOS[caso][4]["motivo"]
    body = assert_error(_abrir(client, admin_headers, empresa.id), 403, "soporte_no_disponible")
    assert body["details"] == {"motivo": motivo}
    internal = client.post("/api/internal/support/create_tickets", headers=internal_headers,
                           json={"titulo": "Desde la instancia", "descripcion": "x"})
    assert assert_error(internal, 403, "soporte_no_disponible")["details"] == {"motivo": motivo}
    assert _tickets(db) == 0
    stored = _soporte(db, soporte.id)
    assert (stored.tickets_consumidos, stored.horas_consumidas, stored.estado) == before
    assert audit_rows("soporte_tickets") == []
    assert _disponibilidad(client, admin_headers, internal_headers, empresa.id) == CASOS[caso][4]


def test_opening_without_a_support_subscription(client, db, admin_headers, empresa,
                                                suscripcion_vigente):
    body = assert_error(_abrir(client, admin_headers, empresa.id), 403, "soporte_no_disponible")
    assert body["details"] == {"motivo": "sin_suscripcion_soporte"}
    assert _tickets(db) == 0


@pytest.mark.parametrize("caso", ["por_tickets_disponible", "por_horas_disponible",
                                  "mensual_sin_tope", "mensual_con_tope_disponible", "ultimo_dia"])
def test_opening_spends_one_ticket(client, db, admin_headers, internal_headers, empresa, escenario,
                                   caso):
    soporte = escenario(caso)
    antes = soporte.tickets_consumidos
    response = _abrir(client, admin_headers, empresa.id)
    assert response.status_code == 201, response.get_json()
    ticket = db.session.get(SoporteTicket, response.get_json()["id"])
    assert (ticket.empresa_id, ticket.soporte_suscripcion_id, ticket.estado) == (
        empresa.id, soporte.id, "abierto")
    assert _soporte(db, soporte.id).tickets_consumidos == antes + 1
    esperado = CASOS[caso][4]
    maximo, consumidos, disponibles = esperado["tickets"].values()
    body = _disponibilidad(client, admin_headers, internal_headers, empresa.id)
    assert body["tickets"] == {"maximo": maximo, "consumidos": consumidos + 1,
                               "disponibles": None if disponibles is None else disponibles - 1}


def test_the_last_ticket_of_the_quota(client, db, admin_headers, internal_headers, empresa,
                                      suscripcion_vigente, make_tipo, make_soporte):
    soporte = make_soporte(suscripcion_vigente, make_tipo(T, max_tickets=2))
    assert _abrir(client, admin_headers, empresa.id).status_code == 201
    internal = client.post("/api/internal/support/create_tickets", headers=internal_headers,
                           json={"titulo": "Segundo", "descripcion": "x"})
    assert internal.status_code == 201, internal.get_json()
    body = assert_error(_abrir(client, admin_headers, empresa.id), 403, "soporte_no_disponible")
    assert body["details"] == {"motivo": "cupo_tickets_agotado"}
    assert _tickets(db) == 2 and _soporte(db, soporte.id).tickets_consumidos == 2
    assert _disponibilidad(client, admin_headers, internal_headers, empresa.id) == _esperado(
        "cupo_tickets_agotado", "por_tickets", tickets=(2, 2, 0))


def test_closing_hours_spends_the_por_horas_quota(client, db, admin_headers, internal_headers,
                                                  empresa, suscripcion_vigente, make_tipo,
                                                  make_soporte):
    soporte = make_soporte(suscripcion_vigente, make_tipo(H, max_horas=Decimal("3.00")))
    ticket_id = _abrir(client, admin_headers, empresa.id).get_json()["id"]
    assert _disponibilidad(client, admin_headers, internal_headers, empresa.id)["horas"] == {
        "maximo": 3.0, "consumidas": 0.0, "disponibles": 3.0}
    response = client.post(f"{TICKETS_URL}/{ticket_id}/cerrar", json={"horas": 3},
                           headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert _soporte(db, soporte.id).horas_consumidas == Decimal("3.00")
    assert _disponibilidad(client, admin_headers, internal_headers, empresa.id) == _esperado(
        "cupo_horas_agotado", "por_horas", tickets=(None, 1, None), horas=(3.0, 3.0, 0.0))
    body = assert_error(_abrir(client, admin_headers, empresa.id), 403, "soporte_no_disponible")
    assert body["details"] == {"motivo": "cupo_horas_agotado"}
    assert _tickets(db) == 1


# ---------------------------------------------------------------- what makes it available again

@pytest.mark.parametrize("caso", ["por_tickets_agotado", "por_horas_agotado",
                                  "mensual_con_tope_de_tickets_agotado", "vencido"])
def test_renewal_makes_it_available_again(client, db, admin_headers, internal_headers, empresa,
                                          escenario, caso):
    soporte = escenario(caso)
    assert _disponibilidad(client, admin_headers, internal_headers, empresa.id)["motivo"] is not None
    response = client.post(f"/admin/soporte-suscripciones/{soporte.id}/renovar", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    anual = CASOS[caso][0][0] == Modalidad.ANUAL
    fin = HOY + relativedelta(years=1 if anual else 0, months=0 if anual else 1) - timedelta(days=1)
    esperado = CASOS[caso][4]
    maximo_t, maximo_h = esperado["tickets"]["maximo"], esperado["horas"]["maximo"]
    assert _disponibilidad(client, admin_headers, internal_headers, empresa.id) == _esperado(
        None, esperado["modalidad"], desde=HOY, hasta=fin, tickets=(maximo_t, 0, maximo_t),
        horas=(maximo_h, 0.0, maximo_h))
    assert _abrir(client, admin_headers, empresa.id).status_code == 201
    assert _soporte(db, soporte.id).tickets_consumidos == 1


@pytest.mark.parametrize("via", ["crear_exitoso", "actualizar_a_exitoso"])
def test_a_successful_payment_makes_it_available(client, db, admin_headers, internal_headers,
                                                 empresa, escenario, via):
    soporte = escenario("pago_pendiente")
    if via == "crear_exitoso":
        response = client.post("/admin/soporte-pagos", headers=admin_headers, json={
            "soporte_suscripcion_id": soporte.id, "monto": 150, "estado": "exitoso"})
        assert response.status_code == 201, response.get_json()
    else:
        pago = persist(db, SoportePago(soporte_suscripcion_id=soporte.id, monto=Decimal("150.00"),
                                       estado=EstadoPago.PENDIENTE))
        assert _disponibilidad(client, admin_headers, internal_headers, empresa.id)["motivo"] == (
            "pago_pendiente")
        response = client.put(f"/admin/soporte-pagos/{pago.id}", json={"estado": "exitoso"},
                              headers=admin_headers)
        assert response.status_code == 200, response.get_json()
    assert _disponibilidad(client, admin_headers, internal_headers, empresa.id) == _esperado(
        None, "mensual")
    assert _abrir(client, admin_headers, empresa.id).status_code == 201


@pytest.mark.parametrize("estado", ["fallido", "pendiente"])
def test_an_unsuccessful_payment_leaves_it_pending(client, admin_headers, internal_headers, empresa,
                                                   escenario, estado):
    soporte = escenario("pago_pendiente")
    response = client.post("/admin/soporte-pagos", headers=admin_headers, json={
        "soporte_suscripcion_id": soporte.id, "monto": 150, "estado": estado})
    assert response.status_code == 201
    assert _disponibilidad(client, admin_headers, internal_headers, empresa.id)["motivo"] == (
        "pago_pendiente")


def test_cancelling_makes_it_unavailable(client, admin_headers, internal_headers, empresa, escenario):
    soporte = escenario("por_tickets_disponible")
    assert client.post(f"/admin/soporte-suscripciones/{soporte.id}/cancelar",
                       headers=admin_headers).status_code == 200
    assert _disponibilidad(client, admin_headers, internal_headers, empresa.id)["motivo"] == "cancelado"
