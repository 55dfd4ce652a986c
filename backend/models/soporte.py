"""The paid support desk: support types, support subscriptions and their payments."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import HOURS, MONEY, StrEnum, TimestampMixin, enum_column, utcnow

if TYPE_CHECKING:
    from .empresa import Empresa
    from .suscripcion import Suscripcion


class Modalidad(StrEnum):
    MENSUAL = "mensual"
    ANUAL = "anual"
    POR_TICKETS = "por_tickets"
    POR_HORAS = "por_horas"


class EstadoSoporte(StrEnum):
    ACTIVO = "activo"
    VENCIDO = "vencido"
    CANCELADO = "cancelado"
    PENDIENTE_PAGO = "pendiente_pago"


class EstadoPago(StrEnum):
    EXITOSO = "exitoso"
    FALLIDO = "fallido"
    PENDIENTE = "pendiente"


class SoporteTipo(TimestampMixin, db.Model):
    __tablename__ = "soporte_tipos"

    id: Mapped[int] = mapped_column(primary_key=True)
    nombre: Mapped[str] = mapped_column(sa.String(120), unique=True, nullable=False)
    descripcion: Mapped[str | None] = mapped_column(sa.Text)
    modalidad: Mapped[Modalidad] = mapped_column(
        enum_column(Modalidad, "modalidad_soporte"), nullable=False
    )
    precio: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    max_tickets: Mapped[int | None] = mapped_column(sa.Integer)
    max_horas: Mapped[Decimal | None] = mapped_column(HOURS)
    activo: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)


class SoporteSuscripcion(TimestampMixin, db.Model):
    __tablename__ = "soporte_suscripciones"
    __table_args__ = (sa.Index("ix_soporte_suscripciones_empresa_estado", "empresa_id", "estado"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    empresa_id: Mapped[int] = mapped_column(
        sa.ForeignKey("empresas.id", ondelete="CASCADE"), nullable=False
    )
    suscripcion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suscripciones.id", ondelete="CASCADE"), nullable=False, index=True
    )
    soporte_tipo_id: Mapped[int] = mapped_column(
        sa.ForeignKey("soporte_tipos.id"), nullable=False, index=True
    )
    fecha_inicio: Mapped[date] = mapped_column(sa.Date, nullable=False)
    fecha_fin: Mapped[date] = mapped_column(sa.Date, nullable=False)
    estado: Mapped[EstadoSoporte] = mapped_column(
        enum_column(EstadoSoporte, "estado_soporte"), default=EstadoSoporte.ACTIVO, nullable=False
    )
    precio_actual: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    tickets_consumidos: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    horas_consumidas: Mapped[Decimal] = mapped_column(HOURS, default=Decimal("0.00"), nullable=False)
    notas: Mapped[str | None] = mapped_column(sa.Text)
    creado_por: Mapped[int | None] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="SET NULL")
    )

    empresa: Mapped["Empresa"] = relationship()
    suscripcion: Mapped["Suscripcion"] = relationship()
    soporte_tipo: Mapped[SoporteTipo] = relationship()
    pagos: Mapped[list["SoportePago"]] = relationship(back_populates="soporte_suscripcion")


class SoportePago(TimestampMixin, db.Model):
    __tablename__ = "soporte_pagos"

    id: Mapped[int] = mapped_column(primary_key=True)
    soporte_suscripcion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("soporte_suscripciones.id", ondelete="CASCADE"), nullable=False, index=True
    )
    monto: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    estado: Mapped[EstadoPago] = mapped_column(enum_column(EstadoPago, "estado_pago"), nullable=False)
    metodo_pago: Mapped[str | None] = mapped_column(sa.String(50))
    referencia: Mapped[str | None] = mapped_column(sa.String(120))
    detalle: Mapped[dict | None] = mapped_column(sa.JSON)
    fecha_pago: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    creado_por: Mapped[int | None] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="SET NULL")
    )

    soporte_suscripcion: Mapped[SoporteSuscripcion] = relationship(back_populates="pagos")
