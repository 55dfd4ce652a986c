"""The licence of a company, as the SaaS instances ask for it.

Rule (DESIGN.md): valid when the company is `activa` and its subscription is `activa` with
`fecha_inicio <= today <= fecha_fin`. Which subscription explains the answer:
1. the `activa` one (at most one per company; found through the unique `empresa_activa_id`);
2. otherwise the most recently created one (highest id), to say why there is no licence.

`codigo` (checked in this order):
- EMPRESA_NO_ENCONTRADA: no company with that NIT (HTTP 404);
- EMPRESA_INACTIVA: the company is `inactiva` (whatever its subscription);
- SIN_SUSCRIPCION: no subscription, the latest one is `inactiva` (e.g. a public sign-up
  waiting for staff), or the `activa` one starts in the future;
- VENCIDA: the `activa` subscription ended before today;
- SUSPENDIDA / CANCELADA: the latest subscription is `suspendida` / `cancelada`;
- VALIDA: the licence is valid.
`servicios` lists the plan's active services only when the licence is valid (else []).

Caching (licencia.cache): the answer (without `ts`/`nonce`) is kept for LICENSE_CACHE_SECONDS
(0 disables) for today's date, in this process's memory and, with REDIS_URL, in Redis under a
version number. Every commit that touched a company, subscription, plan, plan–service or
service forgets them: here at once, in Redis by a version bump, and in every other process by
an announcement on a Redis channel (milliseconds). Without REDIS_URL a change made by another
process is seen after at most LICENSE_CACHE_SECONDS.
A cache failure never fails a licence check: the database answers.
Known limit: a request whose database snapshot began before a concurrent commit (possible
only with a per-company key, whose lookup runs first) may store the older answer under the
new version; it is then served for at most LICENSE_CACHE_SECONDS. Changes made outside the
ORM (raw SQL) are likewise seen after at most that time.
"""
from __future__ import annotations

import logging
from datetime import date

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..catalogo.models import Plan, PlanServicio, Servicio
from ..core.errors import Forbidden
from ..core.models import utc_today as hoy
from ..empresas.models import Empresa, EstadoEmpresa
from ..extensions import db
from ..suscripciones.models import EstadoSuscripcion, Suscripcion
from . import cache

log = logging.getLogger("backend.api")

VALIDA = "VALIDA"
SIN_SUSCRIPCION = "SIN_SUSCRIPCION"
SUSPENDIDA = "SUSPENDIDA"
VENCIDA = "VENCIDA"
CANCELADA = "CANCELADA"
EMPRESA_INACTIVA = "EMPRESA_INACTIVA"
EMPRESA_NO_ENCONTRADA = "EMPRESA_NO_ENCONTRADA"
CODIGOS = (VALIDA, SIN_SUSCRIPCION, SUSPENDIDA, VENCIDA, CANCELADA, EMPRESA_INACTIVA,
           EMPRESA_NO_ENCONTRADA)

MENSAJES = {
    VALIDA: "Licencia válida.",
    SIN_SUSCRIPCION: "La empresa no tiene una suscripción activa.",
    SUSPENDIDA: "La suscripción está suspendida.",
    VENCIDA: "La suscripción está vencida.",
    CANCELADA: "La suscripción fue cancelada.",
    EMPRESA_INACTIVA: "La empresa está inactiva.",
    EMPRESA_NO_ENCONTRADA: "No existe una empresa con ese NIT.",
}

_COLUMNS = (
    Empresa.id, Empresa.nit, Empresa.nombre, Empresa.estado,
    Suscripcion.id.label("sus_id"), Suscripcion.periodo, Suscripcion.fecha_inicio,
    Suscripcion.fecha_fin, Suscripcion.estado.label("sus_estado"),
    Plan.id.label("plan_id"), Plan.nombre.label("plan_nombre"),
    PlanServicio.cantidad, Servicio.nombre.label("servicio_nombre"), Servicio.url_api,
)


def _value(enum_or_str) -> str:
    return getattr(enum_or_str, "value", enum_or_str)


def codigo_para(empresa_estado, suscripcion: dict | None, hoy: date) -> str:
    """The `codigo` of a company state and its explaining subscription (see module doc)."""
    if _value(empresa_estado) != EstadoEmpresa.ACTIVA.value:
        return EMPRESA_INACTIVA
    if suscripcion is None:
        return SIN_SUSCRIPCION
    estado = suscripcion["estado"]
    if estado == EstadoSuscripcion.ACTIVA.value:
        if suscripcion["fecha_fin"] < hoy.isoformat():
            return VENCIDA
        if suscripcion["fecha_inicio"] > hoy.isoformat():
            return SIN_SUSCRIPCION
        return VALIDA
    return {EstadoSuscripcion.SUSPENDIDA.value: SUSPENDIDA,
            EstadoSuscripcion.CANCELADA.value: CANCELADA}.get(estado, SIN_SUSCRIPCION)


def _suscripcion_dict(row) -> dict:
    return {
        "id": row.sus_id,
        "plan": {"id": row.plan_id, "nombre": row.plan_nombre},
        "periodo": _value(row.periodo),
        "fecha_inicio": row.fecha_inicio.isoformat(),
        "fecha_fin": row.fecha_fin.isoformat(),
        "estado": _value(row.sus_estado),
    }


def _latest_subscription(empresa_id: int) -> dict | None:
    row = db.session.execute(
        select(Suscripcion.id.label("sus_id"), Suscripcion.periodo, Suscripcion.fecha_inicio,
               Suscripcion.fecha_fin, Suscripcion.estado.label("sus_estado"),
               Plan.id.label("plan_id"), Plan.nombre.label("plan_nombre"))
        .join(Plan, Plan.id == Suscripcion.plan_id)
        .where(Suscripcion.empresa_id == empresa_id)
        .order_by(Suscripcion.id.desc())
        .limit(1)
    ).first()
    return _suscripcion_dict(row) if row else None


def _not_found() -> dict:
    return {"activa": False, "codigo": EMPRESA_NO_ENCONTRADA, "empresa": None,
            "suscripcion": None, "servicios": []}


def _compute(where, hoy: date) -> dict:
    """One query for the company, its active subscription, plan and services (one row each)."""
    rows = db.session.execute(
        select(*_COLUMNS)
        .select_from(Empresa)
        .outerjoin(Suscripcion, Suscripcion.empresa_activa_id == Empresa.id)
        .outerjoin(Plan, Plan.id == Suscripcion.plan_id)
        .outerjoin(PlanServicio, PlanServicio.plan_id == Plan.id)
        .outerjoin(Servicio, (Servicio.id == PlanServicio.servicio_id) & Servicio.activo.is_(True))
        .where(where)
        .order_by(Servicio.nombre)
    ).all()
    if not rows:
        return _not_found()
    first = rows[0]
    empresa = {"id": first.id, "nit": first.nit, "nombre": first.nombre,
               "estado": _value(first.estado)}
    suscripcion = _suscripcion_dict(first) if first.sus_id is not None else _latest_subscription(first.id)
    codigo = codigo_para(first.estado, suscripcion, hoy)
    servicios = []
    if codigo == VALIDA:
        servicios = [{"nombre": r.servicio_nombre, "cantidad": r.cantidad, "url_api": r.url_api}
                     for r in rows if r.servicio_nombre is not None]
    return {"activa": codigo == VALIDA, "codigo": codigo, "empresa": empresa,
            "suscripcion": suscripcion, "servicios": servicios}


def licencia_por_nit(nit: str) -> dict:
    """The licence of the company with NIT `nit` (see the module doc for its keys)."""
    return _cached(f"nit:{nit}", lambda hoy: _compute(Empresa.nit == nit, hoy))


def licencia_por_empresa_id(empresa_id: int | None) -> dict:
    """The licence of the company `empresa_id` (EMPRESA_NO_ENCONTRADA for None)."""
    if empresa_id is None:
        return _not_found()
    return _cached(f"id:{empresa_id}", lambda hoy: _compute(Empresa.id == empresa_id, hoy))


def http_status(licencia: dict) -> int:
    return 404 if licencia["codigo"] == EMPRESA_NO_ENCONTRADA else 200


def with_error_keys(body: dict, codigo: str) -> dict:
    """A 404 answer (unknown NIT) also carries the error envelope's keys, so generic clients
    read it; any other answer is returned as it is."""
    if codigo == EMPRESA_NO_ENCONTRADA:
        return {"error": "no_encontrado", "message": MENSAJES[EMPRESA_NO_ENCONTRADA], **body}
    return body


def para_nit(licencia: dict, nit: str | None) -> dict:
    """The answer with the NIT it answers for (`nit`, None when there is no company), so a
    signed answer cannot be replayed for another NIT."""
    return {**licencia, "nit": nit}


def licencia_para_clave(nit: str, empresa_de_la_clave: int | None) -> dict:
    """The licence of `nit` for an API-key caller: the global key (`empresa_de_la_clave` None)
    may ask about any company; a per-company key only about its own (403 otherwise, whether or
    not the NIT exists, so a key cannot probe other NITs)."""
    answer = licencia_por_nit(nit)
    if empresa_de_la_clave is not None:
        empresa = answer["empresa"]
        if empresa is None or empresa["id"] != empresa_de_la_clave:
            raise Forbidden("La API key no tiene acceso a esta empresa.", code="prohibido")
    return answer


def respuesta(licencia: dict, nit: str | None) -> tuple[dict, int]:
    """(body, HTTP status) of a licence answer for `nit`: the answer naming its NIT, with the
    error keys when the company does not exist (404)."""
    return with_error_keys(para_nit(licencia, nit), licencia["codigo"]), http_status(licencia)


def servicios_activos(licencia: dict, nombres: list[str]) -> dict:
    """`{nombre: {activo, cantidad}}` for each requested service name (case-insensitive)."""
    granted = {s["nombre"].casefold(): s["cantidad"] for s in licencia["servicios"]}
    answer = {}
    for nombre in nombres:
        cantidad = granted.get(nombre.strip().casefold())
        answer[nombre] = {"activo": cantidad is not None, "cantidad": cantidad or 0}
    return answer


# ---------------------------------------------------------------- cache

def shared_layer(app=None):
    """The Redis layer of the licence cache (None without REDIS_URL), one per app and URL."""
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    shared = app.extensions.get("licencia_redis")
    if shared is None or shared.listener.url != url:
        shared = cache.SharedLayer(url)
        app.extensions["licencia_redis"] = shared
    return shared


def cache_seconds(app=None) -> int:
    return int((app or current_app).config.get("LICENSE_CACHE_SECONDS") or 0)


def _cached(ident: str, compute) -> dict:
    dia = hoy()
    return cache.cached(ident, dia.isoformat(), cache_seconds(), shared_layer(),
                        lambda: compute(dia))


def invalidate_cache() -> None:
    """Forget every cached licence, in this process and (with REDIS_URL) in every other."""
    try:
        shared = shared_layer()
    except RuntimeError:  # no app context (e.g. a script): the local bump is all we can do
        shared = None
    cache.announce_change(shared)


# Models whose changes can change a licence.
_WATCHED = (Empresa, Suscripcion, Plan, PlanServicio, Servicio)
_FLAG = "licencia_cache_dirty"


def _note_changes(session, _flush_context) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, _WATCHED):
            session.info[_FLAG] = True
            return


def _note_bulk_changes(orm_execute_state) -> None:
    if orm_execute_state.is_update or orm_execute_state.is_delete:
        mapper = orm_execute_state.bind_mapper
        if mapper is not None and issubclass(mapper.class_, _WATCHED):
            orm_execute_state.session.info[_FLAG] = True


def _bump_on_commit(session) -> None:
    if session.info.pop(_FLAG, False):
        invalidate_cache()


_SESSION_HOOKS = (("after_flush", _note_changes), ("do_orm_execute", _note_bulk_changes),
                  ("after_commit", _bump_on_commit))


def register_cache_invalidation() -> None:
    """Forget cached licences after every commit that touched what a licence depends on
    (the factory calls this once per process)."""
    for name, hook in _SESSION_HOOKS:
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)
