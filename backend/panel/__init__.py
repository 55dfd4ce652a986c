"""The staff panel (Flask-Admin 2 at `/panel`) for `admin` and `soporte` staff: its own
sign-in (`auth`, over identity.panel_session), who may see what (`base`), what every model
screen shares (`screens`: the service-backed model view, buttons, refusals; `filters`;
`lookups`, the rows a list names; `labels`, the Spanish names of values), the dashboard
(`dashboard`, `metrics`) and the assembly (`setup`). Each domain contributes its screens
(`<domain>/panel.py`, or the `soporte/panel/` package) and imports what it needs from here;
nothing here imports a domain's panel. The app factory assembles them."""
