#!/usr/bin/env bash
# Sets up everything the site and the test suite need on a fresh Debian/Ubuntu machine.
# Idempotent: each step checks first and says what it does.
#   bash scripts/setup.sh --site   # Python venv only (enough for `mkdocs serve`)
#   bash scripts/setup.sh          # everything: venv, Debian packages, Go tools, Docker engine, base images
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=${1:-all}

log() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then log "apt-get update"; as_root apt-get update -qq; apt_updated=1; fi
  log "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# 1. Python virtualenv with the pinned requirements -------------------------------------------
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  log "Python >= 3.11 is required (found: $("$PY" --version 2>&1))"; exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv 2>/dev/null || { apt_install python3-venv; "$PY" -m venv .venv; }
  log "created .venv"
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing pinned Python requirements into .venv"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
else
  log "Python requirements already installed"
fi
[ "$MODE" = "--site" ] && { log "site dependencies ready"; exit 0; }

# 2. Debian packages the suite uses -------------------------------------------------------------
# postgresql + redis-server: the Go service's integration tests; debootstrap: the base-image kit.
apt_install postgresql redis-server debootstrap ca-certificates curl file binutils
# Debian starts these services on install; the tests run their own instances on ephemeral ports.
for svc in redis-server postgresql; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    as_root systemctl stop "$svc" || true
  fi
done

# 3. Go and the Go-installed tools ----------------------------------------------------------------
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH=/usr/local/go/bin:$PATH; fi
command -v go >/dev/null 2>&1 || { log "Go >= 1.26 is required on PATH (https://go.dev/dl/)"; exit 1; }
bash scripts/install-tools.sh

# 4. Docker engine -------------------------------------------------------------------------------
as_root bash scripts/install-docker-engine.sh

# 5. Base images (registry when it answers, else the local kit; SNIPCHECK_IMAGES overrides) -------
log "ensuring base images (SNIPCHECK_IMAGES=${SNIPCHECK_IMAGES:-auto})"
PYTHONPATH=$ROOT/scripts .venv/bin/python -m snipcheck.imagekit ensure-all
mkdir -p build
PYTHONPATH=$ROOT/scripts .venv/bin/python -m snipcheck.imagekit table > build/imagekit.md
log "fidelity table of the base images: build/imagekit.md"
log "setup complete"
