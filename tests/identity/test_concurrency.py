"""Sign-in caps on MariaDB (the run with DATABASE_URL=mysql...): per-account limits count per
account whatever the spelling the `utf8mb4_unicode_ci` collation takes for its email, and caps
hold under simultaneous requests (attempts counted before a code is compared, failure-only
limits charged before the answer, the unique email index of two simultaneous registrations).

Real threads, each with its own test client (so each request has its own app context, session
and connection), released together by a barrier and joined with a timeout. SQLite compares
emails byte for byte and shares one in-memory connection between threads, so these tests are
only defined (not skipped) when DATABASE_URL names MySQL/MariaDB; the one-request-at-a-time
versions run everywhere (test_attempts.py, test_throttle.py, test_registro.py).
"""
from __future__ import annotations

import os
import threading
import time
from types import SimpleNamespace

from sqlalchemy import func, select

from backend.core.database import comparison_key
from backend.identity.models import CodigoEmail, PropositoCodigo, SesionAuth, Usuario
from backend.identity.services import email_codes, registration
from tests.concurrency import JOIN_TIMEOUT, run_concurrently, statuses
from tests.conftest import PASSWORD, assert_error, assert_throttled
from tests.identity.conftest import bearer, post

MYSQL = os.environ.get("DATABASE_URL", "").startswith("mysql")
WRONG = "Otra#Clave999"

if MYSQL:

    # ------------------------------------------------------------ one budget per account

    def test_the_database_finds_one_account_for_accented_spellings(db, make_usuario):
        usuario = make_usuario(email="victim@example.com")
        for spelling in ("víctim@example.com", "VÍCTIM@example.com", "victím@exámple.com"):
            assert db.session.scalar(select(Usuario.id).where(Usuario.email == spelling)) == usuario.id
            assert comparison_key(Usuario.email, spelling) == comparison_key(Usuario.email,
                                                                             "victim@example.com")
        assert comparison_key(Usuario.email, "victor@example.com") != comparison_key(
            Usuario.email, "victim@example.com")

    def test_an_accented_spelling_gets_no_fresh_allowance_of_wrong_passwords(db, make_usuario, login):
        make_usuario(email="victim@example.com")
        for _ in range(10):
            assert_error(login("victim@example.com", WRONG, ip="10.1.0.1"), 401, "credenciales_invalidas")
        assert_throttled(login("víctim@example.com", WRONG, ip="10.1.0.1"))
        assert_throttled(login("VÍCTIM@example.com", PASSWORD, ip="10.1.0.1"))
        # The owner, elsewhere, still signs in (the limit is per account and address).
        assert login("victim@example.com", ip="10.1.0.2").status_code == 200

    def test_the_account_wide_cap_counts_every_spelling(app, db, make_usuario, login, monkeypatch):
        monkeypatch.setitem(app.config, "AUTH_RATE_ACCOUNT_FAILURES", "6/hour")
        make_usuario(email="victim@example.com")
        spellings = ["victim@example.com", "víctim@example.com", "vìctim@example.com"]
        for n in range(6):
            assert_error(login(spellings[n % 3], WRONG, ip=f"10.2.0.{n}"), 401)
        assert_throttled(login("vîctim@example.com", PASSWORD, ip="10.2.1.1"))

    def test_an_accented_spelling_gets_no_fresh_allowance_of_reset_mails(client, make_usuario, mailbox):
        make_usuario(email="victim@example.com")
        for n in range(5):
            assert post(client, "/auth/password/forgot", {"email": "victim@example.com"},
                        ip=f"10.3.0.{n}").status_code == 202
        assert_throttled(post(client, "/auth/password/forgot", {"email": "víctim@example.com"},
                              ip="10.3.1.1"))
        assert len(mailbox.to("victim@example.com")) == 5

    def test_unknown_emails_are_folded_and_counted_like_real_ones(make_usuario, login, client):
        """Else an accented spelling that got a fresh allowance would tell an unknown address
        from an account."""
        for _ in range(10):
            assert_error(login("nadie@example.com", WRONG, ip="10.4.0.1"), 401)
        ghost = login("nádie@example.com", WRONG, ip="10.4.0.1")
        assert_throttled(ghost)
        for n in range(5):
            post(client, "/auth/password/forgot", {"email": "nadie@example.com"}, ip=f"10.4.1.{n}")
        assert_throttled(post(client, "/auth/password/forgot", {"email": "nádie@example.com"},
                              ip="10.4.2.1"))

    # ------------------------------------------------------------ simultaneous requests

    def test_forty_simultaneous_guesses_at_one_emailed_code_compare_at_most_five(
            app, client, db, make_usuario, login, mailbox, monkeypatch):
        # Only the attempt cap is under test: the rate limits would stop the guesses earlier.
        monkeypatch.setitem(app.config, "AUTH_RATE_CODE_FAILURES", "1000/minute")
        monkeypatch.setitem(app.config, "AUTH_RATE_IP", "1000/minute")
        usuario = make_usuario(email="ana@example.com")
        headers = bearer(login("ana@example.com").get_json()["access_token"])
        assert post(client, "/account/password/request-code", headers=headers).status_code == 202
        code = mailbox.code("ana@example.com")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        compared = []
        lock = threading.Lock()

        def compare_digest(a, b):
            with lock:
                compared.append(1)
            time.sleep(0.01)  # a comparison that takes a moment widens any race
            return a == b

        monkeypatch.setattr(email_codes, "hmac", SimpleNamespace(compare_digest=compare_digest))

        def guess(c):
            return c.post("/account/password/verify-code", json={"code": wrong}, headers=headers)

        responses = run_concurrently(app, [guess] * 40)
        for response in responses:
            assert_error(response, 400, "codigo_invalido")
        assert len(compared) <= 5, len(compared)
        db.session.rollback()  # a fresh snapshot, taken after the threads
        row = db.session.scalar(select(CodigoEmail).where(
            CodigoEmail.usuario_id == usuario.id, CodigoEmail.proposito == PropositoCodigo.CAMBIO_PASSWORD))
        assert row.intentos == 5 and row.used_at is not None
        assert_error(post(client, "/account/password/verify-code", {"code": code}, headers=headers), 400)

    def test_twenty_simultaneous_wrong_totp_codes_from_one_ip_are_cut_at_the_limit(
            app, db, otp_user, login, monkeypatch):
        monkeypatch.setitem(app.config, "AUTH_RATE_IP", "1000/minute")  # only the failure limit
        otp_user(email="ana@example.com")
        tokens = [login("ana@example.com", ip="10.6.0.2").get_json()["challenge_token"] for _ in range(4)]

        def answer(token):
            def call(c):
                return c.post("/auth/login/otp", json={"challenge_token": token, "otp_code": "000000"},
                              environ_base={"REMOTE_ADDR": "10.6.0.1"})
            return call

        responses = run_concurrently(app, [answer(tokens[n % 4]) for n in range(20)])
        assert statuses(responses) == [401] * 10 + [429] * 10, statuses(responses)
        for response in responses:
            if response.status_code == 429:
                assert_throttled(response)

    def test_two_simultaneous_registrations_of_one_email(app, db, mailbox, monkeypatch):
        both_checked = threading.Barrier(2, timeout=JOIN_TIMEOUT)
        check = registration.ensure_email_free

        def checked_together(email):
            check(email)
            both_checked.wait()  # both pass the check before either inserts

        monkeypatch.setattr(registration, "ensure_email_free", checked_together)

        def register(nombre):
            def call(c):
                return c.post("/auth/registro", json={"nombre": nombre, "email": "ana@example.com",
                                                      "password": PASSWORD})
            return call

        responses = run_concurrently(app, [register("Ana"), register("Otra Ana")])
        assert statuses(responses) == [201, 409]
        [loser] = [r for r in responses if r.status_code == 409]
        assert assert_error(loser, 409, "email_en_uso")["details"] == {"email": ["Ya está registrado."]}
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Usuario)) == 1
        assert len(mailbox.to("ana@example.com")) == 1

    # ------------------------------------------------------------ one account, many sign-ins

    def test_simultaneous_sign_ins_of_one_account_all_succeed(app, db, make_usuario):
        """Each sign-in adds session and log rows (shared locks on the account's row) and then
        updates the account (last_login_at): without locking the row first, two of them
        deadlocked and one answered 500."""
        usuario = make_usuario(email="busy@example.com")

        def sign_in(n: int):
            return lambda client: post(client, "/auth/login",
                                       {"email": "busy@example.com", "password": PASSWORD},
                                       ip=f"10.9.0.{n}")  # one per address: no per-IP limit

        responses = run_concurrently(app, [sign_in(n) for n in range(12)])
        assert statuses(responses) == [200] * 12, [r.get_json() for r in responses]
        db.session.expire_all()
        sessions = db.session.scalar(select(func.count()).select_from(SesionAuth)
                                     .where(SesionAuth.usuario_id == usuario.id))
        assert sessions == 12
