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
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "Installing system packages: ${need_apt[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
  if command -v systemctl >/dev/null 2>&1; then
    # the benchmark runs its own Janus on 127.0.0.1: leave no system Janus listening
    $sudo_cmd systemctl disable --now janus >/dev/null 2>&1 || true
  fi
fi
[ -x .venv/bin/py-spy ] || .venv/bin/python -m pip install -q py-spy \
  || echo "py-spy could not be installed: the relay will not be profiled"

export BENCH_COMMAND="bash bench/run.sh${*:+ $*}"
exec .venv/bin/python -m bench "$@"
