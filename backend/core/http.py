"""Per-request plumbing: request id, security headers, access log."""
from __future__ import annotations

import logging
import re
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
    headers.setdefault("Content-Security-Policy", HTML_CSP if is_html else JSON_CSP)
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
