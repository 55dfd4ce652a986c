"""Support tickets, their comments and their attachments."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import HOURS, StrEnum, TimestampMixin, enum_column, utcnow


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


class SoporteTicket(TimestampMixin, db.Model):
    __tablename__ = "soporte_tickets"
    __table_args__ = (
        sa.Index("ix_soporte_tickets_empresa_estado", "empresa_id", "estado"),
        sa.Index("ix_soporte_tickets_estado_prioridad", "estado", "prioridad"),
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

    comentarios: Mapped[list["SoporteTicketComentario"]] = relationship(
        back_populates="ticket", order_by="SoporteTicketComentario.id", cascade="all, delete-orphan"
    )
    archivos: Mapped[list["SoporteTicketArchivo"]] = relationship(
        back_populates="ticket", order_by="SoporteTicketArchivo.id", cascade="all, delete-orphan"
    )


class SoporteTicketComentario(db.Model):
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


class SoporteTicketArchivo(db.Model):
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
