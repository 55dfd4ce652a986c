"""Encryption and digest keys of their own, with rotation: SECRET_KEY may change without losing
what is stored; the first key of DATA_ENCRYPTION_KEYS / DIGEST_KEYS writes, every key reads."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.config import ProductionConfig
from backend.core import crypto
from backend.core.audit import Auditoria
from backend.identity.models import Usuario

OLD, NEW = "old-data-key-0123456789abcdef", "new-data-key-0123456789abcdef"


@pytest.fixture
def settings(app, monkeypatch):
    """Change key settings for one test (the app's own are restored after it)."""

    def change(**values):
        for name, value in values.items():
            monkeypatch.setitem(app.config, name, value)

    return change


def test_rotating_secret_key_keeps_encrypted_secrets_readable(settings):
    settings(DATA_ENCRYPTION_KEYS=[OLD])
    token = crypto.encrypt("JBSWY3DPEHPK3PXP")
    settings(SECRET_KEY="a-brand-new-secret-key")
    assert crypto.decrypt(token) == "JBSWY3DPEHPK3PXP"


def test_the_first_key_encrypts_and_every_key_decrypts(settings):
    settings(DATA_ENCRYPTION_KEYS=[OLD])
    old_token = crypto.encrypt("secreto-viejo")
    settings(DATA_ENCRYPTION_KEYS=[NEW, OLD])
    new_token = crypto.encrypt("secreto-nuevo")
    assert crypto.decrypt(old_token) == "secreto-viejo"
    assert crypto.decrypt(new_token) == "secreto-nuevo"
    settings(DATA_ENCRYPTION_KEYS=[NEW])
    assert crypto.decrypt(new_token) == "secreto-nuevo"
    assert crypto.decrypt(old_token) is None  # the old key was dropped
    settings(DATA_ENCRYPTION_KEYS=[NEW, OLD])
    rotated = crypto.reencrypt(old_token)
    settings(DATA_ENCRYPTION_KEYS=[NEW])
    assert crypto.decrypt(rotated) == "secreto-viejo"


def test_without_the_setting_secret_key_is_the_key_as_before(app, settings):
    settings(DATA_ENCRYPTION_KEYS=[], DIGEST_KEYS=[])
    token = crypto.encrypt("JBSWY3DPEHPK3PXP")
    digest = crypto.keyed_digest("123456")
    # Moving to keys of its own: the current SECRET_KEY listed last keeps both readable.
    settings(DATA_ENCRYPTION_KEYS=[NEW, app.config["SECRET_KEY"]],
             DIGEST_KEYS=[NEW, app.config["SECRET_KEY"]])
    assert crypto.decrypt(token) == "JBSWY3DPEHPK3PXP"
    assert crypto.keyed_digests("123456")[1] == digest


def test_digests_survive_a_secret_key_rotation_and_rotate_themselves(settings):
    settings(DIGEST_KEYS=[OLD])
    stored = crypto.keyed_digest("123456")
    settings(SECRET_KEY="a-brand-new-secret-key")
    assert crypto.keyed_digest("123456") == stored
    settings(DIGEST_KEYS=[NEW, OLD])
    digests = crypto.keyed_digests("123456")
    assert digests[0] == crypto.keyed_digest("123456") != stored  # new digests: the first key
    assert stored in digests  # stored ones are still found
    assert crypto.keyed_digests("654321")[1] != stored


def test_reencrypt_command_moves_stored_secrets_to_the_current_key(db, runner, make_usuario, settings):
    settings(DATA_ENCRYPTION_KEYS=[OLD])
    usuario = make_usuario(otp_secret_enc=crypto.encrypt("JBSWY3DPEHPK3PXP"))
    make_usuario(otp_secret_enc="not-a-token")
    settings(DATA_ENCRYPTION_KEYS=[NEW, OLD])
    result = runner.invoke(args=["keys", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "1 secretos" in result.output and "1 ilegibles" in result.output
    settings(DATA_ENCRYPTION_KEYS=[NEW])
    db.session.expire_all()
    assert crypto.decrypt(db.session.get(Usuario, usuario.id).otp_secret_enc) == "JBSWY3DPEHPK3PXP"
    assert db.session.scalars(select(Auditoria)).all() == []


def test_production_refuses_short_keys(monkeypatch):
    monkeypatch.setenv("DATA_ENCRYPTION_KEYS", f"{NEW},short")
    monkeypatch.setenv("DIGEST_KEYS", NEW)
    with pytest.raises(RuntimeError) as excinfo:
        ProductionConfig().check()
    assert "DATA_ENCRYPTION_KEYS" in str(excinfo.value) and "DIGEST_KEYS" not in str(excinfo.value)
