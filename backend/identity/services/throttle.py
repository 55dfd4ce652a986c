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
successful sign-ins never use them up. Such a failure-only limit is charged BEFORE the view runs
(Flask-Limiter's own hit, one atomic increment in the storage) and given back when the answer
is not a failure: twenty simultaneous wrong guesses cannot all pass a limit of ten, as they
would if the count were only taken after each answer.

Account keys are the account as the database finds it: the email folded the way the
`usuarios.email` column compares it (core.database.comparison_key; on MariaDB `víctim@…` and
`victim@…` find one row and so share one budget), for the password step, and the challenge's
user's email the same way for the OTP step (a shared scope, so both steps count against the
same budget). Unknown emails are folded and counted exactly like real ones and a blocked
request is refused before the password is looked at, so a 429 never tells whether an account
exists. Codes and tokens (registration, reset, password-change code, OTP management) are keyed
by the user they belong to: `AUTH_RATE_CODE_FAILURES` (10 per 15 minutes). Requests for emails
are capped per account (`AUTH_RATE_EMAIL_REQUESTS`, 5 per 15 minutes: the email, folded the same
way, for /auth/password/forgot, the registration token's user for
/auth/registro/reenviar-codigo, the bearer's user for the account codes) besides the per-IP
limit.
"""
from __future__ import annotations

import hashlib
from functools import wraps

from flask import current_app, make_response, request
from flask_jwt_extended import decode_token
from flask_limiter.util import get_remote_address
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from ...core.database import comparison_key
from ...core.errors import ApiError, BadRequest
from ...core.request_body import json_body
from ...core.validators import EMAIL_MAX_LENGTH, email_key
from ...extensions import db, limiter
from ..models import Usuario
from . import access_log as auth_log
from . import purpose_tokens
from .login import CHALLENGE_MAX_AGE
from .registration import usuario_id_from_registro_token

# Per-request memos (the WSGI environ, which unlike `g` never outlives the request).
_ACCOUNT_KEY = "backend.throttle.account"
_LOGGED_KEY = "backend.throttle.logged"
_SETTLED_KEY = "backend.throttle.settled"

# Scopes of the failure-only limits start with this (how `_settle` tells them apart).
FAILURES_SCOPE = "fallos-"
FAILURE_STATUSES = frozenset({400, 401})


def _rate(name: str):
    """The limit string of config key `name` (defaults in backend/config.py), read per request."""
    return lambda: current_app.config[name]


def _body() -> dict:
    """The JSON object of the request (decoded once, core.request_body; a malformed one reads as
    {} here and is refused by the schema parser), or the form of the staff panel's sign-in
    pages; {} otherwise."""
    if request.is_json:
        try:
            data = json_body()
        except BadRequest:
            return {}
        return data if isinstance(data, dict) else {}
    return request.form.to_dict() if request.form else {}


def is_failure(status: int) -> bool:
    """A refused guess: wrong password, code, token or challenge (answers 400 or 401)."""
    return status in FAILURE_STATUSES


# ---------------------------------------------------------------- keys

def normalize_email(value) -> str:
    """The email as typed, in its `email_key` form ("" for a non-string, or for one too long
    to be an account's)."""
    email = email_key(value)
    return email if len(email) <= EMAIL_MAX_LENGTH else ""


def account_of(email: str) -> str:
    """The throttle key of the account `email` names: the same for every spelling the
    database takes for one address, known or not (core.database.comparison_key)."""
    return comparison_key(Usuario.email, email) if email else ""


def challenge_user_id(token: str | None) -> int | None:
    """The user of a (signature-valid, unexpired) login challenge token."""
    payload = purpose_tokens.unsign(purpose_tokens.LOGIN_CHALLENGE, token or "", CHALLENGE_MAX_AGE)
    uid = payload.get("uid") if payload else None
    return uid if isinstance(uid, int) else None


def _account() -> tuple[str, str]:
    """(email, account key) of a login step: the body's email, or the challenge's user's."""
    cache = request.environ
    if _ACCOUNT_KEY not in cache:
        body = _body()
        email = normalize_email(body.get("email"))
        if not email and isinstance(body.get("challenge_token"), str):
            uid = challenge_user_id(body["challenge_token"])
            if uid is not None:
                email = db.session.scalar(select(Usuario.email).where(Usuario.id == uid)) or ""
        cache[_ACCOUNT_KEY] = (email, account_of(email))
    return cache[_ACCOUNT_KEY]


def account_key() -> str:
    key = _account()[1]
    return f"acct:{key}" if key else ""


def account_ip_key() -> str:
    key = _account()[1]
    return f"acct:{key}|ip:{get_remote_address()}" if key else ""


def email_request_key() -> str:
    key = account_of(normalize_email(_body().get("email")))
    return f"mail:{key}" if key else ""


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
    return auth_log.has_signed_in_from(_account()[0], get_remote_address())


def _log_login_breach(_limit) -> None:
    """A throttled sign-in attempt still lands in LogAcceso (once per request)."""
    if request.environ.get(_LOGGED_KEY):
        return
    request.environ[_LOGGED_KEY] = True
    email = _account()[0]
    usuario = db.session.scalar(select(Usuario).where(Usuario.email == email)) if email else None
    tipo = auth_log.LOGIN if request.path.endswith("/login") else auth_log.LOGIN_OTP
    auth_log.record_now(tipo, False, usuario=usuario, email=email or None, detalle="bloqueado")


# ---------------------------------------------------------------- failure-only limits

def _status_of(exc: BaseException) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    if isinstance(exc, HTTPException):
        return exc.code or 500
    return 500


def _counts_failures_only(charged) -> bool:
    scope = charged.request_args[-1]
    return scope.rsplit(":", 1)[-1].startswith(FAILURES_SCOPE)


def _settle(status: int) -> None:
    """Once the answer is known: give back what this request was charged on the failure-only
    limits, unless it was a failure (once per request, however many such limits a view has)."""
    if request.environ.get(_SETTLED_KEY):
        return
    request.environ[_SETTLED_KEY] = True
    if is_failure(status):
        return
    for charged in limiter.current_limits:
        # (A window that ended meanwhile has nothing to give back.)
        if _counts_failures_only(charged) and limiter.storage.get(charged.key) > 0:
            limiter.limiter.hit(charged.limit, *charged.request_args, cost=-1)


def failures_only(limit_decorator):
    """A Flask-Limiter limit (its scope starting with FAILURES_SCOPE) that keeps the charge of
    failed answers only: the request is counted before the view runs, atomically, and given
    back once the answer is not a 400 or 401 (a success, a 403, a 422, a 429...)."""

    def decorate(view):
        limited = limit_decorator(view)

        @wraps(limited)  # keeps Flask-Limiter's mark: only the innermost decorator checks
        def settled(*args, **kwargs):
            try:
                response = make_response(limited(*args, **kwargs))
            except BaseException as exc:
                _settle(_status_of(exc))
                raise
            _settle(response.status_code)
            return response

        return settled

    return decorate


# ---------------------------------------------------------------- decorators

per_ip = limiter.limit(_rate("AUTH_RATE_IP"), key_func=get_remote_address)

login_per_ip = limiter.limit(_rate("AUTH_RATE_IP"), key_func=get_remote_address,
                             on_breach=_log_login_breach)

account_ip_failures = failures_only(limiter.shared_limit(
    _rate("AUTH_RATE_ACCOUNT_IP_FAILURES"), scope=f"{FAILURES_SCOPE}cuenta-ip",
    key_func=account_ip_key, on_breach=_log_login_breach,
))

account_failures = failures_only(limiter.shared_limit(
    _rate("AUTH_RATE_ACCOUNT_FAILURES"), scope=f"{FAILURES_SCOPE}cuenta", key_func=account_key,
    exempt_when=trusted_address, on_breach=_log_login_breach,
))

email_requests = limiter.limit(_rate("AUTH_RATE_EMAIL_REQUESTS"), key_func=email_request_key)

registro_email_requests = limiter.limit(_rate("AUTH_RATE_EMAIL_REQUESTS"), key_func=registro_key)

registro_failures = failures_only(limiter.limit(
    _rate("AUTH_RATE_CODE_FAILURES"), key_func=registro_key, scope=f"{FAILURES_SCOPE}registro"))

reset_failures = failures_only(limiter.limit(
    _rate("AUTH_RATE_CODE_FAILURES"), key_func=reset_key, scope=f"{FAILURES_SCOPE}reset"))

user_failures = failures_only(limiter.limit(
    _rate("AUTH_RATE_CODE_FAILURES"), key_func=jwt_user_key, scope=f"{FAILURES_SCOPE}usuario"))

user_email_requests = limiter.limit(_rate("AUTH_RATE_EMAIL_REQUESTS"), key_func=jwt_user_key)
