# Quick start for Windows (PowerShell): venv, dependencies, database, seed data, the countries
# and cities catalogue (built once, progress shown), dev server.
# Embedded default: SQLite under instance\, eager Celery, local uploads, mail to instance\outbox\.
$ErrorActionPreference = "Stop"
Set-Location $PSScriptRoot
if (-not (Test-Path .venv)) { python -m venv .venv }
.\.venv\Scripts\python.exe -m pip install --quiet --upgrade pip
.\.venv\Scripts\python.exe -m pip install --quiet -r requirements.txt
$env:FLASK_APP = "wsgi"
.\.venv\Scripts\flask.exe db upgrade
.\.venv\Scripts\flask.exe seed
.\.venv\Scripts\flask.exe location build --if-missing
$port = if ($env:PORT) { $env:PORT } else { "5222" }
.\.venv\Scripts\flask.exe run --host 127.0.0.1 --port $port
