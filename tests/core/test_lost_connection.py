"""A connection that dies during a request (the database restarted, a proxy dropped it): the
answer already made stands, the dead connection is thrown away, and the next request gets a
new one. MariaDB only (the connection is killed with KILL): defined, never skipped, when
DATABASE_URL names MySQL/MariaDB."""
from __future__ import annotations

import os

from sqlalchemy import create_engine, text

from backend import create_app
from backend.extensions import db
from tests.conftest import make_config

MYSQL = os.environ.get("DATABASE_URL", "").startswith("mysql")

if MYSQL:

    def test_a_connection_killed_mid_request_is_discarded_not_a_500(app):
        killed = create_app(make_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]))
        killer = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])

        @killed.get("/test/killed-mid-request")
        def killed_mid_request():
            own_id = db.session.scalar(text("SELECT CONNECTION_ID()"))  # a transaction is open
            with killer.connect() as other:
                other.execute(text(f"KILL {int(own_id)}"))
            return {"connection": own_id}

        @killed.get("/test/connection")
        def connection():
            return {"connection": db.session.scalar(text("SELECT CONNECTION_ID()"))}

        client = killed.test_client()
        try:
            response = client.get("/test/killed-mid-request")  # the teardown's rollback fails
            assert response.status_code == 200
            dead = response.get_json()["connection"]
            after = client.get("/test/connection")
            assert after.status_code == 200 and after.get_json()["connection"] != dead
        finally:
            killer.dispose()
            with killed.app_context():
                db.engine.dispose()
