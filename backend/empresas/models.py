"""Companies (tenants), identified by NIT, and their per-company API keys."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.audit import Audited
from ..core.models import StrEnum, TimestampMixin, enum_column, utcnow
from ..core.search import Searchable
from ..extensions import db

if TYPE_CHECKING:
    from ..identity.models import Usuario
    from ..suscripciones.models import Suscripcion


class EstadoEmpresa(StrEnum):
    ACTIVA = "activa"
    INACTIVA = "inactiva"


class Empresa(Audited, Searchable, TimestampMixin, db.Model):
    __tablename__ = "empresas"
    # `?q=` finds a company by the words of these (core.search).
    __searchable__ = ("nit", "nombre")

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

    usuarios: Mapped[list[Usuario]] = relationship(back_populates="empresa")
    suscripciones: Mapped[list[Suscripcion]] = relationship(back_populates="empresa")

    @property
    def is_activa(self) -> bool:
        return self.estado == EstadoEmpresa.ACTIVA

    def __repr__(self) -> str:
        return f"<Empresa {self.id} {self.nit}>"

class ApiKey(Audited, db.Model):
    """A per-company key for the licence and internal support APIs (hash stored, shown once)."""

    __tablename__ = "api_keys"
    __audit_ignore__ = frozenset({"last_used_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    empresa_id: Mapped[int] = mapped_column(
        sa.ForeignKey("empresas.id", ondelete="CASCADE"), nullable=False, index=True
    )
    nombre: Mapped[str | None] = mapped_column(sa.String(120))
    prefijo: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    creado_por: Mapped[int | None] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
