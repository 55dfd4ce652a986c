"""Audit trail of staff changes and the sign-in log."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import StrEnum, enum_column, utcnow


class AccionAuditoria(StrEnum):
    CREAR = "crear"
    ACTUALIZAR = "actualizar"
    ELIMINAR = "eliminar"


class Auditoria(db.Model):
    """One create, update or delete made through `/admin` or the panel."""

    __tablename__ = "auditoria"
    __table_args__ = (sa.Index("ix_auditoria_tabla_registro", "tabla", "registro_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tabla: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    # A string so composite keys (plan_servicios "3:7") fit as well as integer ids.
    registro_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    accion: Mapped[AccionAuditoria] = mapped_column(
        enum_column(AccionAuditoria, "accion_auditoria"), nullable=False
    )
    valores_anteriores: Mapped[dict | None] = mapped_column(sa.JSON)
    valores_nuevos: Mapped[dict | None] = mapped_column(sa.JSON)
    usuario_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="SET NULL"), index=True
    )
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False, index=True)


class LogAcceso(db.Model):
    """One sign-in attempt (success or failure) or account event, with IP and company."""

    __tablename__ = "log_accesos"
    __table_args__ = (sa.Index("ix_log_accesos_email_fecha", "email", "fecha"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tipo: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    exitoso: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    usuario_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="SET NULL"), index=True
    )
    empresa_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("empresas.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str | None] = mapped_column(sa.String(255))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))
    detalle: Mapped[str | None] = mapped_column(sa.String(255))
    fecha: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False, index=True)
