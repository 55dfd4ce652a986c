"""What every panel screen gets from backend/panel/base.py besides access: the script that
restores Flask-Admin's delete confirmations under the panel's Content-Security-Policy."""
from __future__ import annotations

import re


def test_list_pages_load_the_confirmation_script_with_the_nonce(admin_panel):
    page = admin_panel.get("/panel/soporte-tipos/")
    assert page.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)
    html = page.get_data(as_text=True)
    assert f'<script nonce="{nonce}" src="/static/panel/confirm.js"' in html
    script = admin_panel.get("/static/panel/confirm.js")
    assert script.status_code == 200 and script.mimetype in ("text/javascript",
                                                             "application/javascript")
    assert "window.confirm" in script.get_data(as_text=True)
