"""Throttling of the sign-in, OTP, code and reset endpoints (Flask-Limiter).

Counters live in `RATELIMIT_STORAGE_URI` (Redis in production, so every app instance shares
them). Each limit string can be overridden through the app config key named below.

Policy, chosen so an attacker gets at most 100 guesses an hour on one account while a
stranger cannot keep the real owner out:

1. Per IP, every request to a sensitive endpoint (`AUTH_RATE_IP`, default 20/minute and
   300/hour per endpoint): slows down one address hammering many accounts.
2. Per (account, IP), failures only (`AUTH_RATE_ACCOUNT_IP_FAILURES`, 10 per 15 minutes):
   the stricter limit, so one address trying one account is stopped early, and only that
   address.
3. Per account, failures only, across every IP (`AUTH_RATE_ACCOUNT_FAILURES`, 100/hour): the
   hard cap on guesses for one account. Because a distributed attacker could fill it, it does
   not apply to an address from which this account has signed in successfully before
   (LogAcceso): the owner keeps signing in from their usual places while an attack runs,
   and those places still have limit 2.

Only failed attempts (answers 400 or 401) are counted by limits 2 and 3, so the owner's own
successful sign-ins never use them up. Account keys are the normalised email for the
password step and the challenge's user for the OTP step (a shared scope, so both steps
count against the same budget). Unknown emails are counted exactly like real ones and a
blocked request is refused before the password is looked at, so a 429 never tells whether
an account exists. Codes and tokens (registration, reset, password-change code, OTP
management) are keyed by the user they belong to: `AUTH_RATE_CODE_FAILURES` (10 per
15 minutes). Requests for emails are capped per account (`AUTH_RATE_EMAIL_REQUESTS`,
5 per 15 minutes: the email for /auth/password/forgot, the registration token's user for
/auth/registro/reenviar-codigo, the bearer's user for the account codes) besides the per-IP
limit.
"""
from __future__ import annotations

import hashlib

from flask import current_app, request
from flask_jwt_extended import decode_token
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from ...core.validators import EMAIL_MAX_LENGTH, email_key
from ...extensions import db, limiter
from ..models import Usuario
from . import access_log as auth_log
from . import purpose_tokens
from .login import CHALLENGE_MAX_AGE
from .registration import usuario_id_from_registro_token

# Per-request memo (the WSGI environ, which unlike `g` never outlives the request).
_EMAIL_KEY = "backend.throttle.email"
_LOGGED_KEY = "backend.throttle.logged"


def _rate(name: str):
    """The limit string of config key `name` (defaults in backend/config.py), read per request."""
    return lambda: current_app.config[name]


def _body() -> dict:
    """The JSON object of the request (malformed bodies are refused by the strict decoder in
    core.json_codec before any key is read from them), or the form of the staff panel's
    sign-in pages; {} otherwise."""
    if request.is_json:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}
    return request.form.to_dict() if request.form else {}


def is_failure(response) -> bool:
    """A refused guess: wrong password, code, token or challenge."""
    return response.status_code in (400, 401)


# ---------------------------------------------------------------- keys

def normalize_email(value) -> str:
    """The email as a throttle key: its `email_key` form ("" for a non-string, or for one too
    long to be an account's)."""
    email = email_key(value)
    return email if len(email) <= EMAIL_MAX_LENGTH else ""


def challenge_user_id(token: str | None) -> int | None:
    """The user of a (signature-valid, unexpired) login challenge token."""
    payload = purpose_tokens.unsign(purpose_tokens.LOGIN_CHALLENGE, token or "", CHALLENGE_MAX_AGE)
    uid = payload.get("uid") if payload else None
    return uid if isinstance(uid, int) else None


def _account_email() -> str:
    """The account a login step is about: the body's email, or the challenge's user."""
    cache = request.environ
    if _EMAIL_KEY in cache:
        return cache[_EMAIL_KEY]
    body = _body()
    email = normalize_email(body.get("email"))
    if not email and isinstance(body.get("challenge_token"), str):
        uid = challenge_user_id(body["challenge_token"])
        if uid is not None:
            email = db.session.scalar(select(Usuario.email).where(Usuario.id == uid)) or ""
    cache[_EMAIL_KEY] = email
    return email


def account_key() -> str:
    email = _account_email()
    return f"acct:{email}" if email else ""


def account_ip_key() -> str:
    email = _account_email()
    return f"acct:{email}|ip:{get_remote_address()}" if email else ""


def email_request_key() -> str:
    email = normalize_email(_body().get("email"))
    return f"mail:{email}" if email else ""


def registro_key() -> str:
    token = _body().get("registro_token")
    uid = usuario_id_from_registro_token(token) if isinstance(token, str) else None
    return f"u:{uid}" if uid else ""


def reset_key() -> str:
    token = _body().get("token")
    if not isinstance(token, str) or not token:
        return ""
    return "reset:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def jwt_user_key() -> str:
    """The user of a valid bearer token (signature and expiry checked), else empty."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return ""
    try:
        return f"u:{decode_token(token.strip())['sub']}"
    except Exception:  # noqa: BLE001 - any bad token: the view answers 401 itself
        return ""


def trusted_address() -> bool:
    """This IP has signed in to this account before (exempt from the per-account cap)."""
    return auth_log.has_signed_in_from(_account_email(), get_remote_address())


def _log_login_breach(_limit) -> None:
    """A throttled sign-in attempt still lands in LogAcceso (once per request)."""
    if request.environ.get(_LOGGED_KEY):
        return
    request.environ[_LOGGED_KEY] = True
    email = _account_email()
    usuario = db.session.scalar(select(Usuario).where(Usuario.email == email)) if email else None
    tipo = auth_log.LOGIN if request.path.endswith("/login") else auth_log.LOGIN_OTP
    auth_log.record_now(tipo, False, usuario=usuario, email=email or None, detalle="bloqueado")


# ---------------------------------------------------------------- decorators

per_ip = limiter.limit(_rate("AUTH_RATE_IP"), key_func=get_remote_address)

login_per_ip = limiter.limit(_rate("AUTH_RATE_IP"), key_func=get_remote_address,
                             on_breach=_log_login_breach)

account_ip_failures = limiter.shared_limit(
    _rate("AUTH_RATE_ACCOUNT_IP_FAILURES"), scope="auth-cuenta-ip", key_func=account_ip_key,
    deduct_when=is_failure, on_breach=_log_login_breach,
)

account_failures = limiter.shared_limit(
    _rate("AUTH_RATE_ACCOUNT_FAILURES"), scope="auth-cuenta", key_func=account_key,
    deduct_when=is_failure, exempt_when=trusted_address, on_breach=_log_login_breach,
)

email_requests = limiter.limit(_rate("AUTH_RATE_EMAIL_REQUESTS"), key_func=email_request_key)

registro_email_requests = limiter.limit(_rate("AUTH_RATE_EMAIL_REQUESTS"), key_func=registro_key)

registro_failures = limiter.limit(_rate("AUTH_RATE_CODE_FAILURES"), key_func=registro_key,
                                  deduct_when=is_failure)

reset_failures = limiter.limit(_rate("AUTH_RATE_CODE_FAILURES"), key_func=reset_key,
                               deduct_when=is_failure)

user_failures = limiter.limit(_rate("AUTH_RATE_CODE_FAILURES"), key_func=jwt_user_key,
                              deduct_when=is_failure)

user_email_requests = limiter.limit(_rate("AUTH_RATE_EMAIL_REQUESTS"), key_func=jwt_user_key)
