"""Credentials other than passwords: sessions and refresh tokens, emailed codes,
TOTP backup codes and per-company API keys. Every secret here is stored hashed."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import StrEnum, enum_column, utcnow


class SesionAuth(db.Model):
    """A sign-in session: the family of one refresh-token chain and its access tokens.

    Revoking the session (logout, reuse of a rotated refresh token, password change...)
    ends every token of the family; access tokens carry its id as the `sid` claim.
    """

    __tablename__ = "auth_sesiones"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    usuario_id: Mapped[int] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
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


class ApiKey(db.Model):
    """A per-company key for the licence and internal support APIs (hash stored, shown once)."""

    __tablename__ = "api_keys"

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
