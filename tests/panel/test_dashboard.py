"""The panel's dashboard: every figure of backend/panel/metrics.py computed exactly (the MRR
with monthly and yearly prices, the 80 % rule at its boundary, the weekly series with its
empty weeks), and the page: who sees what, Spanish formats, charts as inline SVG with their
figures as text, a flat number of SQL statements, nothing from another host and no script
the Content-Security-Policy would block."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from backend.core.models import utc_today, utcnow
from backend.empresas.models import EstadoEmpresa
from backend.panel import dashboard, metrics
from backend.panel.metrics import Consumo, Semana
from backend.soporte.models import EstadoSoporte, EstadoTicket, Modalidad, Prioridad
from tests.soporte import conftest as soporte

# The support desk's data fixtures (tests/soporte/conftest.py), shared with this module.
make_tipo = soporte.make_tipo
make_soporte = soporte.make_soporte
make_ticket = soporte.make_ticket

HOY = date(2025, 1, 15)  # a Wednesday: ISO week 3 of 2025


@pytest.fixture
def vigente(make_empresa, make_suscripcion):
    """`vigente(plan, hoy=HOY, **values)`: a new company with an `activa` subscription
    covering `hoy` (or as `values` say)."""

    def factory(plan, hoy: date = HOY, empresa=None, **values):
        values.setdefault("fecha_inicio", hoy - timedelta(days=10))
        values.setdefault("fecha_fin", hoy + timedelta(days=20))
        return make_suscripcion(empresa or make_empresa(), plan, **values)

    return factory


# ---------------------------------------------------------------- the figures


def test_active_companies_count_only_activa(make_empresa):
    make_empresa()
    make_empresa()
    make_empresa(estado=EstadoEmpresa.INACTIVA)
    assert metrics.empresas_activas() == 2


def test_no_data_gives_zeros_and_twelve_empty_weeks():
    assert metrics.empresas_activas() == 0
    assert metrics.suscripciones_por_plan(HOY) == []
    assert metrics.mrr(HOY) == Decimal("0.00")
    abiertos = metrics.tickets_abiertos()
    assert abiertos.total == 0
    assert list(abiertos.por_estado) == [EstadoTicket.ABIERTO, EstadoTicket.EN_PROCESO,
                                         EstadoTicket.PENDIENTE_RESPUESTA]
    assert abiertos.por_prioridad == dict.fromkeys(Prioridad, 0)
    semanas = metrics.tickets_por_semana(datetime(2025, 1, 15, 10))
    assert len(semanas) == 12 and all(s.total == 0 for s in semanas)
    assert metrics.cuotas_por_agotarse(HOY) == []


def test_subscriptions_by_plan_count_those_in_force(make_plan, vigente):
    basico, pro = make_plan(nombre="Básico"), make_plan(nombre="Pro")
    retirado = make_plan(nombre="Retirado", activo=False)
    make_plan(nombre="Vacío")  # active, nobody on it: shown with 0
    make_plan(nombre="Viejo", activo=False)  # inactive, nobody on it: not shown
    vigente(basico)
    vigente(basico, periodo="anual", precio_pagado=Decimal("1000.00"))
    vigente(basico, fecha_inicio=HOY)  # starts today
    vigente(basico, fecha_fin=HOY)  # ends today
    vigente(pro)
    vigente(pro, fecha_fin=HOY - timedelta(days=1))  # activa but over
    vigente(pro, fecha_inicio=HOY + timedelta(days=1))  # activa, starts tomorrow
    vigente(pro, estado="cancelada")
    vigente(pro, estado="suspendida")
    vigente(retirado)

    assert metrics.suscripciones_por_plan(HOY) == [("Básico", 4), ("Pro", 1), ("Retirado", 1),
                                                   ("Vacío", 0)]


def test_mrr_adds_monthly_prices_and_a_twelfth_of_yearly_ones(make_plan, vigente):
    plan = make_plan()
    vigente(plan, periodo="mensual", precio_pagado=Decimal("100.00"))
    vigente(plan, periodo="mensual", precio_pagado=Decimal("49.99"))
    vigente(plan, periodo="anual", precio_pagado=Decimal("1000.00"))
    vigente(plan, periodo="anual", precio_pagado=Decimal("1234.56"))
    # Not in force today: none of these counts.
    vigente(plan, periodo="mensual", precio_pagado=Decimal("500.00"), estado="cancelada")
    vigente(plan, periodo="mensual", precio_pagado=Decimal("700.00"), fecha_fin=HOY - timedelta(days=1))
    vigente(plan, periodo="anual", precio_pagado=Decimal("1200.00"), fecha_inicio=HOY + timedelta(days=1))
    vigente(plan, periodo="anual", precio_pagado=Decimal("2400.00"), estado="inactiva")

    # 100.00 + 49.99 + (1000.00 + 1234.56) / 12 = 149.99 + 186.2133… = 336.2033…
    assert metrics.mrr(HOY) == Decimal("336.20")


def test_mrr_is_rounded_once_half_up(make_plan, vigente):
    plan = make_plan()
    vigente(plan, periodo="anual", precio_pagado=Decimal("0.06"))  # 0.005 a month
    assert metrics.mrr(HOY) == Decimal("0.01")
    vigente(plan, periodo="anual", precio_pagado=Decimal("0.06"))  # twice 0.005: 0.01, not 0.02
    assert metrics.mrr(HOY) == Decimal("0.01")


def test_mrr_of_large_amounts_is_exact(make_plan, vigente):
    plan = make_plan()
    vigente(plan, periodo="mensual", precio_pagado=Decimal("1234567.89"))
    vigente(plan, periodo="anual", precio_pagado=Decimal("9999999999.99"))
    assert metrics.mrr(HOY) == Decimal("1234567.89") + Decimal("833333333.33")


def test_open_tickets_by_state_and_priority(empresa, make_ticket):
    for estado, prioridad in [("abierto", "alta"), ("abierto", "alta"), ("abierto", "media"),
                              ("en_proceso", "urgente"), ("pendiente_respuesta", "alta"),
                              ("cerrado", "baja"), ("cancelado", "urgente")]:
        make_ticket(empresa, estado=estado, prioridad=prioridad)

    abiertos = metrics.tickets_abiertos()
    assert abiertos.por_estado == {EstadoTicket.ABIERTO: 3, EstadoTicket.EN_PROCESO: 1,
                                   EstadoTicket.PENDIENTE_RESPUESTA: 1}
    assert abiertos.por_prioridad == {Prioridad.BAJA: 0, Prioridad.MEDIA: 1, Prioridad.ALTA: 3,
                                      Prioridad.URGENTE: 1}
    assert abiertos.total == 5


WEEKS = [  # the 12 ISO weeks up to 2025-W03, across the change of ISO year
    (date(2024, 10, 28), 2024, 44), (date(2024, 11, 4), 2024, 45), (date(2024, 11, 11), 2024, 46),
    (date(2024, 11, 18), 2024, 47), (date(2024, 11, 25), 2024, 48), (date(2024, 12, 2), 2024, 49),
    (date(2024, 12, 9), 2024, 50), (date(2024, 12, 16), 2024, 51), (date(2024, 12, 23), 2024, 52),
    (date(2024, 12, 30), 2025, 1), (date(2025, 1, 6), 2025, 2), (date(2025, 1, 13), 2025, 3),
]


@pytest.fixture
def tickets_over_weeks(empresa, make_ticket):
    for creado, estado in [
        (datetime(2024, 10, 27, 23, 59, 59), "abierto"),  # the week before the window
        (datetime(2024, 10, 28, 0, 0, 0), "abierto"),  # the first instant of the window
        (datetime(2024, 10, 28, 12, 0), "cerrado"),  # closed since: still opened that week
        (datetime(2024, 12, 30, 8, 0), "cancelado"),  # ISO week 1 of 2025
        (datetime(2025, 1, 12, 23, 59, 59), "abierto"),  # Sunday: week 2
        (datetime(2025, 1, 13, 0, 0, 0), "en_proceso"),  # Monday: this week
        (datetime(2025, 1, 15, 9, 59), "abierto"),
        (datetime(2025, 1, 20, 0, 0, 0), "abierto"),  # next week (a clock ahead): not shown
    ]:
        make_ticket(empresa, created_at=creado, estado=estado)


EXPECTED_TOTALS = [2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2]


@pytest.mark.parametrize("ahora", [
    datetime(2025, 1, 15, 10, 0, tzinfo=UTC),
    datetime(2025, 1, 13, 0, 0, 0, tzinfo=UTC),  # the first instant of the week
    datetime(2025, 1, 19, 23, 59, 59, tzinfo=UTC),  # the last one
])
def test_tickets_per_iso_week_with_empty_weeks(tickets_over_weeks, ahora):
    with time_machine.travel(ahora, tick=False):
        semanas = metrics.tickets_por_semana(utcnow())
    assert semanas == [Semana(inicio, anio, numero, total)
                       for (inicio, anio, numero), total in zip(WEEKS, EXPECTED_TOTALS, strict=True)]
    assert semanas[-1].fin == date(2025, 1, 19)


def test_weeks_are_utc_whatever_the_local_zone(tickets_over_weeks):
    # 2025-01-12 23:30 in Bogotá (UTC-5) is already Monday 04:30 UTC: week 3.
    with time_machine.travel(datetime(2025, 1, 13, 4, 30, tzinfo=UTC), tick=False):
        semanas = metrics.tickets_por_semana(utcnow())
    assert semanas[-1].inicio == date(2025, 1, 13)
    assert [s.total for s in semanas] == EXPECTED_TOTALS


def test_the_next_week_slides_the_window(tickets_over_weeks):
    with time_machine.travel(datetime(2025, 1, 20, 0, 0, tzinfo=UTC), tick=False):
        semanas = metrics.tickets_por_semana(utcnow())
    assert semanas[0].inicio == date(2024, 11, 4) and semanas[-1].inicio == date(2025, 1, 20)
    assert [s.total for s in semanas] == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 1]


# ---------------------------------------------------------------- quotas nearly spent


@pytest.fixture
def soporte_de(make_empresa, make_plan, vigente, make_soporte):
    """`soporte_de(tipo, empresa=None, **values)`: a support subscription in force on HOY."""
    plan = make_plan()
    suscripciones = {}

    def factory(tipo, empresa=None, **values):
        if empresa is None or empresa.id not in suscripciones:
            suscripcion = vigente(plan, empresa=empresa)
            suscripciones[suscripcion.empresa_id] = suscripcion
        suscripcion = suscripciones[suscripcion.empresa_id if empresa is None else empresa.id]
        values.setdefault("fecha_inicio", HOY - timedelta(days=5))
        values.setdefault("fecha_fin", HOY + timedelta(days=25))
        return make_soporte(suscripcion, tipo, **values)

    return factory


def test_quota_nearly_spent_at_80_percent_not_79(make_tipo, soporte_de):
    cien = make_tipo(Modalidad.POR_TICKETS, max_tickets=100)
    cinco = make_tipo(Modalidad.POR_TICKETS, max_tickets=5)
    diez_horas = make_tipo(Modalidad.POR_HORAS, max_horas=Decimal("10.00"))
    poco = make_tipo(Modalidad.POR_HORAS, max_horas=Decimal("0.70"))
    mensual_tickets = make_tipo(Modalidad.MENSUAL, max_tickets=10)
    anual_horas = make_tipo(Modalidad.ANUAL, max_horas=Decimal("20.00"))
    mensual_ambos = make_tipo(Modalidad.MENSUAL, max_tickets=10, max_horas=Decimal("20.00"))
    mensual_libre = make_tipo(Modalidad.MENSUAL)
    # A limit the modality does not count is ignored.
    tickets_con_horas = make_tipo(Modalidad.POR_TICKETS, max_tickets=10, max_horas=Decimal("1.00"))
    horas_con_tickets = make_tipo(Modalidad.POR_HORAS, max_horas=Decimal("10.00"), max_tickets=1)

    si = [
        soporte_de(cien, tickets_consumidos=80),
        soporte_de(cinco, tickets_consumidos=4),
        soporte_de(cinco, tickets_consumidos=5),
        soporte_de(diez_horas, horas_consumidas=Decimal("8.00")),
        soporte_de(poco, horas_consumidas=Decimal("0.56")),  # exactly 80 %, float noise on SQLite
        soporte_de(mensual_tickets, tickets_consumidos=8),
        soporte_de(anual_horas, horas_consumidas=Decimal("16.00")),
        soporte_de(mensual_ambos, tickets_consumidos=2, horas_consumidas=Decimal("16.00")),
        soporte_de(mensual_ambos, tickets_consumidos=8, horas_consumidas=Decimal("0.00")),
    ]
    no = [
        soporte_de(cien, tickets_consumidos=79),
        soporte_de(cinco, tickets_consumidos=3),
        soporte_de(diez_horas, horas_consumidas=Decimal("7.99")),
        soporte_de(poco, horas_consumidas=Decimal("0.55")),
        soporte_de(mensual_tickets, tickets_consumidos=7),
        soporte_de(anual_horas, horas_consumidas=Decimal("15.99")),
        soporte_de(mensual_ambos, tickets_consumidos=7, horas_consumidas=Decimal("15.99")),
        soporte_de(mensual_libre, tickets_consumidos=500, horas_consumidas=Decimal("900.00")),
        soporte_de(tickets_con_horas, tickets_consumidos=7, horas_consumidas=Decimal("5.00")),
        soporte_de(horas_con_tickets, tickets_consumidos=3, horas_consumidas=Decimal("7.00")),
    ]

    encontradas = {c.soporte_id for c in metrics.cuotas_por_agotarse(HOY)}
    assert encontradas == {s.id for s in si}
    assert not encontradas & {s.id for s in no}


def test_quota_only_for_support_subscriptions_in_force(make_tipo, soporte_de):
    tipo = make_tipo(Modalidad.POR_TICKETS, max_tickets=10)
    lleno = {"tickets_consumidos": 10}
    en_vigor = [
        soporte_de(tipo, **lleno),
        soporte_de(tipo, fecha_inicio=HOY, **lleno),
        soporte_de(tipo, fecha_fin=HOY, **lleno),
    ]
    for values in [{"estado": EstadoSoporte.VENCIDO}, {"estado": EstadoSoporte.CANCELADO},
                   {"estado": EstadoSoporte.PENDIENTE_PAGO},
                   {"fecha_fin": HOY - timedelta(days=1)}, {"fecha_inicio": HOY + timedelta(days=1)}]:
        soporte_de(tipo, **lleno, **values)

    assert {c.soporte_id for c in metrics.cuotas_por_agotarse(HOY)} == {s.id for s in en_vigor}


def test_quota_rows_name_company_type_consumption_and_end(make_empresa, make_tipo, soporte_de):
    tickets = make_tipo(Modalidad.POR_TICKETS, nombre="Bolsa 5 tickets", max_tickets=5)
    horas = make_tipo(Modalidad.POR_HORAS, nombre="Bolsa 10 horas", max_horas=Decimal("10.00"))
    ambos = make_tipo(Modalidad.ANUAL, nombre="Anual", max_tickets=10, max_horas=Decimal("20.00"))
    zeta, alfa = make_empresa(nombre="Zeta SAS"), make_empresa(nombre="Alfa SAS")
    b = soporte_de(horas, empresa=zeta, horas_consumidas=Decimal("9.50"), fecha_fin=HOY + timedelta(days=3))
    a = soporte_de(tickets, empresa=zeta, tickets_consumidos=4, fecha_fin=HOY + timedelta(days=9))
    c = soporte_de(ambos, empresa=alfa, tickets_consumidos=8, horas_consumidas=Decimal("2.00"),
                   fecha_fin=HOY + timedelta(days=9))

    filas = metrics.cuotas_por_agotarse(HOY)
    assert [f.soporte_id for f in filas] == [b.id, c.id, a.id]  # by end date, then company
    assert filas[0] == metrics.CuotaPorAgotarse(b.id, "Zeta SAS", "Bolsa 10 horas", Modalidad.POR_HORAS,
                                                None, Consumo(Decimal("9.50"), Decimal("10.00")),
                                                HOY + timedelta(days=3))
    assert filas[0].porcentaje == 95
    assert filas[1].tickets == Consumo(8, 10) and filas[1].horas == Consumo(Decimal("2.00"),
                                                                             Decimal("20.00"))
    assert filas[1].porcentaje == 80
    assert filas[2].tickets == Consumo(4, 5) and filas[2].horas is None


# ---------------------------------------------------------------- formats and charts


@pytest.mark.parametrize(("valor", "decimales", "texto"), [
    (Decimal("1234567.89"), 2, "1.234.567,89"),
    (Decimal("0"), 2, "0,00"),
    (Decimal("999.5"), 2, "999,50"),
    (Decimal("1000"), 2, "1.000,00"),
    (1234, 0, "1.234"),
    (7, 0, "7"),
])
def test_spanish_number_format(valor, decimales, texto):
    assert dashboard.numero_es(valor, decimales) == texto


def test_bar_widths_are_proportional_and_labels_shortened():
    grafico = dashboard.barras_horizontales("g", "Título", "Plan", ("suscripción", "suscripciones"),
                                            [("Un plan de nombre muy muy largo", 4), ("B", 1), ("C", 0)])
    assert [b.ancho for b in grafico.barras] == [290.0, 72.5, 0.0]
    assert [b.descripcion for b in grafico.barras] == [
        "Un plan de nombre muy muy largo: 4 suscripciones", "B: 1 suscripción", "C: 0 suscripciones"]
    assert grafico.barras[0].textos[0].contenido == "Un plan de nombre muy…"


# ---------------------------------------------------------------- the page


def cifra(html: str, ident: str) -> str:
    match = re.search(rf'id="{ident}"[^>]*>([^<]*)<', html)
    assert match, f"no {ident} in the page"
    return unescape(match.group(1)).strip()


def svg_titles(html: str) -> list[str]:
    return [unescape(t) for t in re.findall(r"<title[^>]*>([^<]*)</title>", html)]


@pytest.fixture
def business(make_empresa, make_plan, make_suscripcion, make_tipo, make_soporte, make_ticket):
    """Data for the page, dated around the real (UTC) today."""
    hoy = utc_today()
    oro = make_plan(nombre="Plan Oro")
    plata = make_plan(nombre='<b>Plata & "Bronce"</b>')
    acme = make_empresa(nombre="Acme SAS")
    beta = make_empresa(nombre="Beta Ltda")
    make_empresa(nombre="Gamma", estado=EstadoEmpresa.INACTIVA)
    dentro = {"fecha_inicio": hoy - timedelta(days=3), "fecha_fin": hoy + timedelta(days=27)}
    sus_acme = make_suscripcion(acme, oro, periodo="mensual", precio_pagado=Decimal("1234000.00"), **dentro)
    make_suscripcion(beta, plata, periodo="anual", precio_pagado=Decimal("6814.68"), **dentro)
    bolsa = make_tipo(Modalidad.POR_TICKETS, nombre="Bolsa de tickets", max_tickets=5)
    horas = make_tipo(Modalidad.POR_HORAS, nombre="Bolsa de horas", max_horas=Decimal("10.00"))
    make_soporte(sus_acme, bolsa, tickets_consumidos=4, **dentro)
    make_soporte(sus_acme, horas, horas_consumidas=Decimal("8.00"), **dentro)
    make_soporte(sus_acme, horas, horas_consumidas=Decimal("7.99"), **dentro)
    ahora = utcnow()
    for estado, prioridad, creado in [("abierto", "alta", ahora), ("abierto", "urgente", ahora),
                                      ("en_proceso", "alta", ahora - timedelta(weeks=1)),
                                      ("cerrado", "baja", ahora - timedelta(weeks=3))]:
        make_ticket(acme, estado=estado, prioridad=prioridad, created_at=creado)
    return {"hoy": hoy, "fin": hoy + timedelta(days=27)}


def test_admin_sees_every_figure(admin_panel, business):
    response = admin_panel.get("/panel/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)

    assert cifra(html, "cifra-empresas-activas") == "2"
    assert cifra(html, "cifra-suscripciones") == "2"
    # 1.234.000,00 + 6.814,68 / 12 = 1.234.567,89
    assert cifra(html, "cifra-mrr") == "1.234.567,89"
    assert "Ingreso mensual recurrente (MRR)" in html
    titles = svg_titles(html)
    assert "Suscripciones activas por plan" in titles
    assert "Plan Oro: 1 suscripción" in titles
    assert '<b>Plata & "Bronce"</b>: 1 suscripción' in titles
    # The support figures too.
    assert cifra(html, "cifra-tickets-abiertos") == "3"
    assert "Abierto: 2 tickets" in titles and "En proceso: 1 ticket" in titles
    assert "Pendiente de respuesta: 0 tickets" in titles


def test_names_are_escaped_in_the_charts(admin_panel, business):
    html = admin_panel.get("/panel/").get_data(as_text=True)
    assert "&lt;b&gt;Plata &amp; &#34;Bronce&#34;&lt;/b&gt;" in html
    assert '<b>Plata' not in html


def test_support_figures_on_the_page(admin_panel, business):
    html = admin_panel.get("/panel/").get_data(as_text=True)
    titles = svg_titles(html)
    for title in ["Tickets abiertos por estado", "Tickets abiertos por prioridad",
                  "Alta: 2 tickets", "Urgente: 1 ticket", "Media: 0 tickets", "Baja: 0 tickets"]:
        assert title in titles, title

    assert "Tickets nuevos por semana (últimas 12 semanas ISO, UTC)" in titles
    semanas = [t for t in titles if t.startswith("Semana ")]
    assert len(semanas) == 12
    este_lunes = metrics.inicio_de_semana(utc_today())
    anio, numero, _ = este_lunes.isocalendar()
    assert semanas[-1] == (f"Semana {numero} de {anio} (del {este_lunes:%d/%m/%Y} al "
                           f"{este_lunes + timedelta(days=6):%d/%m/%Y}): 2 tickets")
    assert semanas[-2].endswith(": 1 ticket") and semanas[-4].endswith(": 1 ticket")
    assert sum(1 for t in semanas if t.endswith(": 0 tickets")) == 9

    tabla = re.search(r'<table[^>]*id="tabla-cuotas".*?</table>', html, re.S).group(0)
    filas = [[unescape(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", fila, re.S)]
             for fila in re.findall(r"<tr>(.*?)</tr>", tabla, re.S)[1:]]
    fin = business["fin"].strftime("%d/%m/%Y")
    assert sorted(filas) == sorted([
        ["Acme SAS", "Bolsa de tickets", "Por tickets", "4 / 5 tickets", "80 %", fin],
        ["Acme SAS", "Bolsa de horas", "Por horas", "8,00 / 10,00 h", "80 %", fin],
    ])
    assert cifra(html, "cifra-cuotas") == "2"


def test_no_quota_nearly_spent_says_so(admin_panel):
    html = admin_panel.get("/panel/").get_data(as_text=True)
    assert "Ninguna suscripción de soporte tiene el cupo casi agotado." in html
    assert 'id="tabla-cuotas"' not in html
    assert "Sin datos" in html  # no plan: the chart says so


def test_soporte_sees_the_support_figures_only(soporte_panel, business, monkeypatch):
    def not_for_soporte(*_args, **_kwargs):
        raise AssertionError("business figures computed for a soporte staff member")

    for name in ("empresas_activas", "suscripciones_por_plan", "mrr"):
        monkeypatch.setattr(metrics, name, not_for_soporte)
    response = soporte_panel.get("/panel/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)

    for absent in ("cifra-empresas-activas", "cifra-mrr", "cifra-suscripciones", "MRR", "Empresas activas",
                   "Suscripciones activas por plan", "Plan Oro", "1.234.567,89", "Negocio"):
        assert absent not in html, absent
    assert cifra(html, "cifra-tickets-abiertos") == "3"
    assert "Tickets abiertos por estado" in svg_titles(html)
    assert "Bolsa de tickets" in html and "8,00 / 10,00 h" in html


def test_anonymous_is_sent_to_the_sign_in_page(client, business):
    response = client.get("/panel/")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/panel/login"
    assert parse_qs(location.query) == {"next": ["/panel/"]}
    assert "1.234.567" not in response.get_data(as_text=True)


def test_the_stylesheet_is_served_by_the_app(admin_panel):
    html = admin_panel.get("/panel/").get_data(as_text=True)
    assert 'href="/static/panel/dashboard.css"' in html
    response = admin_panel.get("/static/panel/dashboard.css")
    assert response.status_code == 200 and b".tablero-grafico" in response.data


def _grow(make_empresa, make_plan, make_suscripcion, make_tipo, make_soporte, make_ticket, n: int):
    hoy, ahora = utc_today(), utcnow()
    plan = make_plan()
    tipo = make_tipo(Modalidad.POR_TICKETS, max_tickets=5)
    for i in range(n):
        empresa = make_empresa()
        dentro = {"fecha_inicio": hoy - timedelta(days=1), "fecha_fin": hoy + timedelta(days=30)}
        suscripcion = make_suscripcion(empresa, plan, periodo="anual" if i % 2 else "mensual", **dentro)
        make_soporte(suscripcion, tipo, tickets_consumidos=4, **dentro)
        for semanas in range(3):
            make_ticket(empresa, created_at=ahora - timedelta(weeks=semanas * 2),
                        estado=["abierto", "en_proceso", "cerrado"][semanas])


@pytest.mark.parametrize("who", ["admin_panel", "soporte_panel"])
def test_the_number_of_queries_stays_flat_as_rows_grow(request, db, count_queries, make_empresa, make_plan,
                                                       make_suscripcion, make_tipo, make_soporte,
                                                       make_ticket, who):
    panel = request.getfixturevalue(who)
    factories = (make_empresa, make_plan, make_suscripcion, make_tipo, make_soporte, make_ticket)
    _grow(*factories, n=2)
    panel.get("/panel/")  # warm-up
    # The test client's requests share the test's session: start each one from the same state.
    db.session.expire_all()
    with count_queries() as few:
        html = panel.get("/panel/").get_data(as_text=True)
    assert cifra(html, "cifra-cuotas") == "2"

    _grow(*factories, n=30)
    db.session.expire_all()
    with count_queries() as many:
        html = panel.get("/panel/").get_data(as_text=True)
    assert cifra(html, "cifra-cuotas") == "32"
    assert cifra(html, "cifra-tickets-abiertos") == "64"

    assert many["n"] == few["n"]
    assert few["n"] <= 12


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


@pytest.mark.parametrize("who", ["admin_panel", "soporte_panel"])
def test_nothing_from_another_host_and_no_script_outside_the_csp(request, business, who):
    response = request.getfixturevalue(who).get("/panel/")
    html = response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    script_src = csp.split("script-src")[1].split(";")[0]
    assert f"'nonce-{nonce}'" in script_src and "unsafe-inline" not in script_src

    parser = _Tags()
    parser.feed(html)
    links = [value for _, attrs in parser.tags for name, value in attrs.items()
             if name in ("src", "href", "xlink:href", "action", "srcset") and value]
    assert links, "the page links its own assets"
    for link in links:
        assert not re.match(r"^\s*(https?:)?//", link, re.I), link
    assert "http://" not in html and "https://" not in html

    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    for attrs in scripts:
        assert attrs.get("nonce") == nonce, attrs
        assert attrs.get("src", "").startswith("/"), attrs  # served by the app, never inline
    assert len(re.findall(r"<script\b", html, re.I)) == len(scripts)
    # The charts themselves are plain SVG: no script, no event handler, no foreign object.
    assert html.count("<svg") == (4 if who == "admin_panel" else 3)
    for svg in re.findall(r"<svg.*?</svg>", html, re.S):
        assert "<script" not in svg and "foreignObject" not in svg
        assert not re.search(r"\son\w+=", svg)
