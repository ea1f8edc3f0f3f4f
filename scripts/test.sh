#!/usr/bin/env bash
# Install the project with its test extras into .venv, compile catalogs, run ruff and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
.venv/bin/pybabel compile --domain messages --directory locales --statistics
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
