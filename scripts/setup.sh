# Shared by run.sh and test.sh: a virtual environment with the project installed.
# Usage: source scripts/setup.sh [extra]   (extra: "test" adds the test tools)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need_apt=()
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || {
  echo "Atende needs Python 3.11 or newer (python3 --version)." >&2; exit 1; }
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ "${1:-}" = "test" ] && ! command -v chromium >/dev/null 2>&1; then
  need_apt+=(chromium)
fi
# coturn: the TURN server the browser test relays through (tests/e2e/test_turn.py)
if [ "${1:-}" = "test" ] && ! command -v turnserver >/dev/null 2>&1; then
  need_apt+=(coturn)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "Installing system packages: ${need_apt[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
  if [[ " ${need_apt[*]} " == *" coturn "* ]] && command -v systemctl >/dev/null 2>&1; then
    # the test runs its own coturn on 127.0.0.1: leave no system TURN service listening on 3478
    $sudo_cmd systemctl disable --now coturn >/dev/null 2>&1 || true
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
extra=""
[ "${1:-}" = "test" ] && extra="[test]"
stamp=".venv/.installed${extra}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".${extra}"
  touch "$stamp"
fi
