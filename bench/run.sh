#!/usr/bin/env bash
# Run the benchmarks (bench/README.md): bash bench/run.sh [--quick] [python -m bench options]
# Installs what they need when missing: the project's virtual environment, Janus and a C
# compiler (Debian packages; Janus runs with a loopback shim built here), py-spy (profiles).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

need_apt=()
command -v janus >/dev/null 2>&1 || need_apt+=(janus)
command -v cc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt_install "${need_apt[@]}" -- janus  # the benchmark runs its own Janus, on 127.0.0.1
fi
[ -x .venv/bin/py-spy ] || .venv/bin/python -m pip install -q py-spy \
  || echo "py-spy could not be installed: the relay will not be profiled"

export BENCH_COMMAND="bash bench/run.sh${*:+ $*}"
exec .venv/bin/python -m bench "$@"
