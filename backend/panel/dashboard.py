"""The panel's first page: the figures staff look at every day (backend/panel/metrics.py),
with charts drawn server-side as inline SVG (no script, nothing from elsewhere). `admin` staff
see the business figures and the support ones; `soporte` staff the support ones only."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask_admin import expose

from ..core.models import utcnow
from ..identity.models import Rol
from ..identity.panel_session import current_staff
from . import metrics
from .base import StaffIndexView
from .labels import ESTADOS_TICKET, MODALIDADES, PRIORIDADES

TICKETS = ("ticket", "tickets")
SUSCRIPCIONES = ("suscripción", "suscripciones")
ETIQUETA_MAX = 22


def numero_es(valor: int | Decimal, decimales: int = 0) -> str:
    """A number written the Spanish way: 1.234.567,89."""
    texto = f"{valor:,.{decimales}f}"
    return texto.replace(",", " ").replace(".", ",").replace(" ", ".")


def dinero_es(valor: Decimal) -> str:
    return numero_es(valor, 2)


def fecha_es(dia: date) -> str:
    return dia.strftime("%d/%m/%Y")


def cantidad(valor: int, singular: str, plural: str) -> str:
    """`1 ticket`, `2 tickets`, `1.234 tickets`."""
    return f"{numero_es(valor)} {singular if valor == 1 else plural}"


def _corta(texto: str) -> str:
    return texto if len(texto) <= ETIQUETA_MAX else texto[: ETIQUETA_MAX - 1] + "…"


# ---------------------------------------------------------------- charts (geometry only: the
# template draws the SVG elements, and Jinja escapes every text)

@dataclass(frozen=True)
class Texto:
    x: float
    y: float
    contenido: str
    ancla: str = "start"
    clase: str = ""


@dataclass(frozen=True)
class Barra:
    nombre: str
    valor: str
    descripcion: str
    x: float
    y: float
    ancho: float
    alto: float
    textos: list[Texto] = field(default_factory=list)


@dataclass(frozen=True)
class Grafico:
    id: str
    titulo: str
    columna: str
    ancho: int
    alto: int
    barras: list[Barra]
    lineas: list[tuple[float, float, float, float]] = field(default_factory=list)


def _escala(valores: list[int]) -> int:
    return max([*valores, 1])


def barras_horizontales(id_: str, titulo: str, columna: str, unidad: tuple[str, str],
                        datos: list[tuple[str, int]]) -> Grafico:
    """One bar per (label, value), largest value as the full width."""
    ancho, etiquetas, valores, fila, grosor = 520, 170, 60, 30, 20
    largo = ancho - etiquetas - valores
    maximo = _escala([v for _, v in datos])
    barras = []
    for i, (nombre, valor) in enumerate(datos):
        y = i * fila + 5
        w = round(largo * valor / maximo, 1)
        centro = y + grosor / 2
        texto = numero_es(valor)
        textos = [Texto(etiquetas - 8, centro, _corta(nombre), "end", "etiqueta"),
                  Texto(etiquetas + w + 6, centro, texto, "start", "valor")]
        barras.append(Barra(nombre, texto, f"{nombre}: {cantidad(valor, *unidad)}",
                            etiquetas, y, w, grosor, textos))
    return Grafico(id_, titulo, columna, ancho, max(len(datos), 1) * fila + 10, barras)


def columnas_semanales(id_: str, titulo: str, semanas: list[metrics.Semana]) -> Grafico:
    """One column per ISO week, labelled with its Monday and its number."""
    ancho, alto, arriba, abajo = 640, 240, 24, 44
    base = alto - abajo
    hueco = ancho / max(len(semanas), 1)
    grosor = round(hueco * 0.6, 1)
    maximo = _escala([s.total for s in semanas])
    barras = []
    for i, semana in enumerate(semanas):
        h = round((base - arriba) * semana.total / maximo, 1)
        centro = round(i * hueco + hueco / 2, 1)
        texto = numero_es(semana.total)
        nombre = (f"Semana {semana.numero} de {semana.anio} "
                  f"(del {fecha_es(semana.inicio)} al {fecha_es(semana.fin)})")
        textos = [Texto(centro, round(base - h - 10, 1), texto, "middle", "valor"),
                  Texto(centro, base + 16, semana.inicio.strftime("%d/%m"), "middle", "etiqueta"),
                  Texto(centro, base + 32, f"S{semana.numero:02d}", "middle", "etiqueta")]
        barras.append(Barra(nombre, texto, f"{nombre}: {cantidad(semana.total, *TICKETS)}",
                            round(centro - grosor / 2, 1), round(base - h, 1), grosor, h, textos))
    return Grafico(id_, titulo, "Semana", ancho, alto, barras, [(0, base, ancho, base)])


# ---------------------------------------------------------------- the page's data

def _negocio(hoy: date) -> dict:
    por_plan = metrics.suscripciones_por_plan(hoy)
    return {
        "empresas_activas": numero_es(metrics.empresas_activas()),
        "suscripciones": numero_es(sum(total for _, total in por_plan)),
        "mrr": dinero_es(metrics.mrr(hoy)),
        "grafico_planes": barras_horizontales(
            "grafico-planes", "Suscripciones activas por plan", "Plan", SUSCRIPCIONES, por_plan),
    }


def _consumo(consumo: metrics.Consumo | None, unidad: str, decimales: int) -> str | None:
    if consumo is None:
        return None
    return f"{numero_es(consumo.consumido, decimales)} / {numero_es(consumo.maximo, decimales)} {unidad}"


def _soporte(hoy: date, ahora: datetime) -> dict:
    abiertos = metrics.tickets_abiertos()
    cuotas = [{
        "empresa": c.empresa, "tipo": c.tipo, "modalidad": MODALIDADES[c.modalidad],
        "consumos": [t for t in (_consumo(c.tickets, "tickets", 0), _consumo(c.horas, "h", 2)) if t],
        "porcentaje": f"{c.porcentaje} %", "fecha_fin": fecha_es(c.fecha_fin),
    } for c in metrics.cuotas_por_agotarse(hoy)]
    return {
        "tickets_abiertos": numero_es(abiertos.total),
        "grafico_estados": barras_horizontales(
            "grafico-estados", "Tickets abiertos por estado", "Estado", TICKETS,
            [(ESTADOS_TICKET[e], n) for e, n in abiertos.por_estado.items()]),
        "grafico_prioridades": barras_horizontales(
            "grafico-prioridades", "Tickets abiertos por prioridad", "Prioridad", TICKETS,
            [(PRIORIDADES[p], n) for p, n in abiertos.por_prioridad.items()]),
        "grafico_semanas": columnas_semanales(
            "grafico-semanas", f"Tickets nuevos por semana (últimas {metrics.SEMANAS} semanas ISO, UTC)",
            metrics.tickets_por_semana(ahora)),
        "cuotas": cuotas,
        "cuotas_total": numero_es(len(cuotas)),
    }


class DashboardView(StaffIndexView):
    """Dashboard (both staff roles; `soporte` staff see the support figures only)."""

    @expose("/")
    def index(self):
        usuario = current_staff()
        ahora = utcnow()
        hoy = ahora.date()
        negocio = _negocio(hoy) if usuario.rol == Rol.ADMIN else None
        return self.render("panel/dashboard.html", negocio=negocio, soporte=_soporte(hoy, ahora),
                           hoy=fecha_es(hoy))
