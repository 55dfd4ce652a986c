"""Codes and tokens sent by email: stored hashed, single use, short-lived, few attempts."""
from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from ...core.crypto import keyed_digest, keyed_digests
from ...core.models import utcnow
from ...extensions import db
from ..models import CodigoEmail, PropositoCodigo, Usuario
from . import attempts

CODE_TTL = timedelta(minutes=10)
RESET_TTL = timedelta(minutes=30)


def _digest(secret: str) -> str:
    # Keyed so a database dump alone cannot brute-force the six-digit space offline.
    return keyed_digest(secret)


def _invalidate_previous(usuario: Usuario, proposito: PropositoCodigo) -> None:
    db.session.execute(
        update(CodigoEmail)
        .where(CodigoEmail.usuario_id == usuario.id, CodigoEmail.proposito == proposito,
               CodigoEmail.used_at.is_(None))
        .values(used_at=utcnow())
    )


def issue_code(usuario: Usuario, proposito: PropositoCodigo, ttl: timedelta = CODE_TTL) -> str:
    """A new 6-digit code for `proposito` (earlier unused ones stop working). Caller commits."""
    _invalidate_previous(usuario, proposito)
    code = f"{secrets.randbelow(1_000_000):06d}"
    db.session.add(CodigoEmail(usuario_id=usuario.id, proposito=proposito, code_hash=_digest(code),
                               expires_at=utcnow() + ttl))
    return code


def issue_token(usuario: Usuario, proposito: PropositoCodigo, ttl: timedelta = RESET_TTL) -> str:
    """A long random token (for links) stored hashed. Caller commits."""
    _invalidate_previous(usuario, proposito)
    token = secrets.token_urlsafe(32)
    db.session.add(CodigoEmail(usuario_id=usuario.id, proposito=proposito, code_hash=_digest(token),
                               expires_at=utcnow() + ttl))
    return token


def _live_code(usuario_id: int, proposito: PropositoCodigo) -> CodigoEmail | None:
    return db.session.scalar(
        select(CodigoEmail)
        .where(CodigoEmail.usuario_id == usuario_id, CodigoEmail.proposito == proposito,
               CodigoEmail.used_at.is_(None), CodigoEmail.expires_at > utcnow())
        .order_by(CodigoEmail.id.desc())
        .limit(1)
    )


def check_code(usuario: Usuario, proposito: PropositoCodigo, code: str, consume: bool = True) -> bool:
    """True when `code` is the live code; spends it unless `consume=False`.

    Every answer counts an attempt before the comparison (attempts.claim), so simultaneous
    guesses compare at most attempts.MAX_ATTEMPTS times; a right answer that does not spend the
    code gives its attempt back. Caller commits.
    """
    live = _live_code(usuario.id, proposito)
    if live is None or not attempts.claim(live):
        return False
    # Any configured digest key matches (codes issued before a key rotation stay valid).
    matches = [hmac.compare_digest(live.code_hash, digest)
               for digest in keyed_digests((code or "").strip())]
    if not any(matches):
        attempts.fail(live)
        return False
    if consume:
        return attempts.spend(live)
    attempts.give_back(live)
    return True


def find_by_token(proposito: PropositoCodigo, token: str) -> CodigoEmail | None:
    """The live row of a link token (reset), or None."""
    return db.session.scalar(
        select(CodigoEmail).where(
            CodigoEmail.code_hash.in_(keyed_digests(token or "")), CodigoEmail.proposito == proposito,
            CodigoEmail.used_at.is_(None), CodigoEmail.expires_at > utcnow(),
        )
    )
