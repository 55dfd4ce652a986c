"""Rendering emails from `templates/emails/<name>.html|.txt` and queueing their delivery."""
from __future__ import annotations

from flask import render_template


def render_email(template: str, **context) -> dict:
    """Render the HTML and text bodies; the subject is the text template's first line."""
    text = render_template(f"emails/{template}.txt", **context)
    html = render_template(f"emails/{template}.html", **context)
    first_line, _, body = text.partition("\n")
    subject = first_line.removeprefix("Subject:").strip() if first_line.startswith("Subject:") else template
    return {"subject": subject, "text": body.lstrip("\n") if first_line.startswith("Subject:") else text,
            "html": html}


def send_email(to: str, template: str, **context) -> None:
    """Queue one templated email (runs at once in the eager embedded default)."""
    from ..tasks.mail import send_email_task

    message = render_email(template, **context)
    message["to"] = to
    send_email_task.delay(message)
