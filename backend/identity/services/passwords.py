"""Password hashing (argon2id) and the one password rule of CONTRACT.md."""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import update

from ...core.errors import ValidationFailed
from ...core.validators import PASSWORD_MAX_LENGTH
from ...extensions import db
from ..models import Usuario

MIN_LENGTH = 8
RULES = (
    (lambda p: len(p) >= MIN_LENGTH, f"Debe tener al menos {MIN_LENGTH} caracteres."),
    (lambda p: re.search(r"[A-Z]", p), "Debe incluir una letra mayúscula."),
    (lambda p: re.search(r"[a-z]", p), "Debe incluir una letra minúscula."),
    (lambda p: re.search(r"\d", p), "Debe incluir un número."),
    (lambda p: re.search(r"[^A-Za-z0-9]", p), "Debe incluir un carácter especial."),
)
MAX_LENGTH = PASSWORD_MAX_LENGTH


def password_problems(password: str) -> list[str]:
    """What the password lacks under the rule (empty when it passes)."""
    problems = [message for check, message in RULES if not check(password)]
    if len(password) > MAX_LENGTH:
        problems.append(f"Debe tener como máximo {MAX_LENGTH} caracteres.")
    return problems


def check_password_rule(password: str, field: str = "password") -> None:
    """Raise 422 `password_debil` listing what is missing."""
    problems = password_problems(password or "")
    if problems:
        raise ValidationFailed("La contraseña no cumple la política de seguridad.",
                               code="password_debil", details={field: problems})


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(time_cost=config["ARGON2_TIME_COST"],
                          memory_cost=config["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    """An argon2id hash with the configured cost."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; never raises on a malformed or missing hash."""
    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when `password_hash` was made with another cost than the configured one."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def upgrade_hash(usuario: Usuario, password: str) -> None:
    """After `password` was verified against `usuario`'s hash: when that hash was made with an
    older cost (ARGON2_TIME_COST, ARGON2_MEMORY_COST changed), store a new one and commit. A
    conditional bulk UPDATE: bookkeeping, not a password change (no audit row, sessions kept),
    and a password changed meanwhile is never overwritten."""
    old_hash = usuario.password_hash
    if not old_hash or not needs_rehash(old_hash):
        return
    db.session.execute(
        update(Usuario).where(Usuario.id == usuario.id, Usuario.password_hash == old_hash)
        .values(password_hash=hash_password(password)).execution_options(synchronize_session=False)
    )
    db.session.commit()


# Verified against when the account does not exist, so timing does not reveal it.
_DUMMY_HASH: dict[tuple[int, int], str] = {}


def burn_password_check(password: str) -> None:
    """Spend the same work as a real verification (unknown email)."""
    config = current_app.config
    key = (config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"])
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hash_password("Dummy#Password1")
    verify_password(_DUMMY_HASH[key], password)
