#!/usr/bin/env bash
# A Docker engine for the images, kit and compose tiers — without surprising the host. In order:
#   1. an engine that answers `docker info` is used as it is, if it is new enough (minimums below);
#   2. else the distribution's own archive, where it has a usable engine: Debian 13 (trixie)
#      docker.io + docker-buildx + docker-compose; Ubuntu 24.04+ docker.io + docker-buildx +
#      docker-compose-v2 — started with systemd when systemd runs, else in the background;
#   3. Debian 12 (bookworm) has no usable engine (its docker.io 20.10 lacks `--build-context`):
#      installing trixie's engine upgrades libc6, systemd, apt, python3 … to Debian 13, so it is done
#      only when the caller opts in with SNIPCHECK_ALLOW_MIXED_RELEASES=1 (.ci/run does: its machine is
#      disposable), after printing what would be upgraded. Otherwise it stops with the options.
# Minimums, and why: Engine >= 23.0 (BuildKit as the default builder, `--build-context` with
# docker-image:// sources, RUN --mount=type=secret|cache); buildx >= 0.10 (`--build-context`);
# compose >= 2.24 (`!override` in the tests' override files, `up --wait --wait-timeout`).
# Never stops or reconfigures a service it did not start. Idempotent.
set -euo pipefail

MIN_ENGINE=23.0
MIN_BUILDX=0.10
MIN_COMPOSE=2.24
OPT_IN=${SNIPCHECK_ALLOW_MIXED_RELEASES:-0}

log() { printf '[docker-engine] %s\n' "$*"; }
# version_ge A B: is version A >= B (numeric, dotted)?
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else log "needs root for: $* — run as root, or install sudo"; return 1
  fi
}

check_versions() { # prints problems; returns 1 when something is too old
  local engine buildx compose ok=0
  engine=$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo 0)
  buildx=$(docker buildx version 2>/dev/null | awk '{print $2}' | sed 's/^v//; s/[-+].*//' || true)
  compose=$(docker compose version --short 2>/dev/null | sed 's/^v//; s/[-+].*//' || true)
  version_ge "${engine%%[-+]*}" "$MIN_ENGINE" || { log "engine $engine is older than $MIN_ENGINE"; ok=1; }
  version_ge "${buildx:-0}" "$MIN_BUILDX" || { log "buildx ${buildx:-missing} is older than $MIN_BUILDX"; ok=1; }
  version_ge "${compose:-0}" "$MIN_COMPOSE" || { log "compose ${compose:-missing} is older than $MIN_COMPOSE"; ok=1; }
  [ "$ok" -eq 0 ] && log "engine $engine, buildx $buildx, compose $compose"
  return "$ok"
}

start_engine() {
  # a dockerd that is still shutting down (or starting) is waited for; a new one starts once none runs
  local started=""
  for _ in $(seq 1 90); do
    docker info >/dev/null 2>&1 && return 0
    if [ -z "$started" ] && ! pgrep -x dockerd >/dev/null; then
      if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        if [ "$(systemctl is-enabled docker 2>/dev/null)" = masked ]; then
          log "docker.service is masked on this machine (someone blocked it on purpose): not starting it;"
          log "unmask it (systemctl unmask docker) or start an engine yourself, then re-run"
          return 1
        fi
        log "starting docker with systemd (not enabled at boot by this script)"
        as_root systemctl start docker
      else
        log "starting dockerd in the background (log: /var/log/dockerd.log); it runs until the machine stops"
        as_root sh -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
      fi
      started=1
    fi
    sleep 1
  done
  log "dockerd did not answer within 90 s; last lines of /var/log/dockerd.log:"
  as_root tail -n 20 /var/log/dockerd.log || true
  return 1
}

# shellcheck source-path=SCRIPTDIR source=lib/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
apt_install() {
  apt_get update -qq
  log "installing $* from $PRETTY_NAME's own archive"
  apt_get install -y -qq --no-install-recommends "$@" >/dev/null
}

options() {
  cat >&2 <<EOF
[docker-engine] No usable Docker engine, and $PRETTY_NAME's archive has none (need engine >= $MIN_ENGINE,
buildx >= $MIN_BUILDX, compose >= $MIN_COMPOSE). The inventory and static tiers run without it:
    bash scripts/test.sh -m "inventory or static"
To run the Docker tiers, pick one:
  - install Docker Engine with the buildx and compose plugins from Docker's own apt repository
    (docs.docker.com/engine/install/debian), then re-run;
  - run the suite on Debian 13 or Ubuntu 24.04 (their archives have a usable engine);
  - on a disposable machine only: SNIPCHECK_ALLOW_MIXED_RELEASES=1 bash scripts/test.sh
    installs Debian 13's engine here and UPGRADES libc6, systemd, apt, python3 … to Debian 13.
EOF
  exit 1
}

# 1. a working engine ---------------------------------------------------------------------------
if docker info >/dev/null 2>&1; then
  check_versions && exit 0
  log "the running engine is too old for the suite (see the minimums above); not touching it"
  exit 1
fi

# 2./3. install from the distribution -----------------------------------------------------------
# shellcheck source=/dev/null
. "${SNIPCHECK_OS_RELEASE:-/etc/os-release}"  # overridable for the script's own test
ID=${ID:-unknown}; VERSION_ID=${VERSION_ID:-0}; PRETTY_NAME=${PRETTY_NAME:-$ID}
if command -v dockerd >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1 \
    && docker compose version >/dev/null 2>&1; then
  log "engine installed but not running"
elif [ "$ID" = debian ] && version_ge "$VERSION_ID" 13; then
  apt_install docker.io docker-buildx docker-compose
elif [ "$ID" = ubuntu ] && version_ge "$VERSION_ID" 24.04; then
  apt_install docker.io docker-buildx docker-compose-v2
elif [ "$ID" = debian ] && [ "$VERSION_ID" = 12 ]; then
  [ "$OPT_IN" = 1 ] || options
  log "SNIPCHECK_ALLOW_MIXED_RELEASES=1: installing Debian 13 (trixie)'s engine on Debian 12"
  if ! grep -rqs '^deb .* trixie main' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo 'deb http://deb.debian.org/debian trixie main' | as_root tee /etc/apt/sources.list.d/snipcheck-trixie.list >/dev/null
  fi
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' | as_root tee /etc/apt/preferences.d/snipcheck-trixie-pin >/dev/null
  apt_get update -qq
  # python3 goes to 3.13 with the engine; venv's ensurepip takes pip from python3-pip-whl, and Debian
  # 12's (pip 23.0.1) does not run on 3.13 ("python3 -m venv" fails): those wheels go to 13 with it
  python_wheels=()
  for pkg in python3-pip-whl python3-setuptools-whl; do
    if dpkg -s "$pkg" >/dev/null 2>&1; then python_wheels+=("$pkg"); fi
  done
  log "these Debian 12 packages will be upgraded to Debian 13 (apt-get -s):"
  apt_get install -s -t trixie docker.io docker-buildx docker-compose containerd runc/bookworm "${python_wheels[@]}" \
    | awk '/^Inst / && /\[/ {print "    " $2 " " $3 " -> " $4}' | tr -d '[]()' | sort | head -n 80 || true
  apt_get install -y -qq -t trixie \
    docker.io docker-buildx docker-compose containerd runc/bookworm "${python_wheels[@]}" >/dev/null
else
  options
fi

start_engine
check_versions
