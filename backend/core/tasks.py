"""Email delivery task (SMTP, or `.eml` files in the outbox when no SMTP server is set)."""
from __future__ import annotations

import logging

from celery import shared_task

from .mail_transport import deliver

log = logging.getLogger("backend.mail")


@shared_task(bind=True, name="backend.send_email", autoretry_for=(OSError,),
             retry_backoff=True, retry_backoff_max=300, max_retries=5)
def send_email_task(self, message: dict) -> str:
    """Deliver one rendered message; retried with backoff on network errors."""
    where = deliver(message)
    log.info("email %r to %s delivered via %s", message.get("subject"), message.get("to"), where)
    return where
