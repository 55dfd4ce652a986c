"""People who sign in (staff `admin`, `soporte`; customers `cliente`) and what proves who
they are besides the password: sessions and refresh tokens, emailed codes, TOTP backup codes,
pending 2FA challenges, and the sign-in log. Every secret here is stored hashed or encrypted."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.audit import Audited
from ..core.models import StrEnum, TimestampMixin, enum_column, utcnow
from ..core.search import Searchable
from ..extensions import db

if TYPE_CHECKING:
    from ..empresas.models import Empresa


class Rol(StrEnum):
    ADMIN = "admin"
    SOPORTE = "soporte"
    CLIENTE = "cliente"


STAFF_ROLES = (Rol.ADMIN, Rol.SOPORTE)


class Usuario(Audited, Searchable, TimestampMixin, db.Model):
    __tablename__ = "usuarios"
    # `?q=` finds a user by the words of these (core.search).
    __searchable__ = ("nombre", "email")
    # (filter, id): the staff list filtered by `is_active` reads in index order (core.pagination).
    __table_args__ = (sa.Index("ix_usuarios_is_active_id", "is_active", "id"),)
    # A sign-in is in LogAcceso; it is not a change of the account.
    __audit_ignore__ = frozenset({"last_login_at", "last_login_ip"})

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

    # TOTP secret, encrypted at rest (see core.crypto); never serialised.
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

    empresa: Mapped[Empresa | None] = relationship(back_populates="usuarios")

    @property
    def is_staff(self) -> bool:
        return self.rol in STAFF_ROLES

    def __repr__(self) -> str:
        return f"<Usuario {self.id} {self.email}>"


class SesionAuth(db.Model):
    """A sign-in session: the family of one refresh-token chain and its access tokens.

    Revoking the session (logout, reuse of a rotated refresh token, password change...)
    ends every token of the family; access tokens carry its id as the `sid` claim. A session
    lives at most SESSION_MAX_DAYS from its sign-in, however often it is refreshed.
    """

    __tablename__ = "auth_sesiones"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    usuario_id: Mapped[int] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    # When its tokens were last issued (sign-in or refresh): what /account/sessions shows.
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # The end of its current refresh token; never past created_at + SESSION_MAX_DAYS.
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(40))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))


class RefreshToken(db.Model):
    """One refresh token of a session; `used_at` is set when it is rotated away."""

    __tablename__ = "auth_refresh_tokens"

    jti: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    sesion_id: Mapped[str] = mapped_column(
        sa.ForeignKey("auth_sesiones.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime)


class PropositoCodigo(StrEnum):
    ACTIVACION = "activacion"
    CAMBIO_PASSWORD = "cambio_password"
    RESET_PASSWORD = "reset_password"


class CodigoEmail(db.Model):
    """A code or token sent by email: stored as a hash, single use, short-lived."""

    __tablename__ = "codigos_email"
    __table_args__ = (sa.Index("ix_codigos_email_usuario_proposito", "usuario_id", "proposito"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    usuario_id: Mapped[int] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="CASCADE"), nullable=False
    )
    proposito: Mapped[PropositoCodigo] = mapped_column(
        enum_column(PropositoCodigo, "proposito_codigo"), nullable=False
    )
    code_hash: Mapped[str] = mapped_column(sa.String(128), nullable=False, index=True)
    intentos: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime)


class CodigoRespaldo(db.Model):
    """A TOTP backup code, hashed; each works once."""

    __tablename__ = "codigos_respaldo"

    id: Mapped[int] = mapped_column(primary_key=True)
    usuario_id: Mapped[int] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime)



class DesafioLogin(db.Model):
    """The second step of a 2FA sign-in: the challenge token names this row, which works once.

    `used_at` is set by a conditional UPDATE when the challenge is answered (or burnt after
    too many wrong codes), so a used challenge is refused on every app instance.
    """

    __tablename__ = "auth_desafios"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    usuario_id: Mapped[int] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="CASCADE"), nullable=False, index=True
    )
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    intentos: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

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
