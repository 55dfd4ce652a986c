"""The licence check by NIT with the global key, answered before Flask.

`GET /api/suscripcion-activa/<nit>` is the hot path: every SaaS instance asks it again and
again, and most of what Flask does per request (request context, session, rate limiter,
argument parsing, hooks) has nothing to do for it. This WSGI layer answers it directly when,
and only when, all of these hold:

- GET on that path, no body, no `Origin` header (CORS answers stay Flask's);
- the global `SAAS_API_KEY` (per-company keys need their database lookup: Flask);
- the query has at most one `nonce`, and it is valid (an invalid one gets Flask's 422);
- the NIT is valid.

Its answer is the cached one (licencia.cache: this process's memory, else Redis, which another
process filled), else it is computed here as the route computes it (licencia.services, in an
app context of its own) and cached: a check the cache cannot answer costs its query, not also
Flask's request handling (a third of it). Anything else goes to Flask unchanged, and so does a
check whose computing failed (Flask's error handling answers it: 503 while the database is
away). The answer is the one Flask gives, byte for byte but `ts` and the request id: same body,
signature, headers and access-log line (tests/licencia/test_fast_path.py compares the two).

A check without a nonce reuses the bytes signed for the same cached answer within the same
second (`SignedAnswers`): they are the bytes signing again would give, since `ts` has second
precision and Ed25519 is deterministic, and signing and serialising are most of what is left
of a cached check's cost.
"""
from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from urllib.parse import parse_qsl

from flask import Flask
from marshmallow import ValidationError

from ..core.http import json_response_headers, log_request, request_id_of
from ..core.models import utc_today
from ..core.validators import normalize_nit
from . import cache, signing
from . import services as licencia
from .schemas import NONCE_RE

PREFIX = "/api/suscripcion-activa/"
_REASONS = {200: "200 OK", 404: "404 NOT FOUND"}


class SignedAnswers:
    """The signed bytes of each NIT's latest nonce-less answer, for the second its `ts` names.

    An entry holds the cached answer object it was signed from, the `ts` and the signer: any
    of them new (a change or an expiry gave a new answer, the clock moved on) signs afresh."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._entries: dict[str, tuple] = {}

    def get(self, nit: str, answer: dict, ts: str, signer: signing.Signer, sign: Callable[[], tuple]
            ) -> tuple[bytes, list[tuple[str, str]]]:
        """The (bytes, signature headers) of `answer` for `nit` at `ts`: kept ones, else `sign()`."""
        entry = self._entries.get(nit)
        if entry is not None and entry[0] is answer and entry[1] == ts and entry[2] is signer:
            return entry[3]
        signed = sign()
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[nit] = (answer, ts, signer, signed)
        return signed


class LicenceFastPath:
    """WSGI middleware in front of the Flask app (see the module doc)."""

    def __init__(self, app: Flask, wsgi_app) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.signed = SignedAnswers()

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") == "GET" and path.startswith(PREFIX):
            answer = self._answer(environ, path[len(PREFIX):])
            if answer is not None:
                return self._respond(environ, start_response, started, path, *answer)
        return self.wsgi_app(environ, start_response)

    def _answer(self, environ, raw_nit: str) -> tuple[dict, str, str | None] | None:
        """(licence answer, NIT, nonce), or None when Flask must answer."""
        has_body = environ.get("CONTENT_LENGTH") not in (None, "", "0") or environ.get(
            "HTTP_TRANSFER_ENCODING")
        if "/" in raw_nit or has_body or environ.get("HTTP_ORIGIN"):
            return None
        global_key = self.app.config.get("SAAS_API_KEY")
        presented = (environ.get("HTTP_X_API_KEY") or "").strip()
        if not (global_key and presented
                and hmac.compare_digest(presented.encode(), global_key.encode())):
            return None
        nonce = _nonce(environ.get("QUERY_STRING", ""))
        if nonce is False:
            return None
        try:
            nit = normalize_nit(_decode_path(raw_nit))
        except (ValidationError, UnicodeDecodeError):
            return None
        shared = licencia.shared_layer(self.app)
        answer = cache.peek(f"nit:{nit}", utc_today().isoformat(), licencia.cache_seconds(self.app), shared)
        if answer is None:
            answer = self._computed(nit)
        return None if answer is None else (answer, nit, nonce)

    def _computed(self, nit: str) -> dict | None:
        """The licence of `nit` computed and cached as the route does, in an app context of its
        own (its session ends with it); None when that fails, for Flask to answer."""
        try:
            with self.app.app_context():
                return licencia.licencia_por_nit(nit)
        except Exception:  # noqa: BLE001 - Flask answers the check again, and reports the error
            return None

    def _respond(self, environ, start_response, started: float, path: str, answer: dict,
                 nit: str, nonce: str | None):
        signer = signing.get_signer(config=self.app.config)
        ts = signing.server_ts()

        def sign():
            return signing.signed_body(licencia.respuesta(answer, nit)[0], nonce,
                                       self.app.json.dumps, signer, ts)

        data, signature = (sign() if nonce is not None
                           else self.signed.get(nit, answer, ts, signer, sign))
        status = licencia.http_status(answer)
        request_id = request_id_of(environ.get("HTTP_X_REQUEST_ID"))
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(data))),
            *signature,
            *json_response_headers(request_id, environ.get("wsgi.url_scheme") == "https"),
        ]
        start_response(_REASONS[status], headers)
        log_request("GET", path, status, (time.perf_counter() - started) * 1000,
                    environ.get("REMOTE_ADDR"), request_id)
        return [data]


def _decode_path(raw: str) -> str:
    """PATH_INFO is WSGI's latin-1 view of the bytes; the NIT is ASCII when valid."""
    return raw.encode("latin-1").decode("utf-8")


def _nonce(query: str) -> str | bool | None:
    """The query's nonce (None when absent), or False when Flask must judge the query."""
    if not query:
        return None
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return False
    nonces = [value for name, value in pairs if name == "nonce"]
    if not nonces:
        return None
    if len(nonces) > 1 or not NONCE_RE.match(nonces[0]):
        return False
    return nonces[0]


def install(app: Flask) -> None:
    """Answer cached licence checks before Flask (inside any ProxyFix, which wraps it later)."""
    app.wsgi_app = LicenceFastPath(app, app.wsgi_app)
