"""Per-request plumbing: request id, security headers (with a CSP nonce for the pages whose
templates ask for one), access log."""
from __future__ import annotations

import logging
import re
import secrets
import time
import uuid

from flask import Flask, Response, g, request

from .logging_setup import category_for

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
request_log = logging.getLogger("backend.request")

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


def _start_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = getattr(g, "request_id", None) or uuid.uuid4().hex
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    is_html = (response.mimetype or "").startswith("text/html")
    headers.setdefault("Content-Security-Policy", _html_csp() if is_html else JSON_CSP)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    _log_request(response)
    return response


def _log_request(response: Response) -> None:
    started = getattr(g, "request_started", None)
    elapsed_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    category = category_for(request.path)
    logger = logging.getLogger(f"backend.{category}") if category else request_log
    logger.info("%s %s %s %.1fms ip=%s", request.method, request.path, response.status_code,
                elapsed_ms, request.remote_addr)


def register_request_hooks(app: Flask) -> None:
    """Request id first, headers and access log last."""
    app.before_request(_start_request)
    app.after_request(_finish_request)
