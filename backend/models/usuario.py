"""People who sign in: staff (`admin`, `soporte`) and customers (`cliente`)."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import StrEnum, TimestampMixin, enum_column

if TYPE_CHECKING:
    from .empresa import Empresa


class Rol(StrEnum):
    ADMIN = "admin"
    SOPORTE = "soporte"
    CLIENTE = "cliente"


STAFF_ROLES = (Rol.ADMIN, Rol.SOPORTE)


class Usuario(TimestampMixin, db.Model):
    __tablename__ = "usuarios"

    id: Mapped[int] = mapped_column(primary_key=True)
    nombre: Mapped[str] = mapped_column(sa.String(150), nullable=False)
    # Stored lower-cased by the services, so the unique index is case-insensitive in effect.
    email: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    rol: Mapped[Rol] = mapped_column(
        enum_column(Rol, "rol_usuario"), default=Rol.CLIENTE, nullable=False, index=True
    )
    empresa_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("empresas.id", ondelete="SET NULL"), index=True
    )
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    # Self-registered accounts wait here until the emailed code or first TOTP code confirms them.
    pendiente_activacion: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    email_verificado: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)

    # TOTP secret, encrypted at rest (see services.crypto); never serialised.
    otp_secret_enc: Mapped[str | None] = mapped_column(sa.String(255))
    otp_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    # Highest TOTP time step accepted so far: a code is accepted once (replay refused).
    otp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    telefono: Mapped[str | None] = mapped_column(sa.String(32))
    direccion: Mapped[str | None] = mapped_column(sa.String(255))
    ciudad: Mapped[str | None] = mapped_column(sa.String(120))
    pais: Mapped[str | None] = mapped_column(sa.String(2))
    fecha_nacimiento: Mapped[date | None] = mapped_column(sa.Date)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    last_login_ip: Mapped[str | None] = mapped_column(sa.String(45))

    empresa: Mapped["Empresa | None"] = relationship(back_populates="usuarios")

    @property
    def is_staff(self) -> bool:
        return self.rol in STAFF_ROLES

    def __repr__(self) -> str:
        return f"<Usuario {self.id} {self.email}>"
