"""What is on sale: plans, services, and the services (with limits) each plan includes."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.audit import Audited
from ..core.models import MONEY, TimestampMixin
from ..extensions import db


class Plan(Audited, TimestampMixin, db.Model):
    __tablename__ = "planes"

    id: Mapped[int] = mapped_column(primary_key=True)
    nombre: Mapped[str] = mapped_column(sa.String(120), unique=True, nullable=False)
    descripcion: Mapped[str | None] = mapped_column(sa.Text)
    precio_mensual: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    precio_anual: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    seleccionado: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    activo: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False, index=True)

    plan_servicios: Mapped[list[PlanServicio]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanServicio.servicio_id"
    )

    def precio(self, periodo: str) -> Decimal:
        """List price for one `mensual` or `anual` period."""
        return self.precio_anual if str(periodo) == "anual" else self.precio_mensual

    def audit_extra(self) -> dict:
        """A deleted plan's audit row also lists the services that went with it."""
        return {"servicios": [{"id": ps.servicio_id, "cantidad": ps.cantidad}
                              for ps in self.plan_servicios]}

    def __repr__(self) -> str:
        return f"<Plan {self.id} {self.nombre}>"


class Servicio(Audited, TimestampMixin, db.Model):
    __tablename__ = "servicios"

    id: Mapped[int] = mapped_column(primary_key=True)
    nombre: Mapped[str] = mapped_column(sa.String(120), unique=True, nullable=False)
    descripcion: Mapped[str | None] = mapped_column(sa.Text)
    url_api: Mapped[str | None] = mapped_column(sa.String(500))
    activo: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False, index=True)

    plan_servicios: Mapped[list[PlanServicio]] = relationship(
        back_populates="servicio", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Servicio {self.id} {self.nombre}>"


class PlanServicio(Audited, db.Model):
    """A service included in a plan, with its limit (`cantidad`)."""

    __tablename__ = "plan_servicios"

    plan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("planes.id", ondelete="CASCADE"), primary_key=True
    )
    servicio_id: Mapped[int] = mapped_column(
        sa.ForeignKey("servicios.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    cantidad: Mapped[int] = mapped_column(sa.Integer, default=1, nullable=False)

    plan: Mapped[Plan] = relationship(back_populates="plan_servicios")
    servicio: Mapped[Servicio] = relationship(back_populates="plan_servicios")
