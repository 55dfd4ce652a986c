"""The staff panel (Flask-Admin 2 at `/panel`) for `admin` and `soporte` staff: its own
sign-in (identity.panel_session), base views that change data only through the domains'
services, and the dashboard. Each domain contributes its screens (`<domain>/panel.py`); the
app factory assembles them."""
