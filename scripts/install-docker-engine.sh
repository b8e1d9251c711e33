#!/usr/bin/env bash
# Installs and starts a Docker engine on Debian bookworm (DESIGN.md §5):
# trixie's docker.io 26.1 + buildx + compose, pinned at priority 100 so that
# nothing else is pulled from trixie. Idempotent: does nothing when `docker info` answers.
set -euo pipefail

log() { printf '[docker-engine] %s\n' "$*"; }

if docker info >/dev/null 2>&1; then
  log "engine already answering: $(docker version --format '{{.Server.Version}}')"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  log "needs root to install and start dockerd (run with sudo)"; exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! docker buildx version >/dev/null 2>&1 || ! docker compose version >/dev/null 2>&1; then
  if [ -r /etc/os-release ] && . /etc/os-release && [ "${VERSION_CODENAME:-}" = bookworm ]; then
    log "adding the trixie suite with an apt pin of priority 100"
    if [ ! -f /etc/apt/sources.list.d/trixie.list ]; then
      echo 'deb http://deb.debian.org/debian trixie main' > /etc/apt/sources.list.d/trixie.list
    fi
    cat > /etc/apt/preferences.d/trixie-pin <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
    apt-get update -qq
    log "installing docker.io docker-buildx docker-compose containerd from trixie"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie \
      docker.io docker-buildx docker-compose containerd runc/bookworm >/dev/null
  else
    log "not Debian bookworm: install Docker Engine with buildx and compose plugins from your distribution, then re-run"
    exit 1
  fi
fi

if ! pgrep -x dockerd >/dev/null; then
  log "starting dockerd in the background (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
fi
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "engine up: server $(docker version --format '{{.Server.Version}}'), buildx $(docker buildx version | awk '{print $2}'), compose $(docker compose version --short)"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within 60 s; last lines of /var/log/dockerd.log:"
tail -n 20 /var/log/dockerd.log || true
exit 1
