"""Pending mail: an email that could not be queued (Celery broker down) or delivered (mail
server down, after the task's own retries) is kept here and sent later by `flush`.

The row holds the rendered message (address, subject, bodies) encrypted with the data
encryption keys (core.crypto, DATA_ENCRYPTION_KEYS): it may carry a sign-in code or a reset
link, so neither the database alone nor a log line ever shows it. Only the template name and
a reference ("usuario 12", "ticket 7") are kept in clear, for the logs.

`flush` (the Celery beat entry `backend.flush_mail_outbox`, every minute, and
`flask mail flush`) sends what is due, straight over SMTP (or to the outbox folder):

- a row is claimed before it is sent, by a conditional UPDATE that only one flush can win
  (on MariaDB the row lock makes the second UPDATE see the first one's claim), so flushes
  running at the same time send each mail once; a claim lasts CLAIM_SECONDS, after which a
  flush that died mid-way leaves the row to the next one (so delivery is at least once, never
  twice while the first sender is alive);
- sent: the row is deleted; failed: tried again after 1, 2, 4... minutes (at most an hour);
- given up (logged at ERROR with the reference): after MAX_ATTEMPTS failed attempts, when the
  row is past `expires_at`, or when no configured key decrypts it. A mail whose template
  carries a code states the code's life (`minutos`, or `valid_for` in core.mail.notify):
  past it the code is dead and the mail is dropped unsent; any other mail is kept MAX_AGE.
"""
from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from . import crypto
from .errors import database_error_code
from .mail_transport import deliver
from .models import utcnow

log = logging.getLogger("backend.mail")

MAX_ATTEMPTS = 10
MAX_AGE = timedelta(hours=24)
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
CLAIM_SECONDS = 300  # longer than one SMTP exchange (SMTP_TIMEOUT) by far
FLUSH_BATCH = 100
# MySQL/MariaDB lock wait timeout and deadlock: another flush holds the row (or its index
# range); that flush sends it, this one moves on.
_LOCK_CONFLICTS = {1205, 1213}


class CorreoPendiente(db.Model):
    """One email waiting to be sent again (content encrypted)."""

    __tablename__ = "correos_pendientes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plantilla: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    ref: Mapped[str | None] = mapped_column(sa.String(100))
    # Fernet token of the JSON message (to, subject, text, html).
    mensaje_enc: Mapped[str] = mapped_column(sa.Text, nullable=False)
    intentos: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    ultimo_error: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(sa.DateTime)
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))


_CONTENT_KEYS = ("to", "subject", "text", "html")


def expiry_for(valid_for: timedelta | None, context: dict) -> datetime:
    """When a kept mail is no longer worth sending: `valid_for` (or the `minutos` a code in it
    lives, as the code templates say) from now, else MAX_AGE."""
    if valid_for is None and isinstance(context.get("minutos"), int) and context["minutos"] > 0:
        valid_for = timedelta(minutes=context["minutos"])
    return utcnow() + min(valid_for or MAX_AGE, MAX_AGE)


def keep(message: dict, template: str, ref: str | None, expires_at: datetime | None = None,
         error: BaseException | None = None, attempts: int = 0) -> int:
    """Store `message` (the rendered email, with "to") encrypted, in a transaction of its own
    (whatever the caller's session holds), due at once for the next flush; answer its id.
    Raises when the database cannot take it (the caller logs the mail as lost)."""
    content = json.dumps({key: message.get(key) for key in _CONTENT_KEYS})
    now = utcnow()
    values = {
        "plantilla": template[:64], "ref": (ref or "")[:100] or None,
        "mensaje_enc": crypto.encrypt(content), "intentos": attempts,
        "ultimo_error": type(error).__name__[:100] if error else None,
        "created_at": now, "expires_at": expires_at or now + MAX_AGE, "next_attempt_at": now,
    }
    with db.engine.begin() as conn:
        result = conn.execute(insert(CorreoPendiente).values(**values))
        return int(result.inserted_primary_key[0])


@dataclass
class FlushResult:
    sent: int = 0
    retried: int = 0
    dropped: int = 0
    skipped: int = 0  # claimed meanwhile by another flush

    def __str__(self) -> str:
        return (f"{self.sent} enviados, {self.retried} reintentarán, {self.dropped} descartados, "
                f"{self.skipped} tomados por otro proceso")


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4... minutes, at most an hour."""
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), MAX_RETRY)


def _claimable(now: datetime):
    return or_(CorreoPendiente.claimed_until.is_(None), CorreoPendiente.claimed_until < now)


def _drop(row_id: int, token: str | None, template: str, ref: str | None, why: str) -> None:
    stmt = delete(CorreoPendiente).where(CorreoPendiente.id == row_id)
    if token is not None:
        stmt = stmt.where(CorreoPendiente.claim_token == token)
    db.session.execute(stmt)
    db.session.commit()
    log.error("pending %r email %d for %s given up: %s", template, row_id, ref, why)


def flush(limit: int = FLUSH_BATCH) -> FlushResult:
    """Send the pending mail that is due (at most `limit` rows); see the module's notes."""
    result = FlushResult()
    now = utcnow()
    expired = db.session.execute(
        select(CorreoPendiente.id, CorreoPendiente.plantilla, CorreoPendiente.ref)
        .where(CorreoPendiente.expires_at <= now, _claimable(now))).all()
    for row_id, template, ref in expired:
        _drop(row_id, None, template, ref, "stale (past its expiry)")
        result.dropped += 1
    due = db.session.scalars(
        select(CorreoPendiente.id)
        .where(CorreoPendiente.next_attempt_at <= now, CorreoPendiente.expires_at > now,
               _claimable(now))
        .order_by(CorreoPendiente.id).limit(limit)).all()
    db.session.commit()
    for row_id in due:
        _flush_one(row_id, result)
    return result


def _flush_one(row_id: int, result: FlushResult) -> None:
    now = utcnow()
    token = secrets.token_hex(16)
    try:
        claimed = db.session.execute(
            update(CorreoPendiente)
            .where(CorreoPendiente.id == row_id, CorreoPendiente.next_attempt_at <= now,
                   _claimable(now))
            .values(claim_token=token, claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
                    intentos=CorreoPendiente.intentos + 1)
            .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
    except DBAPIError as exc:
        if database_error_code(exc) not in _LOCK_CONFLICTS:
            raise
        db.session.rollback()
        claimed = 0
    if claimed != 1:
        result.skipped += 1
        return
    row = db.session.execute(
        select(CorreoPendiente.plantilla, CorreoPendiente.ref, CorreoPendiente.mensaje_enc,
               CorreoPendiente.intentos).where(CorreoPendiente.id == row_id)).one()
    db.session.commit()
    content = crypto.decrypt(row.mensaje_enc)
    if content is None:
        _drop(row_id, token, row.plantilla, row.ref, "no configured key decrypts it")
        result.dropped += 1
        return
    try:
        deliver(json.loads(content))
    except Exception as exc:  # noqa: BLE001 - any delivery failure is retried or given up
        if row.intentos >= MAX_ATTEMPTS:
            _drop(row_id, token, row.plantilla, row.ref,
                  f"{row.intentos} attempts, the last {type(exc).__name__}")
            result.dropped += 1
            return
        db.session.execute(
            update(CorreoPendiente)
            .where(CorreoPendiente.id == row_id, CorreoPendiente.claim_token == token)
            .values(claim_token=None, claimed_until=None,
                    next_attempt_at=utcnow() + backoff(row.intentos),
                    ultimo_error=type(exc).__name__[:100])
            .execution_options(synchronize_session=False))
        db.session.commit()
        log.warning("pending %r email %d for %s not sent (attempt %d, %s); tried again later",
                    row.plantilla, row_id, row.ref, row.intentos, type(exc).__name__)
        result.retried += 1
        return
    _delete_sent(row_id, token)
    log.info("pending %r email %d for %s sent (attempt %d)", row.plantilla, row_id, row.ref,
             row.intentos)
    result.sent += 1


def _delete_sent(row_id: int, token: str, tries: int = 5) -> None:
    """Delete the row of a mail just sent (ours by the claim), retried through lock conflicts:
    a row left behind would be sent again once the claim runs out."""
    for attempt in range(1, tries + 1):
        try:
            db.session.execute(delete(CorreoPendiente).where(CorreoPendiente.id == row_id,
                                                             CorreoPendiente.claim_token == token))
            db.session.commit()
            return
        except DBAPIError as exc:
            db.session.rollback()
            if database_error_code(exc) not in _LOCK_CONFLICTS or attempt == tries:
                raise


def pending_count() -> int:
    return db.session.scalar(select(sa.func.count()).select_from(CorreoPendiente)) or 0
