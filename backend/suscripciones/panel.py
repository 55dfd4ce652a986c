"""The staff panel's screens of this domain (backend.panel builds on them)."""
from __future__ import annotations

from flask_admin import BaseView


def views() -> list[BaseView]:
    """This domain's panel screens, in menu order."""
    return []
