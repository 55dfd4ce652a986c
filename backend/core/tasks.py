"""Celery tasks of core: email delivery (SMTP, or `.eml` files in the outbox when no SMTP
server is set) and the periodic flush of pending mail (core.mail_outbox)."""
from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from . import mail_outbox
from .mail_transport import deliver

log = logging.getLogger("backend.mail")

SEND_RETRIES = 5


@shared_task(bind=True, name="backend.send_email", max_retries=SEND_RETRIES)
def send_email_task(self, message: dict) -> str:
    """Deliver one rendered message; retried with backoff (1, 2, 4... s, jittered, at most
    300) on network errors, then kept as pending mail for the periodic flush. Run eagerly
    (no broker), a failure is raised to the caller (core.mail.notify keeps it)."""
    try:
        where = deliver(message)
    except OSError as exc:
        if self.request.is_eager:
            raise
        if self.request.retries < self.max_retries:
            countdown = get_exponential_backoff_interval(1, self.request.retries, 300, True)
            raise self.retry(exc=exc, countdown=countdown) from exc
        template = message.get("template") or "?"
        expires = message.get("expires_at")
        row_id = mail_outbox.keep(message, template, message.get("ref"),
                                  datetime.fromisoformat(expires) if expires else None,
                                  error=exc, attempts=self.request.retries + 1)
        log.error("the %r email for %s failed %d times (%s); kept as pending mail %d",
                  template, message.get("ref"), self.request.retries + 1, type(exc).__name__,
                  row_id)
        return f"pending:{row_id}"
    log.info("email %r to %s delivered via %s", message.get("subject"), message.get("to"), where)
    return where


@shared_task(name="backend.flush_mail_outbox")
def flush_mail_outbox_task() -> str:
    """Send the pending mail that is due (Celery beat, every minute)."""
    result = mail_outbox.flush()
    if result.sent or result.retried or result.dropped:
        log.info("pending mail: %s", result)
    return str(result)
