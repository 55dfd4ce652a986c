#!/usr/bin/env bash
# Installs the test dependencies into .venv and runs the whole suite.
# On SQLite by default; set DATABASE_URL (mysql+pymysql://...) to run it on MySQL/MariaDB.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
[ -d .venv ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements-dev.txt
exec .venv/bin/python -m pytest "$@"
