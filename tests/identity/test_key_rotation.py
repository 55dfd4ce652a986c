"""A digest-key rotation keeps what was issued under the old key working: backup codes,
emailed codes and reset tokens stored before DIGEST_KEYS gained a new first key are still
found, while new ones are made with the new key."""
from __future__ import annotations

from backend.core import crypto
from backend.identity.models import PropositoCodigo
from backend.identity.services import email_codes, otp

OLD, NEW = "old-digest-key-0123456789abcdef", "new-digest-key-0123456789abcdef"


def test_codes_issued_before_a_rotation_still_work(app, db, make_usuario, monkeypatch):
    usuario = make_usuario(email="rota@example.com")
    monkeypatch.setitem(app.config, "DIGEST_KEYS", [OLD])
    otp.store_secret(usuario, otp.new_secret())
    usuario.otp_enabled = True
    backup = otp.issue_backup_codes(usuario)
    code = email_codes.issue_code(usuario, PropositoCodigo.CAMBIO_PASSWORD)
    token = email_codes.issue_token(usuario, PropositoCodigo.RESET_PASSWORD)
    db.session.commit()

    monkeypatch.setitem(app.config, "DIGEST_KEYS", [NEW, OLD])
    assert email_codes.find_by_token(PropositoCodigo.RESET_PASSWORD, token) is not None
    assert email_codes.check_code(usuario, PropositoCodigo.CAMBIO_PASSWORD, code) is True
    assert otp.use_backup_code(usuario, backup[0]) is True
    assert otp.use_backup_code(usuario, backup[0]) is False  # still once only
    fresh = email_codes.issue_code(usuario, PropositoCodigo.ACTIVACION)
    db.session.commit()
    assert crypto.keyed_digest(fresh) == crypto.keyed_digests(fresh)[0]  # made with the new key

    monkeypatch.setitem(app.config, "DIGEST_KEYS", [NEW])  # the old key dropped
    assert otp.use_backup_code(usuario, backup[1]) is False
    assert email_codes.find_by_token(PropositoCodigo.RESET_PASSWORD, token) is None
