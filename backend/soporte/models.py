"""The paid support desk: support types, support subscriptions, their payments, and tickets
with their comments and attachments."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import Select, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.audit import Audited
from ..core.models import HOURS, MONEY, StrEnum, TimestampMixin, enum_column, utc_today, utcnow
from ..core.search import Searchable
from ..extensions import db

if TYPE_CHECKING:
    from ..empresas.models import Empresa
    from ..suscripciones.models import Suscripcion


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


class SoporteTipo(Audited, TimestampMixin, db.Model):
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


class SoporteSuscripcion(Audited, TimestampMixin, db.Model):
    """A company's support contract for one period; its counters are the quota spent."""

    __tablename__ = "soporte_suscripciones"
    __table_args__ = (sa.Index("ix_soporte_suscripciones_empresa_estado", "empresa_id", "estado"),)
    # The counters move with every ticket; the tickets themselves are audited.
    __audit_ignore__ = frozenset({"tickets_consumidos", "horas_consumidas"})

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

    empresa: Mapped[Empresa] = relationship()
    suscripcion: Mapped[Suscripcion] = relationship()
    soporte_tipo: Mapped[SoporteTipo] = relationship()
    pagos: Mapped[list[SoportePago]] = relationship(back_populates="soporte_suscripcion")

    @property
    def estado_efectivo(self) -> EstadoSoporte:
        """The state as read today: an `activo` one past its `fecha_fin` reads `vencido`."""
        if self.estado == EstadoSoporte.ACTIVO and self.fecha_fin < utc_today():
            return EstadoSoporte.VENCIDO
        return self.estado


class SoportePago(Audited, TimestampMixin, db.Model):
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


class EstadoTicket(StrEnum):
    ABIERTO = "abierto"
    EN_PROCESO = "en_proceso"
    PENDIENTE_RESPUESTA = "pendiente_respuesta"
    CERRADO = "cerrado"
    CANCELADO = "cancelado"


class Prioridad(StrEnum):
    BAJA = "baja"
    MEDIA = "media"
    ALTA = "alta"
    URGENTE = "urgente"


class SoporteTicket(Audited, Searchable, TimestampMixin, db.Model):
    __tablename__ = "soporte_tickets"
    # `?q=` finds a ticket by the words of these (core.search).
    __searchable__ = ("titulo", "descripcion")
    __table_args__ = (
        sa.Index("ix_soporte_tickets_empresa_estado", "empresa_id", "estado"),
        sa.Index("ix_soporte_tickets_estado_prioridad", "estado", "prioridad"),
        # (filter, id): a filtered list reads its newest tickets in index order (core.pagination).
        sa.Index("ix_soporte_tickets_empresa_id_id", "empresa_id", "id"),
        sa.Index("ix_soporte_tickets_estado_id", "estado", "id"),
        sa.Index("ix_soporte_tickets_prioridad_id", "prioridad", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    empresa_id: Mapped[int] = mapped_column(
        sa.ForeignKey("empresas.id", ondelete="CASCADE"), nullable=False
    )
    # The support subscription whose quota this ticket consumed.
    soporte_suscripcion_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("soporte_suscripciones.id", ondelete="SET NULL"), index=True
    )
    usuario_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="SET NULL"), index=True
    )
    asignado_a: Mapped[int | None] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="SET NULL"), index=True
    )
    titulo: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    descripcion: Mapped[str] = mapped_column(sa.Text, nullable=False)
    estado: Mapped[EstadoTicket] = mapped_column(
        enum_column(EstadoTicket, "estado_ticket"), default=EstadoTicket.ABIERTO, nullable=False
    )
    prioridad: Mapped[Prioridad] = mapped_column(
        enum_column(Prioridad, "prioridad_ticket"), default=Prioridad.MEDIA, nullable=False
    )
    horas_invertidas: Mapped[Decimal | None] = mapped_column(HOURS)
    # `metadata` is reserved on declarative classes, hence the attribute name.
    metadata_: Mapped[dict | None] = mapped_column("metadata", sa.JSON)
    cerrado_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    @classmethod
    def de_empresa(cls, empresa_id: int) -> Select:
        """The tickets a company may see (the internal API's tenancy)."""
        return select(cls).where(cls.empresa_id == empresa_id)

    comentarios: Mapped[list[SoporteTicketComentario]] = relationship(
        back_populates="ticket", order_by="SoporteTicketComentario.id", cascade="all, delete-orphan"
    )
    archivos: Mapped[list[SoporteTicketArchivo]] = relationship(
        back_populates="ticket", order_by="SoporteTicketArchivo.id", cascade="all, delete-orphan"
    )


class SoporteTicketComentario(Audited, db.Model):
    __tablename__ = "soporte_ticket_comentarios"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("soporte_tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    usuario_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="SET NULL")
    )
    contenido: Mapped[str] = mapped_column(sa.Text, nullable=False)
    interno: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    es_admin: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)

    ticket: Mapped[SoporteTicket] = relationship(back_populates="comentarios")


class SoporteTicketArchivo(Audited, db.Model):
    """Attachment metadata; the bytes live in storage under `storage_key`."""

    __tablename__ = "soporte_ticket_archivos"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("soporte_tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    nombre: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    storage_key: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    tamano: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(127), nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    subido_por: Mapped[int | None] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)

    ticket: Mapped[SoporteTicket] = relationship(back_populates="archivos")
