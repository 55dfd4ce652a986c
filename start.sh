#!/usr/bin/env bash
# Quick start for Linux/macOS: venv, dependencies, database, seed data, the countries and cities
# catalogue (built once, progress shown), development server.
# Embedded default: SQLite under instance/, eager Celery, local uploads, mail to instance/outbox/.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
[ -d .venv ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt
export FLASK_APP=wsgi
.venv/bin/flask db upgrade
.venv/bin/flask seed
.venv/bin/flask location build --if-missing
exec .venv/bin/flask run --host "${HOST:-127.0.0.1}" --port "${PORT:-5222}"
