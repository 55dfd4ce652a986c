"""Caps that parallel requests must not beat, seen one request at a time (the concurrent proof is
in test_concurrency.py, on MariaDB): an answer to a one-time secret is counted in the database
BEFORE it is compared, and a failure-only rate limit is charged BEFORE the view answers (and
given back when the answer is not a failure)."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from backend.extensions import limiter
from backend.identity.models import CodigoEmail, DesafioLogin, PropositoCodigo
from backend.identity.services import account, email_codes, otp
from tests.conftest import assert_error
from tests.identity.conftest import bearer, post, totp_now


def _counted(db, model, **where):
    """`intentos` of the row, as committed (what another request would see)."""
    stmt = select(model.intentos)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    with db.engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


def test_a_guess_at_an_emailed_code_is_counted_before_it_is_compared(client, db, make_usuario, login,
                                                                     mailbox, monkeypatch):
    usuario = make_usuario(email="ana@example.com")
    headers = bearer(login("ana@example.com").get_json()["access_token"])
    post(client, "/account/password/request-code", headers=headers)
    seen = []

    def compare_digest(a, b):
        seen.append(_counted(db, CodigoEmail, usuario_id=usuario.id,
                             proposito=PropositoCodigo.CAMBIO_PASSWORD))
        return a == b

    monkeypatch.setattr(email_codes, "hmac", SimpleNamespace(compare_digest=compare_digest))
    for expected in (1, 2):
        assert_error(post(client, "/account/password/verify-code", {"code": "000000x"}, headers=headers),
                     400, "codigo_invalido")
        assert seen[-1] == expected
    # A right answer that only checks the code gives its attempt back.
    ok = post(client, "/account/password/verify-code", {"code": mailbox.code("ana@example.com")},
              headers=headers)
    assert ok.status_code == 200 and seen[-1] == 3
    assert _counted(db, CodigoEmail, usuario_id=usuario.id, proposito=PropositoCodigo.CAMBIO_PASSWORD) == 2


def test_the_sixth_guess_at_an_emailed_code_compares_nothing(client, db, make_usuario, login, mailbox,
                                                             monkeypatch):
    make_usuario(email="ana@example.com")
    headers = bearer(login("ana@example.com").get_json()["access_token"])
    post(client, "/account/password/request-code", headers=headers)
    code = mailbox.code("ana@example.com")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert_error(post(client, "/account/password/verify-code", {"code": wrong}, headers=headers), 400)
    compared = []
    monkeypatch.setattr(email_codes, "hmac", SimpleNamespace(
        compare_digest=lambda a, b: compared.append(1) or a == b))
    assert_error(post(client, "/account/password/verify-code", {"code": code}, headers=headers),
                 400, "codigo_invalido")
    assert compared == []


def test_an_answer_to_a_login_challenge_is_counted_before_the_code_is_checked(client, db, otp_user, login,
                                                                              monkeypatch):
    usuario, secret, _codes = otp_user(email="ana@example.com")
    token = login("ana@example.com").get_json()["challenge_token"]
    seen = []
    original = otp.verify_second_factor

    def verify(user, **kwargs):
        seen.append(_counted(db, DesafioLogin, usuario_id=usuario.id))
        return original(user, **kwargs)

    monkeypatch.setattr(otp, "verify_second_factor", verify)
    assert_error(post(client, "/auth/login/otp", {"challenge_token": token, "otp_code": "000000"}), 401)
    assert post(client, "/auth/login/otp", {"challenge_token": token,
                                            "otp_code": totp_now(secret)}).status_code == 200
    assert seen == [1, 2]


def test_a_reset_tokens_second_factor_is_counted_before_it_is_checked(client, db, otp_user, mailbox,
                                                                      monkeypatch):
    usuario, secret, _codes = otp_user(email="ana@example.com")
    post(client, "/auth/password/forgot", {"email": "ana@example.com"})
    token = mailbox.reset_token("ana@example.com")
    seen = []
    original = otp.verify_second_factor

    def verify(user, **kwargs):
        seen.append(_counted(db, CodigoEmail, usuario_id=usuario.id,
                             proposito=PropositoCodigo.RESET_PASSWORD))
        return original(user, **kwargs)

    monkeypatch.setattr(otp, "verify_second_factor", verify)
    for _ in range(5):
        assert_error(post(client, "/auth/password/reset", {"token": token, "password": "Nueva#Clave456",
                                                           "otp_code": "000000"}), 400, "codigo_invalido")
    assert seen == [1, 2, 3, 4, 5]
    # Burnt: the right code is not even compared.
    burnt = post(client, "/auth/password/reset", {"token": token, "password": "Nueva#Clave456",
                                                  "otp_code": totp_now(secret)})
    assert_error(burnt, 400, "token_invalido")
    assert len(seen) == 5


# ---------------------------------------------------------------- failure-only rate limits

def _user_failure_counts(usuario_id: int) -> list[int]:
    """The stored counts of the limits keyed by this user in the current request."""
    return [limiter.storage.get(charged.key) for charged in limiter.current_limits
            if f"u:{usuario_id}" in charged.key]


def test_a_failure_only_limit_is_charged_before_the_view_answers(client, make_usuario, login, monkeypatch):
    usuario = make_usuario(email="ana@example.com")
    headers = bearer(login("ana@example.com").get_json()["access_token"])
    during = []

    def verify(user, code):
        during.append(_user_failure_counts(usuario.id))
        return {"valid": True}

    monkeypatch.setattr(account, "verify_password_code", verify)

    def verify_code():
        return post(client, "/account/password/verify-code", {"code": "123456"}, headers=headers)

    assert verify_code().status_code == 200
    assert during == [[1]]  # counted while the answer was being worked out
    # ...and given back once it turned out a success: the next request starts from zero again.
    assert verify_code().status_code == 200
    assert during[-1] == [1]


def test_failures_keep_their_charge_and_other_answers_give_it_back(client, make_usuario, login, mailbox,
                                                                   monkeypatch):
    usuario = make_usuario(email="ana@example.com")
    headers = bearer(login("ana@example.com").get_json()["access_token"])
    post(client, "/account/password/request-code", headers=headers)
    counts = []
    original = account.verify_password_code

    def verify(user, code):
        counts.append(_user_failure_counts(usuario.id)[0])
        return original(user, code)

    monkeypatch.setattr(account, "verify_password_code", verify)
    for _ in range(3):  # three wrong codes: three failures kept
        post(client, "/account/password/verify-code", {"code": "000000x"}, headers=headers)
    post(client, "/account/password/verify-code", {"code": ""}, headers=headers)  # 422: not a guess
    post(client, "/account/password/verify-code", {"code": mailbox.code("ana@example.com")}, headers=headers)
    post(client, "/account/password/verify-code", {"code": "000000x"}, headers=headers)
    assert counts == [1, 2, 3, 4, 4]
