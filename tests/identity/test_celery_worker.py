"""An email sent through the API travels through Redis to a real Celery worker, which
delivers it over SMTP to the sink."""
from __future__ import annotations

import pytest

from tests import celery_worker
from tests.conftest import PASSWORD
from tests.identity.conftest import post

celery_over_redis, worker = celery_worker.fixtures(11, "auth-tests")


@pytest.mark.integration
def test_activation_email_delivered_by_a_real_worker(client, mailbox, celery_over_redis, worker, tmp_path):
    response = post(client, "/auth/registro", {"nombre": "Ana", "email": "ana@example.com",
                                               "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    assert mailbox.messages == []  # queued, not sent in-process
    try:
        message = mailbox.wait_for("ana@example.com", timeout=45)
    except AssertionError:
        raise AssertionError((tmp_path / "worker.log").read_text(errors="replace")[-3000:]) from None
    assert worker.poll() is None  # the worker is the one that delivered it
    assert message["Subject"] == "Código de activación de su cuenta"
    code = mailbox.code("ana@example.com")
    confirm = post(client, "/auth/registro/confirmar-otp",
                   {"registro_token": response.get_json()["registro_token"], "code": code})
    assert confirm.status_code == 200, confirm.get_json()
    assert confirm.get_json()["usuario"]["email_verificado"] is True
