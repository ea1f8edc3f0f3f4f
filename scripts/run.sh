#!/usr/bin/env bash
# Install the project into .venv, compile catalogs and start the bot (settings from env/.env;
# `--demo`: the whole bot on this machine against the fakes, with a chat page, no .env).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
.venv/bin/pybabel compile --domain messages --directory locales --statistics
exec .venv/bin/python -m bot "$@"
