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
# apt_install PACKAGE... [-- SERVICE...]: install Debian packages (as root, or with sudo), then
# stop and disable the named system services they start (our tests and benchmarks run their
# own, on 127.0.0.1 only). Also used by bench/run.sh.
apt_install() {
  local packages=() services=() sudo_cmd=""
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do packages+=("$1"); shift; done
  [ $# -gt 0 ] && shift && services=("$@")
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "Installing system packages: ${packages[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${packages[@]}" >/dev/null
  if [ ${#services[@]} -gt 0 ] && command -v systemctl >/dev/null 2>&1; then
    $sudo_cmd systemctl disable --now "${services[@]}" >/dev/null 2>&1 || true
  fi
}

if [ ${#need_apt[@]} -gt 0 ]; then
  apt_install "${need_apt[@]}" -- coturn  # no system TURN service listening on 3478
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
