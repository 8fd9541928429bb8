#!/usr/bin/env bash
# Install what the tests need (Chromium included) and run lint, types and the whole suite.
set -euo pipefail
source "$(dirname "$0")/setup.sh" test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
