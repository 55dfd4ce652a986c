"""The sign-in log (LogAcceso): every login attempt, with IP, outcome, company and email.

`tipo` values written here:
- `login`: a sign-in attempt that ends the flow: `exitoso` True when tokens were issued
  (`detalle` says how: `password`, `otp`, `backup_code`, `registro`), False otherwise
  (`credenciales_invalidas`, `cuenta_inactiva`, `cuenta_pendiente_activacion`, `bloqueado`);
- `login_desafio`: the password was right and a TOTP challenge was issued;
- `login_otp`: a failed second step (`otp_invalido`, `desafio_invalido`, `bloqueado`).
"""
from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import select

from ...extensions import db
from ..models import LogAcceso, Usuario

LOGIN = "login"
LOGIN_DESAFIO = "login_desafio"
LOGIN_OTP = "login_otp"


def client_ip() -> str | None:
    """The caller's address (ProxyFix, where deployed, makes this the real client)."""
    return request.remote_addr if has_request_context() else None


def user_agent() -> str | None:
    """The caller's User-Agent, cut to the 255 characters the tables keep."""
    agent = request.headers.get("User-Agent") if has_request_context() else None
    return agent[:255] if agent else None


def record(tipo: str, exitoso: bool, usuario: Usuario | None = None, email: str | None = None,
           detalle: str | None = None) -> LogAcceso:
    """Add one row to the session (the caller commits)."""
    row = LogAcceso(
        tipo=tipo,
        exitoso=exitoso,
        usuario_id=usuario.id if usuario else None,
        empresa_id=usuario.empresa_id if usuario else None,
        email=(usuario.email if usuario else email or None),
        ip=client_ip(),
        user_agent=user_agent(),
        detalle=detalle[:255] if detalle else None,
    )
    db.session.add(row)
    return row


def record_now(tipo: str, exitoso: bool, usuario: Usuario | None = None, email: str | None = None,
               detalle: str | None = None) -> None:
    """Record and commit at once: for failures, whose error response rolls the session back."""
    record(tipo, exitoso, usuario=usuario, email=email, detalle=detalle)
    db.session.commit()


def known_ips(usuario: Usuario) -> set[str]:
    """Addresses this user signed in from before (last login and successful log rows)."""
    ips = set(db.session.scalars(
        select(LogAcceso.ip).distinct()
        .where(LogAcceso.usuario_id == usuario.id, LogAcceso.tipo == LOGIN,
               LogAcceso.exitoso.is_(True), LogAcceso.ip.is_not(None))
    ))
    if usuario.last_login_ip:
        ips.add(usuario.last_login_ip)
    return ips


def is_new_ip(usuario: Usuario, ip: str | None) -> bool:
    """True when the user has signed in before, never from `ip` (the first sign-in is not new)."""
    if not ip:
        return False
    earlier = known_ips(usuario)
    return bool(earlier) and ip not in earlier


def has_signed_in_from(email: str, ip: str | None) -> bool:
    """True when the account of `email` had a successful sign-in from `ip` (a trusted address)."""
    if not email or not ip:
        return False
    return db.session.scalar(
        select(LogAcceso.id).join(Usuario, Usuario.id == LogAcceso.usuario_id)
        .where(Usuario.email == email, LogAcceso.tipo == LOGIN, LogAcceso.exitoso.is_(True),
               LogAcceso.ip == ip)
        .limit(1)
    ) is not None
