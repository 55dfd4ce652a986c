"""Per-request plumbing: request id, security headers (with a CSP nonce for the pages whose
templates ask for one), access log."""
from __future__ import annotations

import logging
import re
import secrets
import time
import uuid

from flask import Flask, Response, g, request
from flask.sessions import SecureCookieSessionInterface

from .logging_setup import ACCESS_LINE, UNCATEGORIZED, category_for

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
request_log = logging.getLogger(UNCATEGORIZED)

JSON_CSP = "default-src 'none'; frame-ancestors 'none'"
HTML_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'self'; form-action 'self'"
)


def csp_nonce() -> str:
    """This request's script nonce, allowed by its Content-Security-Policy (made on first use:
    a page without inline scripts keeps the strict policy)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def _html_csp() -> str:
    nonce = g.get("csp_nonce")
    if nonce is None:
        return HTML_CSP
    return HTML_CSP.replace("script-src 'self'", f"script-src 'self' 'nonce-{nonce}'")


SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
_loggers: dict[str | None, logging.Logger] = {}


def request_id_of(incoming: str | None) -> str:
    """The client's X-Request-ID when it is a plain token, else a new one."""
    return incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex


def json_response_headers(request_id: str, is_secure: bool) -> list[tuple[str, str]]:
    """The headers every JSON answer carries (for a WSGI answer made outside Flask)."""
    headers = [("X-Request-ID", request_id), *SECURITY_HEADERS, ("Content-Security-Policy", JSON_CSP)]
    if is_secure:
        headers.append(HSTS)
    return headers


def _start_request() -> None:
    g.request_id = request_id_of(request.headers.get("X-Request-ID"))
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    headers = response.headers
    headers["X-Request-ID"] = getattr(g, "request_id", None) or uuid.uuid4().hex
    # One pass over what the view set (Headers.setdefault scans the list once per name).
    present = set(headers.keys(lower=True))
    missing = [(name, value) for name, value in SECURITY_HEADERS if name.lower() not in present]
    if "content-security-policy" not in present:
        is_html = (response.mimetype or "").startswith("text/html")
        missing.append(("Content-Security-Policy", _html_csp() if is_html else JSON_CSP))
    if request.is_secure and "strict-transport-security" not in present:
        missing.append(HSTS)
    headers.extend(missing)
    started = getattr(g, "request_started", None)
    log_request(request.method, request.path, response.status_code,
                (time.perf_counter() - started) * 1000 if started else 0.0, request.remote_addr)
    return response


def log_request(method: str, path: str, status: int, elapsed_ms: float, remote_addr: str | None,
                request_id: str | None = None) -> None:
    """The access line of one request, in its category's log (`request_id` outside Flask)."""
    category = category_for(path)
    logger = _loggers.get(category)
    if logger is None:
        logger = _loggers[category] = (logging.getLogger(f"backend.{category}") if category
                                       else request_log)
    if not logger.isEnabledFor(logging.INFO):
        return
    extra = {ACCESS_LINE: True}
    if request_id:
        extra["request_id"] = request_id
    logger.info("%s %s %s %.1fms ip=%s", method, path, status, elapsed_ms, remote_addr, extra=extra)


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its signing serializer made once per set of keys
    (Flask builds a new one for every request, cookie or not)."""

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = getattr(self, "_serializer", None)
        if cached is None or cached[0] != keys:
            cached = self._serializer = (keys, super().get_signing_serializer(app))
        return cached[1]


def register_request_hooks(app: Flask) -> None:
    """Request id first, headers and access log last (and the cookie session's serializer
    made once)."""
    app.session_interface = CookieSessionInterface()
    app.before_request(_start_request)
    app.after_request(_finish_request)
