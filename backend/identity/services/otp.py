"""TOTP two-factor authentication: secrets (encrypted at rest), codes that work once,
and hashed single-use backup codes.

A TOTP code is accepted for the current 30-second step or one step either side, and only
for a step later than `Usuario.otp_last_step`, which is advanced with a conditional UPDATE
so two concurrent requests cannot both use the same code.
"""
from __future__ import annotations

import hmac
import re
import secrets
import time

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, update

from ...core import crypto
from ...core.models import utcnow
from ...extensions import db
from ..models import CodigoRespaldo, Usuario

STEP_SECONDS = 30
WINDOW = 1
BACKUP_CODE_COUNT = 10
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


# ---------------------------------------------------------------- secrets

def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(length=32)


def store_secret(usuario: Usuario, secret: str) -> None:
    """Keep `secret` encrypted on the user (2FA stays off until a code confirms it)."""
    usuario.otp_secret_enc = crypto.encrypt(secret)
    usuario.otp_last_step = None


def secret_of(usuario: Usuario) -> str | None:
    """The user's TOTP secret in clear (None when none is set or it cannot be decrypted)."""
    return crypto.decrypt(usuario.otp_secret_enc)


def clear(usuario: Usuario) -> None:
    """Turn 2FA off: forget the secret, the replay marker and every backup code."""
    usuario.otp_enabled = False
    usuario.otp_secret_enc = None
    usuario.otp_last_step = None
    db.session.execute(delete(CodigoRespaldo).where(CodigoRespaldo.usuario_id == usuario.id))


def setup_payload(usuario: Usuario, secret: str) -> dict:
    """`{secret, provisioning_uri, qr_svg}` for an authenticator app."""
    issuer = current_app.config["OTP_ISSUER"]
    uri = pyotp.TOTP(secret).provisioning_uri(name=usuario.email, issuer_name=issuer)
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4)
    return {"secret": secret, "provisioning_uri": uri, "qr_svg": qr_svg}


# ---------------------------------------------------------------- TOTP codes

def _matching_step(secret: str, code: str, now: float) -> int | None:
    code = (code or "").strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):  # "١٢٣٤٥٦" is not a code
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_totp(usuario: Usuario, code: str | None) -> bool:
    """True once per code: the code matches a step in the window later than the last used one.

    The step is recorded at once (flushed UPDATE); the caller commits.
    """
    secret = secret_of(usuario)
    if not secret or not code:
        return False
    step = _matching_step(secret, code, time.time())
    if step is None:
        return False
    result = db.session.execute(
        update(Usuario)
        .where(Usuario.id == usuario.id,
               (Usuario.otp_last_step.is_(None)) | (Usuario.otp_last_step < step))
        .values(otp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    usuario.otp_last_step = step
    return True


# ---------------------------------------------------------------- backup codes

def _normalize_backup(code: str) -> str:
    return _NOT_ALNUM.sub("", (code or "").lower())


def _backup_digest(code: str) -> str:
    return crypto.keyed_digest("backup:" + _normalize_backup(code))


def _backup_digests(code: str) -> list[str]:
    """Under every configured digest key: codes issued before a key rotation still work."""
    return crypto.keyed_digests("backup:" + _normalize_backup(code))


def issue_backup_codes(usuario: Usuario) -> list[str]:
    """Replace the user's backup codes with 10 new ones; only their hashes are stored."""
    db.session.execute(delete(CodigoRespaldo).where(CodigoRespaldo.usuario_id == usuario.id))
    codes = []
    for _ in range(BACKUP_CODE_COUNT):
        raw = "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        db.session.add(CodigoRespaldo(usuario_id=usuario.id, code_hash=_backup_digest(code)))
    return codes


def use_backup_code(usuario: Usuario, code: str | None) -> bool:
    """True when `code` is one of the user's unused backup codes, which is then spent."""
    if not code or len(_normalize_backup(code)) != 10:
        return False
    # One conditional UPDATE finds and spends the code, so two requests cannot both use it.
    result = db.session.execute(
        update(CodigoRespaldo)
        .where(CodigoRespaldo.usuario_id == usuario.id,
               CodigoRespaldo.code_hash.in_(_backup_digests(code)),
               CodigoRespaldo.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def verify_second_factor(usuario: Usuario, otp_code: str | None = None,
                         backup_code: str | None = None) -> bool:
    """A TOTP code or a backup code of a user with 2FA on (each usable once)."""
    if not usuario.otp_enabled:
        return False
    if otp_code:
        return verify_totp(usuario, otp_code)
    if backup_code:
        return use_backup_code(usuario, backup_code)
    return False
