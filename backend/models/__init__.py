"""Every model, imported so metadata (and Alembic autogenerate) sees all tables."""
from .auditoria import AccionAuditoria, Auditoria, LogAcceso
from .base import utcnow
from .catalogo import Plan, PlanServicio, Servicio
from .empresa import Empresa, EstadoEmpresa
from .seguridad import (
    ApiKey, CodigoEmail, CodigoRespaldo, DesafioLogin, PropositoCodigo, RefreshToken, SesionAuth,
)
from .soporte import EstadoPago, EstadoSoporte, Modalidad, SoportePago, SoporteSuscripcion, SoporteTipo
from .suscripcion import EstadoSuscripcion, Periodo, Suscripcion
from .ticket import (
    EstadoTicket,
    Prioridad,
    SoporteTicket,
    SoporteTicketArchivo,
    SoporteTicketComentario,
)
from .usuario import STAFF_ROLES, Rol, Usuario

__all__ = [
    "AccionAuditoria", "ApiKey", "Auditoria", "CodigoEmail", "CodigoRespaldo", "DesafioLogin", "Empresa",
    "EstadoEmpresa", "EstadoPago", "EstadoSoporte", "EstadoSuscripcion", "EstadoTicket",
    "LogAcceso", "Modalidad", "Periodo", "Plan", "PlanServicio", "Prioridad", "PropositoCodigo",
    "RefreshToken", "Rol", "STAFF_ROLES", "Servicio", "SesionAuth", "SoportePago",
    "SoporteSuscripcion", "SoporteTicket", "SoporteTicketArchivo", "SoporteTicketComentario",
    "SoporteTipo", "Suscripcion", "Usuario", "utcnow",
]
