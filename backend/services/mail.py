"""Rendering emails from `templates/emails/<name>.html|.txt` and queueing their delivery."""
from __future__ import annotations

from flask import render_template


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
    """Queue one templated email (runs at once in the eager embedded default)."""
    from ..tasks.mail import send_email_task

    message = render_email(template, **context)
    message["to"] = to
    send_email_task.delay(message)
