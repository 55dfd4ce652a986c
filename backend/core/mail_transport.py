"""Turning a rendered message into an email on the wire (or in the outbox folder)."""
from __future__ import annotations

import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

from flask import current_app


def build_message(message: dict) -> EmailMessage:
    """A multipart/alternative email (text + HTML) from the task payload."""
    config = current_app.config
    email = EmailMessage()
    email["Subject"] = message["subject"]
    email["From"] = formataddr((config["SENDER_NAME"], config["SENDER_EMAIL"]))
    email["To"] = message["to"]
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=config["SENDER_EMAIL"].split("@")[-1])
    email.set_content(message["text"])
    if message.get("html"):
        email.add_alternative(message["html"], subtype="html")
    return email


def deliver(message: dict) -> str:
    """Send over SMTP when SMTP_SERVER is set, else write `instance/outbox/<id>.eml`."""
    config = current_app.config
    email = build_message(message)
    if not config.get("SMTP_SERVER"):
        outbox = Path(config["MAIL_OUTBOX_DIR"])
        outbox.mkdir(parents=True, exist_ok=True)
        path = outbox / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(bytes(email))
        return str(path)
    host, port, timeout = config["SMTP_SERVER"], config["SMTP_PORT"], config["SMTP_TIMEOUT"]
    if config.get("SMTP_USE_SSL"):
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if config.get("SMTP_USE_TLS") and not config.get("SMTP_USE_SSL"):
            client.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USERNAME"):
            client.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        client.send_message(email)
    return f"smtp://{host}:{port}"
