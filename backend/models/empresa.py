"""Companies (tenants), identified by NIT."""
from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import StrEnum, TimestampMixin, enum_column

if TYPE_CHECKING:
    from .suscripcion import Suscripcion
    from .usuario import Usuario


class EstadoEmpresa(StrEnum):
    ACTIVA = "activa"
    INACTIVA = "inactiva"


class Empresa(TimestampMixin, db.Model):
    __tablename__ = "empresas"

    id: Mapped[int] = mapped_column(primary_key=True)
    nit: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    nombre: Mapped[str] = mapped_column(sa.String(200), nullable=False, index=True)
    contacto: Mapped[str | None] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(255))
    telefono: Mapped[str | None] = mapped_column(sa.String(32))
    direccion: Mapped[str | None] = mapped_column(sa.String(255))
    ciudad: Mapped[str | None] = mapped_column(sa.String(120))
    pais: Mapped[str | None] = mapped_column(sa.String(2))
    estado: Mapped[EstadoEmpresa] = mapped_column(
        enum_column(EstadoEmpresa, "estado_empresa"),
        default=EstadoEmpresa.ACTIVA,
        nullable=False,
        index=True,
    )

    usuarios: Mapped[list["Usuario"]] = relationship(back_populates="empresa")
    suscripciones: Mapped[list["Suscripcion"]] = relationship(back_populates="empresa")

    @property
    def is_activa(self) -> bool:
        return self.estado == EstadoEmpresa.ACTIVA

    def __repr__(self) -> str:
        return f"<Empresa {self.id} {self.nit}>"
