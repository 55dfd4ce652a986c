"""Flask-Limiter that keeps working while its Redis is down: the limits are counted in each
process's memory meanwhile (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED), and code that reads or
gives back counters itself uses that same store. A database error in a limit's callback is
the app's to answer (503 while the database is away), not taken for a Redis outage."""
from __future__ import annotations

import logging
from functools import wraps

from flask_limiter import Limiter, RateLimitExceeded
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import TooManyRequests


class _OutageLogFilter(logging.Filter):
    """Of Flask-Limiter's messages, keep the storage outage ones (warnings and errors, and the
    recovery notice); its per-request lines (which name the limited keys) stay out of the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or "recovered" in record.getMessage()


# The callbacks of a limit that Flask-Limiter calls while it checks a request.
_CHECK_CALLBACKS = ("key_func", "exempt_when", "on_breach")


class _StopCheck(RateLimitExceeded):
    """Carries a callback's database error out of Flask-Limiter's check, ending it at once: the
    one exception it lets through as it is (any other it takes for an outage of its own
    storage). Never answered: FallbackLimiter raises `error` in its place."""

    def __init__(self, error: SQLAlchemyError):
        TooManyRequests.__init__(self)  # no limit was exceeded: RateLimitExceeded's needs one
        self.error = error


def _stopping_on_database_errors(callback):
    """`callback`, whose database errors end the limit check (see _StopCheck)."""

    @wraps(callback)
    def guarded(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except SQLAlchemyError as exc:
            raise _StopCheck(exc) from exc

    return guarded


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

    def limit(self, limit_value, **kwargs):
        """Flask-Limiter's `limit`, its callbacks' database errors answered as the app answers
        any database error (see `_check_request_limit`)."""
        return super().limit(limit_value, **_guarded_callbacks(kwargs))

    def shared_limit(self, limit_value, scope, **kwargs):
        """Flask-Limiter's `shared_limit`, guarded as `limit`."""
        return super().shared_limit(limit_value, scope, **_guarded_callbacks(kwargs))

    def _check_request_limit(self, callable_name: str | None = None,
                             in_middleware: bool = True) -> None:
        # Every request runs the before-request check, which only ever finds application,
        # default or blueprint limits (a decorated view checks its own limits when called).
        # Without any of them, finding none costs a fifth of a plain request: skip it.
        if in_middleware and not self._limits_every_request():
            return
        # A database error in a callback (a key, an exemption or a breach logged in the
        # database) would otherwise be taken for an outage of the limiter's own storage: the
        # counters moved to memory and the check run again on a broken session (a 500). It is
        # raised instead, once the check has stopped, for the app's handlers (503 while the
        # database is away).
        try:
            super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)
        except _StopCheck as stop:
            # Logged with the driver's error as its cause, as if raised where it happened.
            raise stop.error from stop.error.__cause__

    def _limits_every_request(self) -> bool:
        manager = self.limit_manager
        return bool(manager._application_limits or manager._default_limits
                    or manager._blueprint_limits or self._in_memory_fallback)


def _guarded_callbacks(kwargs: dict) -> dict:
    return {name: _stopping_on_database_errors(value) if name in _CHECK_CALLBACKS and callable(value)
            else value for name, value in kwargs.items()}
