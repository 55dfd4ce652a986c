"""Flask-Limiter that keeps working while its Redis is down: the limits are counted in each
process's memory meanwhile (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED), and code that reads or
gives back counters itself uses that same store."""
from __future__ import annotations

import logging

from flask_limiter import Limiter


class _OutageLogFilter(logging.Filter):
    """Of Flask-Limiter's messages, keep the storage outage ones (warnings and errors, and the
    recovery notice); its per-request lines (which name the limited keys) stay out of the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or "recovered" in record.getMessage()


class FallbackLimiter(Limiter):
    """Flask-Limiter whose storage, while the configured one (Redis) is down and the in-memory
    fallback (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) has taken over, is the in-memory one: code
    that reads or gives back counters itself (identity.services.throttle) then uses the same
    store the limits are checked against, instead of failing on the dead one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Into the app's log tree (core.logging_setup installs its handlers on `backend`).
        self.logger = logging.getLogger("backend.ratelimit")
        self.logger.addFilter(_OutageLogFilter())

    def init_app(self, app) -> None:
        """Initialise for `app`; a newly configured storage starts out presumed reachable."""
        self._storage_dead = False
        super().init_app(app)

    @property
    def storage(self):
        """The store counters are kept in right now: the fallback while the main one is down."""
        fallback = getattr(self, "_fallback_storage", None)
        if self._storage_dead and self._in_memory_fallback_enabled and fallback is not None:
            return fallback
        return super().storage

    def _check_request_limit(self, callable_name: str | None = None,
                             in_middleware: bool = True) -> None:
        # Every request runs the before-request check, which only ever finds application,
        # default or blueprint limits (a decorated view checks its own limits when called).
        # Without any of them, finding none costs a fifth of a plain request: skip it.
        if in_middleware and not self._limits_every_request():
            return
        super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)

    def _limits_every_request(self) -> bool:
        manager = self.limit_manager
        return bool(manager._application_limits or manager._default_limits
                    or manager._blueprint_limits or self._in_memory_fallback)
