"""Email: rendering `templates/emails/<name>.html|.txt`, queueing delivery, and the one policy
for a mail that cannot be queued (`notify`)."""
from __future__ import annotations

import logging

from flask import render_template

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
           **context) -> bool:
    """Queue an email whose failure must not change the answer, and say whether it was queued.

    The change it reports is already committed (a 500 would hide it), and some answers must
    not differ between known and unknown accounts. A failure (mail server or broker down) is
    logged at ERROR with `ref` (e.g. "usuario 12"), never the address, the codes or the body.
    """
    try:
        send_email(to, template, **context)
    except Exception as exc:  # noqa: BLE001 - any delivery or broker failure
        (logger or log).error("the %r email for %s could not be queued (%s: %.200s)", template,
                              ref, type(exc).__name__, exc, exc_info=True)
        return False
    return True
