"""One mail to several recipients (core.mail.notify_each): rendered once, one message each,
addressed to that recipient alone, read back from a real SMTP server; a template that cannot
be rendered queues nothing and is logged once."""
from __future__ import annotations

import logging

from sqlalchemy import func, select

from backend.core import mail
from backend.core.mail_outbox import CorreoPendiente
from tests.identity import conftest as identity

smtp_sink = identity.smtp_sink
mailbox = identity.mailbox

TO = ["uno@example.com", "dos@example.com", "tres@example.com"]


def test_each_recipient_gets_the_same_mail_addressed_to_them_alone(app, db, mailbox, monkeypatch):
    renders = []
    render = mail.render_email
    monkeypatch.setattr(mail, "render_email", lambda *a, **k: renders.append(1) or render(*a, **k))
    with app.test_request_context():
        queued = mail.notify_each(TO, "otp_activado", ref="prueba 1")
    assert queued == 3 and len(renders) == 1
    assert sorted(m["To"] for m in mailbox.messages) == sorted(TO)
    assert len({(m["Subject"], mailbox.text(m)) for m in mailbox.messages}) == 1
    assert all("," not in m["To"] and m["Cc"] is None and m["Bcc"] is None
               for m in mailbox.messages)


def test_a_template_that_cannot_be_rendered_queues_nothing(app, db, mailbox, caplog):
    with app.test_request_context(), caplog.at_level(logging.ERROR, logger="backend.mail"):
        queued = mail.notify_each(TO, "no_existe", ref="prueba 2")
    assert queued == 0 and mailbox.messages == []
    [logged] = [r for r in caplog.records if "prueba 2" in r.getMessage()]
    assert "could not be rendered" in logged.getMessage()
    assert not any(address in caplog.text for address in TO)
    assert db.session.scalar(select(func.count()).select_from(CorreoPendiente)) == 0


def test_no_recipient_no_work(app, mailbox, caplog):
    """Not even rendered: the template that does not exist is never looked for."""
    with app.test_request_context(), caplog.at_level(logging.ERROR, logger="backend.mail"):
        assert mail.notify_each([], "no_existe", ref="prueba 3") == 0
    assert mailbox.messages == []
    assert not [r for r in caplog.records if "prueba 3" in r.getMessage()]
