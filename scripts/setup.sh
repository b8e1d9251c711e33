#!/usr/bin/env bash
# Sets up what the selected test tiers need, and nothing more. Idempotent: each step checks first
# and says what it does.
#   bash scripts/setup.sh --site                     # Python venv only (enough for `mkdocs serve`)
#   bash scripts/setup.sh --tiers "inventory static" # what those tiers need
#   bash scripts/setup.sh                            # every tier
# Tiers and what they need (root only where a Debian package or the Docker engine is installed):
#   inventory                 the venv
#   static                    + Go (provisioned into build/tools/go when absent), Go-built linters,
#                               PostgreSQL server binaries (SQL parse check; package `postgresql`)
#   service                   + PostgreSQL and Redis server binaries (the tests run their own
#                               instances on free ports; services Debian starts are left alone)
#   kit, images, compose      + a Docker engine (scripts/install-docker-engine.sh) and the base images
#   site                      + Debian's chromium (Playwright drives it; no browser download) and the
#                               pinned mermaid the browser gets (scripts/fetch-mermaid.sh, npm)
#   cluster                   + etcd and kube-apiserver/kubectl built from Go modules (scripts/install-kube.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ALL_TIERS="inventory static service kit images compose site cluster"
TIERS=$ALL_TIERS
case "${1:-}" in
  --site) TIERS="" ;;
  --tiers) TIERS=${2:?--tiers needs a list}; ;;
  "") ;;
  *) echo "usage: setup.sh [--site | --tiers \"TIER ...\"]" >&2; exit 2 ;;
esac
wants() { case " $TIERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
wants_any() { for t in "$@"; do wants "$t" && return 0; done; return 1; }

# each line says how long this setup.sh has run (bash's SECONDS; test.sh runs it twice: --site, then the
# tiers): a slow step shows in CI's log
log() { printf '[setup +%ss] %s\n' "$SECONDS" "$*"; }
can_root() { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1; }
# shellcheck source-path=SCRIPTDIR source=lib/apt.sh
. scripts/lib/apt.sh

apt_updated=""
apt_install() { # apt_install WHY PKG... — Debian packages of the host's own release only
  local why=$1 missing=()
  shift
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! can_root; then
    log "missing Debian packages for $why: ${missing[*]} — as root: apt-get install ${missing[*]} (the tiers that need them skip until then)"
    return 0
  fi
  if [ -z "$apt_updated" ]; then log "apt-get update"; apt_get update -qq; apt_updated=1; fi
  log "installing Debian packages for $why: ${missing[*]}"
  apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# 1. Python virtualenv with the pinned requirements (no root) -----------------------------------
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  log "Python >= 3.11 is required (found: $("$PY" --version 2>&1))"; exit 1
fi
# The venv's python is a link to the machine's python3 and its packages sit in that version's
# site-packages. When the system's python3 changes under it — Debian 13's engine on Debian 12 (step 4,
# the opt-in) upgrades python3 3.11 -> 3.13 — the venv no longer runs (pytest: "No module named
# '_pytest'"): it is made again with the python3 there is now. Called again after step 4.
venv_version() { sed -n 's/^version\(_info\)\{0,1\} *= *//p' .venv/pyvenv.cfg 2>/dev/null | head -1; }
ensure_venv() {
  if [ -x .venv/bin/python ]; then
    local made now
    made=$(venv_version)
    now=$(.venv/bin/python -c 'import platform; print(platform.python_version())' 2>/dev/null || echo "none")
    if [ "$now" != "$made" ]; then
      log ".venv was made with Python ${made:-?}, its python is now $now (the machine's python3 changed): making it again"
      rm -rf --one-file-system .venv
    fi
  fi
  if [ ! -x .venv/bin/python ]; then
    # venv's ensurepip is Debian's python3.X-venv for the python3 there is now (after Debian 13's
    # engine on Debian 12, python3.13-venv: Debian 12's python3-venv stays installed but is 3.11's)
    local venv_pkg
    venv_pkg="python$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv"
    "$PY" -m venv .venv 2>/dev/null || { rm -rf --one-file-system .venv; apt_install "the venv" "$venv_pkg"; "$PY" -m venv .venv; }
    log "created .venv (Python $(venv_version))"
  fi
  local stamp=.venv/.requirements.sha256 want
  want=$(sha256sum requirements.txt | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing pinned Python requirements into .venv"
    .venv/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements.txt
    echo "$want" > "$stamp"
  else
    log "Python requirements already installed"
  fi
}
ensure_venv
[ -z "$TIERS" ] && { log "site dependencies ready"; exit 0; }
log "preparing tiers: $TIERS"

# The Kubernetes binaries of the cluster tier (scripts/install-kube.sh). With SNIPCHECK_KUBE_BACKGROUND=1
# (scripts/test.sh sets it) and other tiers to run, a cold build (minutes of both cores) starts as
# soon as Go is there and runs in the background beside the rest of the setup (downloads and apt leave
# the CPU idle) and the other tiers; tests/cluster waits for it (snipcheck.harness.kube.controlplane) and scripts/test.sh
# stops it if the run ends first. Its output: build/install-kube.log. Its apt steps (etcd, CNI plugins,
# busybox) wait for the setup's own (scripts/lib/apt.sh holds one lock for both).
kube_started=""
start_kube_build_in_background() {
  wants cluster && [ -f scripts/install-kube.sh ] || return 0
  rm -f build/install-kube.pid build/install-kube.status
  [ "${SNIPCHECK_KUBE_BACKGROUND:-0}" = 1 ] && [ "$TIERS" != cluster ] || return 0
  kube_started=1
  if bash scripts/install-kube.sh --cached; then
    bash scripts/install-kube.sh
    return 0
  fi
  mkdir -p build
  log "Kubernetes binaries not cached: building them in the background while the setup and the other tiers run (log: build/install-kube.log)"
  # its own session and process group (test.sh stops it: scripts/snipcheck/harness/background.py). The group
  # leader records itself (boot id, pid, start time) before it starts anything, in case setsid had to
  # fork; without a record nothing could stop it, so it does not build then.
  # shellcheck disable=SC2016  # $0 and $$ are the inner shell's
  setsid bash -c '"$0" scripts/snipcheck/harness/background.py write build/install-kube.pid $$ \
      || { echo "no record of the background build: not building in the background" >build/install-kube.log
        echo 1 >build/install-kube.status; exit 1; }
    bash scripts/install-kube.sh >build/install-kube.log 2>&1; echo $? >build/install-kube.status' "$PY" \
    </dev/null >/dev/null 2>&1 &
  for _ in $(seq 50); do [ -f build/install-kube.pid ] || [ -f build/install-kube.status ] && break; sleep 0.1; done
  [ -f build/install-kube.pid ] || log "the background build did not record itself in 5 s (build/install-kube.log)"
}

# 2. Go and the Go-built tools (no root) ----------------------------------------------------------
if wants_any static service kit images compose cluster; then
  GO_BIN=$(bash scripts/install-go.sh)
  export PATH=$GO_BIN:$PATH
  echo "$GO_BIN" > build/.go-bin 2>/dev/null || { mkdir -p build; echo "$GO_BIN" > build/.go-bin; }
  start_kube_build_in_background
  wants static && bash scripts/install-tools.sh
fi

# 3. Debian packages, per tier -------------------------------------------------------------------
wants static && apt_install "the static tier (SQL parse check)" postgresql
wants service && apt_install "the service tier" postgresql redis-server
# gnupg: tests/kit/test_debian.py makes a foreign keyring to show that the rootfs build refuses it
wants_any kit images compose && apt_install "the Docker tiers" debootstrap debian-archive-keyring ca-certificates curl file binutils gnupg
if wants site; then
  [ -n "${SNIPCHECK_CHROMIUM:-}" ] || apt_install "the browser tier" chromium
  bash scripts/fetch-mermaid.sh
fi

# 4. Docker engine and base images --------------------------------------------------------------
# The cluster tier's node (SNIPCHECK_NODE=1) runs the chapter's image and example 2's PostgreSQL and Redis.
if wants_any kit images compose || { wants cluster && [ "${SNIPCHECK_NODE:-0}" = 1 ]; }; then
  bash scripts/install-docker-engine.sh
  ensure_venv # the engine's install may have changed the system's python3 (see step 1)
  log "ensuring base images (SNIPCHECK_IMAGES=${SNIPCHECK_IMAGES:-auto})"
  PYTHONPATH=$ROOT/scripts .venv/bin/python -m snipcheck kit ensure-all
  mkdir -p build
  PYTHONPATH=$ROOT/scripts .venv/bin/python -m snipcheck kit table > build/imagekit.md
  log "fidelity table of the base images: build/imagekit.md"
fi

# 5. Kubernetes API server for the cluster tier (started in step 2 when it builds in the background) --
if wants cluster && [ -z "$kube_started" ]; then
  bash scripts/install-kube.sh
fi
log "setup complete for: $TIERS"
