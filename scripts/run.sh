#!/usr/bin/env bash
# Install what Atende needs (first time only) and start it on http://127.0.0.1:8080/
set -euo pipefail
source "$(dirname "$0")/setup.sh"
exec .venv/bin/python -m web --config config.toml serve "$@"
