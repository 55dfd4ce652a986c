"""Signing in to the staff panel through its real forms (with their CSRF tokens), as a
browser would, and reading tokens out of any panel page."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def page_token(client, url: str) -> str:
    """GET `url` with `client` (following redirects) and return its form's CSRF token."""
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 200, (url, response.status_code)
    return csrf_token(response.get_data(as_text=True))


def submit(client, url: str, data: dict, **kwargs):
    """Fill the form at `url` as a browser would: its CSRF token, then POST."""
    return client.post(url, data={**data, "csrf_token": page_token(client, url)}, **kwargs)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def count_rows(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def fresh(db, model, ident):
    """The row as the database has it now (nothing cached in the session)."""
    db.session.expire_all()
    return db.session.get(model, ident)


@pytest.fixture
def panel_login(app):
    """`panel_login(usuario, password=PASSWORD)` → a test client signed in to the panel
    (2FA users are not handled here: see tests/panel/test_auth.py)."""

    def login(usuario, password: str = PASSWORD):
        client = app.test_client()
        token = page_token(client, "/panel/login")
        response = client.post("/panel/login", data={"email": usuario.email, "password": password,
                                                     "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return login


@pytest.fixture
def admin_panel(admin, panel_login):
    return panel_login(admin)


@pytest.fixture
def soporte_panel(soporte_user, panel_login):
    return panel_login(soporte_user)
