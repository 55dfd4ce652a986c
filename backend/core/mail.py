"""Email: rendering `templates/emails/<name>.html|.txt`, queueing delivery, and the one policy
for a mail that cannot be queued (`notify`: kept as pending mail, core.mail_outbox)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import render_template

from . import mail_outbox
from .tasks import send_email_task

log = logging.getLogger("backend.mail")


def render_email(template: str, **context) -> dict:
    """Render the HTML and text bodies; the subject is the text template's first line,
    written `Subject: ...` (every template in templates/emails/ has one)."""
    text = render_template(f"emails/{template}.txt", **context)
    html = render_template(f"emails/{template}.html", **context)
    first_line, _, body = text.partition("\n")
    if not first_line.startswith("Subject:"):
        raise ValueError(f"templates/emails/{template}.txt must start with a 'Subject:' line")
    return {"subject": first_line.removeprefix("Subject:").strip(), "text": body.lstrip("\n"),
            "html": html}


def send_email(to: str, template: str, **context) -> None:
    """Queue one templated email (runs at once in the eager embedded default); raises when it
    cannot be queued."""
    message = render_email(template, **context)
    message["to"] = to
    send_email_task.delay(message)


def notify(to: str, template: str, *, ref: str, logger: logging.Logger | None = None,
           valid_for: timedelta | None = None, **context) -> bool:
    """Queue an email whose failure must not change the answer, and say whether it was queued.

    The change it reports is already committed (a 500 would hide it), and some answers must
    not differ between known and unknown accounts. A failure (mail server or broker down) is
    logged at ERROR with `ref` (e.g. "usuario 12"), never the address, the codes or the body,
    and the rendered mail is kept encrypted as pending mail (core.mail_outbox) for a later
    flush, until `valid_for` (default: the `minutos` a code in it lives, else a day) runs out.
    Only when the database cannot take it either is the mail lost (logged too).
    """
    return notify_each([to], template, ref=ref, logger=logger, valid_for=valid_for,
                       **context) == 1


def notify_each(recipients: list[str], template: str, *, ref: str,
                logger: logging.Logger | None = None, valid_for: timedelta | None = None,
                **context) -> int:
    """`notify` each of `recipients` (one message each, addressed to that one alone) of one
    mail, rendered once: `context` names no recipient. Answers how many were queued."""
    if not recipients:
        return 0
    expires_at = mail_outbox.expiry_for(valid_for, context)
    try:
        rendered = render_email(template, **context)
    except Exception as exc:  # noqa: BLE001 - a broken template: nothing to send, now or later
        _report(logger, template, ref, exc, _keep(None, template, ref, expires_at, exc))
        return 0
    queued = 0
    for to in recipients:
        # `template`, `ref`, `expires_at`: for the worker, should it have to keep the mail
        # after its own retries.
        message = {**rendered, "to": to, "template": template, "ref": ref,
                   "expires_at": expires_at.isoformat()}
        try:
            send_email_task.delay(message)
        except Exception as exc:  # noqa: BLE001 - any delivery or broker failure
            _report(logger, template, ref, exc, _keep(message, template, ref, expires_at, exc))
        else:
            queued += 1
    return queued


def _report(logger: logging.Logger | None, template: str, ref: str, exc: BaseException,
            kept: str) -> None:
    (logger or log).error("the %r email for %s could not be queued (%s: %.200s); %s",
                          template, ref, type(exc).__name__, exc, kept, exc_info=exc)


def _keep(message: dict | None, template: str, ref: str, expires_at: datetime,
          exc: BaseException) -> str:
    """Keep the rendered `message` as pending mail; say what became of it (for the log)."""
    if message is None:  # the template itself failed: nothing to send later
        return "not kept (it could not be rendered)"
    try:
        row_id = mail_outbox.keep(message, template, ref, expires_at, error=exc)
    except Exception as keep_exc:  # noqa: BLE001 - the database is down as well
        return f"lost: it could not be kept either ({type(keep_exc).__name__})"
    return f"kept as pending mail {row_id}, sent later"
