#!/usr/bin/env bash
# Installs the test dependencies into .venv and runs the whole suite.
# On SQLite by default; set DATABASE_URL (mysql+pymysql://...) to run it on MySQL/MariaDB.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
# The staff panel's browser test drives Debian's headless Chromium through chromedriver.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing chromium and chromium-driver (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "test.sh: install Debian's chromium and chromium-driver first (the panel's browser test needs them)" >&2
    exit 1
  fi
fi
[ -d .venv ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements-dev.txt
exec .venv/bin/python -m pytest "$@"
