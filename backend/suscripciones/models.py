"""A company's subscription to a plan."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import Select, event, false, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.audit import Audited
from ..core.models import MONEY, StrEnum, TimestampMixin, enum_column
from ..extensions import db

if TYPE_CHECKING:
    from ..catalogo.models import Plan
    from ..empresas.models import Empresa


class Periodo(StrEnum):
    MENSUAL = "mensual"
    ANUAL = "anual"


class EstadoSuscripcion(StrEnum):
    ACTIVA = "activa"
    INACTIVA = "inactiva"
    SUSPENDIDA = "suspendida"
    CANCELADA = "cancelada"


class Suscripcion(Audited, TimestampMixin, db.Model):
    __tablename__ = "suscripciones"
    __table_args__ = (sa.Index("ix_suscripciones_empresa_estado", "empresa_id", "estado"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    empresa_id: Mapped[int] = mapped_column(
        sa.ForeignKey("empresas.id", ondelete="CASCADE"), nullable=False
    )
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("planes.id"), nullable=False, index=True)
    periodo: Mapped[Periodo] = mapped_column(enum_column(Periodo, "periodo"), nullable=False)
    fecha_inicio: Mapped[date] = mapped_column(sa.Date, nullable=False)
    fecha_fin: Mapped[date] = mapped_column(sa.Date, nullable=False)
    estado: Mapped[EstadoSuscripcion] = mapped_column(
        enum_column(EstadoSuscripcion, "estado_suscripcion"),
        default=EstadoSuscripcion.INACTIVA,
        nullable=False,
    )
    # Equals empresa_id while the subscription is `activa`, else NULL: the unique index on it
    # is how the database itself enforces "at most one active subscription per company"
    # (MySQL has no partial unique indexes). Maintained by the mapper events below.
    empresa_activa_id: Mapped[int | None] = mapped_column(sa.Integer, unique=True)
    precio_pagado: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), nullable=False)
    porcentaje_descuento: Mapped[Decimal] = mapped_column(
        sa.Numeric(5, 2), default=Decimal("0.00"), nullable=False
    )
    renovacion_automatica: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    motivo_cancelacion: Mapped[str | None] = mapped_column(sa.Text)
    notas: Mapped[str | None] = mapped_column(sa.Text)
    creado_por: Mapped[int | None] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="SET NULL")
    )

    empresa: Mapped[Empresa] = relationship(back_populates="suscripciones")
    plan: Mapped[Plan] = relationship()

    @classmethod
    def visibles_para(cls, usuario) -> Select:
        """The subscriptions a customer may see: their own company's (none without one)."""
        if usuario.empresa_id is None:
            return select(cls).where(false())
        return select(cls).where(cls.empresa_id == usuario.empresa_id)

    def vigente_en(self, dia: date) -> bool:
        """True when `activa` and `dia` lies within its dates."""
        return self.estado == EstadoSuscripcion.ACTIVA and self.fecha_inicio <= dia <= self.fecha_fin


def _sync_empresa_activa(_mapper, _connection, target: Suscripcion) -> None:
    target.empresa_activa_id = (
        target.empresa_id if target.estado == EstadoSuscripcion.ACTIVA else None
    )


def register_model_events() -> None:
    """Keep `empresa_activa_id` in step with `estado` on every insert and update (the factory
    calls this once; the unique index then enforces one active subscription per company)."""
    for name in ("before_insert", "before_update"):
        if not event.contains(Suscripcion, name, _sync_empresa_activa):
            event.listen(Suscripcion, name, _sync_empresa_activa)
