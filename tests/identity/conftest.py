"""Fixtures of the identity tests (sign-in, registration, account, users): a real SMTP server
(aiosmtpd) that catches every email the app sends, a frozen clock for TOTP steps, and sign-in
helpers."""
from __future__ import annotations

import re
import threading
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import pyotp
import pytest
import time_machine
from aiosmtpd.controller import Controller

from tests.conftest import PASSWORD
from tests.servers import free_port

NEW_PASSWORD = "Nueva#Clave456"




class SinkHandler:
    """Keeps every message received over SMTP."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted"


class Mailbox:
    """What the sink received, with helpers to read codes and tokens out of it."""

    def __init__(self, handler: SinkHandler, port: int):
        self.handler = handler
        self.port = port

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    def clear(self) -> None:
        with self.handler.lock:
            self.handler.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def last(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert found, f"no email to {address}; got {[(m['To'], m['Subject']) for m in self.messages]}"
        return found[-1]

    @staticmethod
    def text(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("html",)).get_content()

    def code(self, address: str) -> str:
        """The 6-digit code of the last email to `address`."""
        match = re.search(r"\b(\d{6})\b", self.text(self.last(address)))
        assert match, self.text(self.last(address))
        return match.group(1)

    def reset_token(self, address: str) -> str:
        match = re.search(r"Código de recuperación: (\S+)", self.text(self.last(address)))
        assert match, self.text(self.last(address))
        return match.group(1)

    def wait_for(self, address: str, timeout: float = 30.0) -> EmailMessage:
        """Poll (bounded) until an email to `address` arrives (for a real Celery worker)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.to(address):
                return self.last(address)
            time.sleep(0.2)
        raise AssertionError(f"no email to {address} within {timeout}s")


@pytest.fixture(scope="session")
def smtp_sink():
    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield Mailbox(handler, port)
    controller.stop()


@pytest.fixture(autouse=True)
def mailbox(app, smtp_sink, monkeypatch):
    """Every email of these tests goes over SMTP to the sink (eager Celery task)."""
    monkeypatch.setitem(app.config, "SMTP_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_sink.port)
    monkeypatch.setitem(app.config, "SMTP_USE_TLS", False)
    monkeypatch.setitem(app.config, "SMTP_USE_SSL", False)
    smtp_sink.clear()
    yield smtp_sink
    smtp_sink.clear()


@pytest.fixture
def clock():
    """Time frozen at now; `clock.shift(seconds)` moves it (TOTP steps, expiry)."""
    with time_machine.travel(time.time(), tick=False) as traveller:
        yield traveller


def totp_now(secret: str, offset_steps: int = 0) -> str:
    """The TOTP code for the current (frozen) time plus `offset_steps` steps."""
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def post(client, path: str, json=None, headers=None, ip: str = "127.0.0.1"):
    return client.post(path, json=json, headers=headers or {}, environ_base={"REMOTE_ADDR": ip})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def login(client):
    """POST /auth/login; returns the response."""

    def do(email: str, password: str = PASSWORD, ip: str = "127.0.0.1"):
        return post(client, "/auth/login", {"email": email, "password": password}, ip=ip)

    return do


@pytest.fixture
def otp_user(make_usuario, client, clock, db):
    """A user with 2FA on (set up through the API); returns (usuario, secret, backup_codes)."""

    def make(**values):
        usuario = make_usuario(**values)
        pair = post(client, "/auth/login", {"email": usuario.email, "password": PASSWORD}).get_json()
        headers = bearer(pair["access_token"])
        secret = post(client, "/auth/otp/setup", headers=headers).get_json()["secret"]
        body = post(client, "/auth/otp/activate", {"otp_code": totp_now(secret), "password": PASSWORD},
                    headers=headers)
        assert body.status_code == 200, body.get_json()
        clock.shift(30)  # the next test code is of a new step
        db.session.refresh(usuario)
        return usuario, secret, body.get_json()["backup_codes"]

    return make


__all__ = ["NEW_PASSWORD", "PASSWORD", "bearer", "post", "totp_now"]
