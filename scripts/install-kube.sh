#!/usr/bin/env bash
# Installs the tools of the cluster tier (tests/cluster), pinned:
#   kube-apiserver, kube-controller-manager, kubectl
#                           -> built from k8s.io/kubernetes at the version that scripts/kube/go.mod
#                              requires (CGO_ENABLED=0, -trimpath), cached by version in a
#                              machine-wide directory, so a fresh clone (CI) reuses an earlier build:
#                              ${SNIPCHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/snipcheck}/kube/<version>/
#   etcd                    -> Debian 12 (bookworm) package etcd-server (3.4.x) with apt, when missing.
#   bash scripts/install-kube.sh --cached   # exit 0 when every binary is cached and etcd present, else 1
# Then links the binaries into build/tools/bin. Idempotent: a cached binary that reports the pinned
# version is reused. Prints each step and how long each build took; the cache directory keeps a
# BUILD-INFO file with the versions and build seconds.
# Cold cost (2 shared cores): ~12 min and ~3 GB of Go build cache for kube-apiserver, ~1 min each more
# for kube-controller-manager and kubectl; warm: a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODULE_DIR="$ROOT/scripts/kube"
TOOLS_BIN="${TOOLS_BIN:-$ROOT/build/tools/bin}"

log() { printf '[install-kube] %s\n' "$*"; }
die() { log "ERROR: $*"; exit 1; }

GO="$(command -v go || true)"
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
[ -n "$GO" ] || die "Go is not installed (need Go >= 1.25 at /usr/local/go or on PATH)"

# The one pin: `require k8s.io/kubernetes vX.Y.Z` in scripts/kube/go.mod.
KUBE_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$MODULE_DIR/go.mod")"
[[ "$KUBE_VERSION" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] \
  || die "scripts/kube/go.mod: no 'require k8s.io/kubernetes vX.Y.Z' line (found '$KUBE_VERSION')"
KUBE_MAJOR="${BASH_REMATCH[1]}"
KUBE_MINOR="${BASH_REMATCH[2]}"
CACHE_ROOT="${SNIPCHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/snipcheck}"
CACHE_DIR="$CACHE_ROOT/kube/$KUBE_VERSION"
mkdir -p "$CACHE_DIR" "$TOOLS_BIN"
log "Kubernetes $KUBE_VERSION (scripts/kube/go.mod); cache: $CACHE_DIR; Go: $("$GO" version)"

# The version stamps that Kubernetes' own build (hack/lib/version.sh) sets, so that
# `kube-apiserver --version`, /version and `kubectl version` report the release.
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$KUBE_MAJOR -X $pkg.gitMinor=$KUBE_MINOR"
  LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

# reports_version BIN -> true when the cached binary prints the pinned version
reports_version() {
  local out
  [ -x "$CACHE_DIR/$1" ] || return 1
  case "$1" in
    kube-apiserver|kube-controller-manager) out="$("$CACHE_DIR/$1" --version 2>/dev/null || true)" ;;
    kubectl) out="$("$CACHE_DIR/$1" version --client 2>/dev/null || true)" ;;
  esac
  [[ "$out" == *"$KUBE_VERSION"* ]]
}

if [ "${1:-}" = --cached ]; then
  for name in kube-apiserver kube-controller-manager kubectl; do reports_version "$name" || exit 1; done
  command -v etcd >/dev/null 2>&1 || exit 1
  exit 0
fi

build() { # build NAME PACKAGE
  local name=$1 pkg=$2 start secs tmp
  if reports_version "$name"; then
    log "$name $KUBE_VERSION: cached ($CACHE_DIR/$name)"
  else
    log "building $name $KUBE_VERSION from $pkg (CGO_ENABLED=0 -trimpath; slow on a cold Go cache)"
    tmp="$CACHE_DIR/.$name.$$"
    start=$(date +%s)
    (cd "$MODULE_DIR" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly \
      "$GO" build -trimpath -ldflags "$LDFLAGS" -o "$tmp" "$pkg") || { rm -f "$tmp"; die "go build $pkg failed"; }
    mv -f "$tmp" "$CACHE_DIR/$name"
    secs=$(( $(date +%s) - start ))
    printf '%s\n' "$secs" > "$CACHE_DIR/$name.build-seconds"
    reports_version "$name" || die "$CACHE_DIR/$name does not report $KUBE_VERSION"
    log "built $name in ${secs}s ($(du -h "$CACHE_DIR/$name" | cut -f1))"
  fi
  ln -sfn "$CACHE_DIR/$name" "$TOOLS_BIN/$name"
}

build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build kubectl k8s.io/kubernetes/cmd/kubectl

# etcd: the Debian 12 package (3.4.x; the 1.35 API server accepts it).
if command -v etcd >/dev/null 2>&1; then
  log "etcd present: $(command -v etcd)"
else
  grep -qs 'bookworm' /etc/apt/sources.list /etc/apt/sources.list.d/* \
    || die "etcd is missing and no Debian 12 (bookworm) apt source is configured: install etcd >= 3.4 on PATH"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "installing etcd-server from Debian 12 (bookworm) with apt"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends -t bookworm etcd-server
fi
ETCD_VERSION="$(etcd --version 2>/dev/null | awk '/^etcd Version:/ { print $3 }')"

{
  echo "kubernetes=$KUBE_VERSION"
  echo "go=$("$GO" env GOVERSION)"
  echo "etcd=$ETCD_VERSION"
  for name in kube-apiserver kube-controller-manager kubectl; do
    echo "$name.build_seconds=$(cat "$CACHE_DIR/$name.build-seconds" 2>/dev/null || echo unknown)"
  done
} > "$CACHE_DIR/BUILD-INFO"
log "kube-apiserver: $("$TOOLS_BIN/kube-apiserver" --version)"
log "kube-controller-manager: $("$TOOLS_BIN/kube-controller-manager" --version)"
log "kubectl: $("$TOOLS_BIN/kubectl" version --client | head -1)"
log "etcd: $ETCD_VERSION ($(command -v etcd))"
log "build seconds: $(grep build_seconds "$CACHE_DIR/BUILD-INFO" | tr '\n' ' ')"
log "done"
