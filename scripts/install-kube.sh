#!/usr/bin/env bash
# Installs the tools of the cluster tier (tests/cluster), pinned:
#   kube-apiserver, kube-controller-manager, kubectl
#                           -> built from k8s.io/kubernetes at the version that scripts/kube/go.mod
#                              requires (CGO_ENABLED=0, -trimpath), cached by version in a
#                              machine-wide directory, so a fresh clone (CI) reuses an earlier build:
#                              ${SNIPCHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/snipcheck}/kube/<version>/
#   etcd                    -> Debian 12 (bookworm) package etcd-server (3.4.x) with apt, when missing.
#   With SNIPCHECK_NODE=1 (the node of tests/cluster/test_node*.py; .ci/run sets it), also:
#   kubelet, kube-scheduler, kube-proxy -> the same module, the same way
#   coredns                 -> github.com/coredns/coredns at the version scripts/kube/coredns/go.mod requires
#   pause                   -> build/pause/linux/pause.c of k8s.io/kubernetes, gcc -static
#   CNI plugins             -> Debian package containernetworking-plugins (/usr/lib/cni), with apt, when missing
#   busybox (static)        -> Debian package busybox-static, with apt, when missing (the client Pod's tools)
#   bash scripts/install-kube.sh --cached   # exit 0 when every binary is cached and etcd present, else 1
# Then links the binaries into build/tools/bin. Idempotent: a cached binary is reused when its sha256 is
# the one recorded in the cache directory's SHA256SUMS when this script built it, and it reports the
# pinned version; a binary with no recorded sha256 (built by an older install-kube.sh) or another one is
# rebuilt. The binaries run as root (the node tests), so the cache's kube/ and kube/<version>/ directories
# must be the effective user's and not writable by group or others: otherwise this script stops, saying
# what to do (snipcheck.harness.kube.controlplane.find_tools checks the same before the tests run them). Prints each step
# and how long each build took; the cache directory keeps a BUILD-INFO file with the versions and build
# seconds, and SHA256SUMS (`sha256sum -c` format).
# Cold cost: kube-apiserver's build dominates (minutes, and gigabytes of Go build cache; each build's
# seconds are in BUILD-INFO and on the verification page), the others reuse most of its packages; warm: a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODULE_DIR="$ROOT/scripts/kube"
TOOLS_BIN="${TOOLS_BIN:-$ROOT/build/tools/bin}"

log() { printf '[install-kube] %s\n' "$*"; }
die() { log "ERROR: $*"; exit 1; }

GO="$(command -v go || true)"
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
[ -n "$GO" ] || die "Go is not installed (need Go >= 1.25 at /usr/local/go or on PATH)"
# The compiler's GC: GOGC=400 saves a fifth to a quarter of a cold build's CPU (scripts/snipcheck/harness/goenv.py)
export GOGC="${SNIPCHECK_BUILD_GOGC:-400}"

# The one pin: `require k8s.io/kubernetes vX.Y.Z` in scripts/kube/go.mod.
KUBE_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$MODULE_DIR/go.mod")"
[[ "$KUBE_VERSION" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] \
  || die "scripts/kube/go.mod: no 'require k8s.io/kubernetes vX.Y.Z' line (found '$KUBE_VERSION')"
KUBE_MAJOR="${BASH_REMATCH[1]}"
KUBE_MINOR="${BASH_REMATCH[2]}"
CACHE_ROOT="${SNIPCHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/snipcheck}"
CACHE_DIR="$CACHE_ROOT/kube/$KUBE_VERSION"
SUMS="$CACHE_DIR/SHA256SUMS"
umask 022 # what this script creates: not writable by group or others (checked below)
mkdir -p "$CACHE_DIR" "$TOOLS_BIN"

# private PATH -> true when PATH is not a symlink, belongs to the effective user and is not writable by
# group or others
private() {
  [ -e "$1" ] && [ ! -L "$1" ] && [ "$(stat -c %u "$1")" = "$(id -u)" ] && (( (8#$(stat -c %a "$1") & 8#022) == 0 ))
}
for dir in "$CACHE_ROOT/kube" "$CACHE_DIR"; do
  private "$dir" || die "$dir (owner uid $(stat -c %u "$dir"), mode $(stat -c %a "$dir")) must belong to uid $(id -u) \
and not be writable by group or others: another user could swap the binaries this script caches there, which \
run as root. Remove it (rm -rf --one-file-system '$dir'; this script then rebuilds), or, if you trust what it holds: \
chown -R $(id -u) '$dir' && chmod -R go-w '$dir'"
done
log "Kubernetes $KUBE_VERSION (scripts/kube/go.mod); cache: $CACHE_DIR; Go: $("$GO" version)"

# A binary is built as .NAME.PID in the cache and renamed when done: this run's are removed when it ends
# (killed too: test.sh stops a background build with SIGTERM); a killed run's when its pid runs no more.
remove_own_partial() { rm -f "$CACHE_DIR"/.*."$$"; }
trap remove_own_partial EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
for partial in "$CACHE_DIR"/.*.*; do
  pid=${partial##*.}
  if [ -f "$partial" ] && [[ "$pid" =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then
    log "removing $partial (left by a build that was killed)"; rm -f "$partial"
  fi
done

# link_tool NAME: TOOLS_BIN/NAME -> the cached binary, never over a file that is not a link into the
# cache (TOOLS_BIN may be a system directory: its own kubectl stays)
link_tool() {
  local link="$TOOLS_BIN/$1" to
  if [ -L "$link" ]; then
    to=$(readlink "$link")
    [[ "$to" == "$CACHE_ROOT/kube/"* ]] \
      || die "$link links to $to, not into $CACHE_ROOT/kube: not replacing it (remove it, or choose another TOOLS_BIN)"
  elif [ -e "$link" ]; then
    die "$link is there and is not a link into $CACHE_ROOT/kube: not replacing it (remove it, or choose another TOOLS_BIN)"
  fi
  ln -sfn "$CACHE_DIR/$1" "$link"
}

# The version stamps that Kubernetes' own build (hack/lib/version.sh) sets, so that
# `kube-apiserver --version`, /version and `kubectl version` report the release.
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$KUBE_MAJOR -X $pkg.gitMinor=$KUBE_MINOR"
  LDFLAGS+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

# The one CoreDNS pin: `require github.com/coredns/coredns vX.Y.Z` in scripts/kube/coredns/go.mod.
COREDNS_VERSION="$(awk '$1 == "require" && $2 == "github.com/coredns/coredns" { print $3 }' "$MODULE_DIR/coredns/go.mod")"
[ -n "$COREDNS_VERSION" ] || die "scripts/kube/coredns/go.mod: no 'require github.com/coredns/coredns vX.Y.Z' line"
# The pause version: the one kubelet 1.35 expects (build/pause/Makefile TAG of the module).
PAUSE_VERSION=3.10.1

BINARIES=(kube-apiserver kube-controller-manager kubectl)
[ "${SNIPCHECK_NODE:-0}" = 1 ] && BINARIES+=(kubelet kube-scheduler kube-proxy coredns pause)

# recorded_sum NAME -> the sha256 recorded in SHA256SUMS when this script built NAME ("" when none)
recorded_sum() {
  if [ -f "$SUMS" ] && private "$SUMS"; then awk -v n="$1" '$2 == n { print $1 }' "$SUMS"; fi
}
# record_sum NAME: after building NAME, its sha256 replaces any earlier line of NAME in SHA256SUMS
record_sum() {
  {
    if [ -f "$SUMS" ] && private "$SUMS"; then awk -v n="$1" '$2 != n' "$SUMS"; fi
    (cd "$CACHE_DIR" && sha256sum "$1")
  } > "$CACHE_DIR/.SHA256SUMS.$$"
  mv -f "$CACHE_DIR/.SHA256SUMS.$$" "$SUMS"
}
# matches_sum NAME -> true when the cached NAME is a private regular file with the recorded sha256, else
# false, saying why
matches_sum() {
  local bin="$CACHE_DIR/$1" want have
  [ -e "$bin" ] || return 1
  want=$(recorded_sum "$1")
  if [ -z "$want" ]; then
    log "$bin: no sha256 recorded in $SUMS (built by an older install-kube.sh, or not by this script): not reused"
    return 1
  fi
  private "$bin" && [ -f "$bin" ] || { log "$bin: not a regular file of uid $(id -u) unwritable by group and others: not reused"; return 1; }
  have=$(sha256sum "$bin" | cut -d' ' -f1)
  [ "$have" = "$want" ] || { log "$bin: sha256 $have, but $SUMS records $want (changed since it was built): not reused"; return 1; }
}
# cached NAME -> true when the cached binary is the one this script built (checked first, before it is
# run) and prints the pinned version
cached() { matches_sum "$1" && reports_version "$1"; }

# reports_version BIN -> true when the cached binary prints the pinned version
reports_version() {
  local out want=$KUBE_VERSION
  [ -x "$CACHE_DIR/$1" ] || return 1
  case "$1" in
    kubectl) out="$("$CACHE_DIR/$1" version --client 2>/dev/null || true)" ;;
    coredns) out="$("$CACHE_DIR/$1" -version 2>/dev/null || true)"; want="CoreDNS-${COREDNS_VERSION#v}" ;;
    pause) out="$("$CACHE_DIR/$1" -v 2>&1 || true)"; want="v$PAUSE_VERSION" ;;
    *) out="$("$CACHE_DIR/$1" --version 2>/dev/null || true)" ;;
  esac
  [[ "$out" == *"$want"* ]]
}

if [ "${1:-}" = --cached ]; then
  for name in "${BINARIES[@]}"; do cached "$name" || exit 1; done
  command -v etcd >/dev/null 2>&1 || exit 1
  [ "${SNIPCHECK_NODE:-0}" = 1 ] && { [ -x /usr/lib/cni/bridge ] && dpkg -s busybox-static >/dev/null 2>&1 || exit 1; }
  exit 0
fi

build() { # build NAME PACKAGE [MODULE_DIR]
  local name=$1 pkg=$2 dir=${3:-$MODULE_DIR} start secs tmp
  if cached "$name"; then
    log "$name $KUBE_VERSION: cached, sha256 checked ($CACHE_DIR/$name)"
  else
    log "building $name $KUBE_VERSION from $pkg (CGO_ENABLED=0 -trimpath, no DWARF; slow on a cold Go cache)"
    tmp="$CACHE_DIR/.$name.$$"
    start=$(date +%s)
    # -dwarf=false: the compiler skips the debug info that -ldflags "-s -w" would strip anyway (less CPU
    # on a cold cache, the same binary size)
    (cd "$dir" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly \
      "$GO" build -trimpath -gcflags=all=-dwarf=false -ldflags "$LDFLAGS" -o "$tmp" "$pkg") || { rm -f "$tmp"; die "go build $pkg failed"; }
    mv -f "$tmp" "$CACHE_DIR/$name"
    secs=$(( $(date +%s) - start ))
    printf '%s\n' "$secs" > "$CACHE_DIR/$name.build-seconds"
    reports_version "$name" || die "$CACHE_DIR/$name does not report $KUBE_VERSION"
    record_sum "$name"
    log "built $name in ${secs}s ($(du -h "$CACHE_DIR/$name" | cut -f1))"
  fi
  link_tool "$name"
}

build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build kubectl k8s.io/kubernetes/cmd/kubectl

# shellcheck source-path=SCRIPTDIR source=lib/apt.sh
. "$ROOT/scripts/lib/apt.sh"
apt_install() { # apt_install PACKAGE: from Debian 12 (bookworm) where that source is configured, else the host's archive
  local release=()
  grep -qs 'bookworm' /etc/apt/sources.list /etc/apt/sources.list.d/* && release=(-t bookworm)
  log "installing $1 with apt ${release[*]}"
  apt_get update -qq
  apt_get install -y -qq --no-install-recommends "${release[@]}" "$1"
}

if [ "${SNIPCHECK_NODE:-0}" = 1 ]; then
  build kubelet k8s.io/kubernetes/cmd/kubelet
  build kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler
  build kube-proxy k8s.io/kubernetes/cmd/kube-proxy
  LDFLAGS="-s -w" build coredns snipcheck.local/kube/coredns "$MODULE_DIR/coredns"
  if cached pause; then
    log "pause $PAUSE_VERSION: cached, sha256 checked ($CACHE_DIR/pause)"
  else
    command -v gcc >/dev/null 2>&1 || die "gcc is needed to build the pause binary: apt-get install gcc libc6-dev"
    # -mod=readonly: scripts/kube/go.mod and go.sum stay as committed; `go mod download` fetches the module
    # (checked against go.sum) when the module cache does not hold it, where `go list -m` gives no .Dir
    (cd "$MODULE_DIR" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly "$GO" mod download k8s.io/kubernetes) \
      || die "go mod download k8s.io/kubernetes failed (in $MODULE_DIR)"
    src="$(cd "$MODULE_DIR" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly "$GO" list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
    [ -f "$src" ] || die "pause source not found: $src"
    log "building pause $PAUSE_VERSION from $src (gcc -static)"
    start=$(date +%s)
    gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION" -o "$CACHE_DIR/.pause.$$" "$src" \
      || { rm -f "$CACHE_DIR/.pause.$$"; die "gcc failed on $src"; }
    strip "$CACHE_DIR/.pause.$$"; mv -f "$CACHE_DIR/.pause.$$" "$CACHE_DIR/pause"
    printf '%s\n' "$(( $(date +%s) - start ))" > "$CACHE_DIR/pause.build-seconds"
    reports_version pause || die "$CACHE_DIR/pause does not report v$PAUSE_VERSION"
    record_sum pause
    link_tool pause
  fi
  if [ -x /usr/lib/cni/bridge ]; then log "CNI plugins present: /usr/lib/cni"; else apt_install containernetworking-plugins; fi
  # the node tests' client Pod: one static binary with sh, wget and nslookup
  if dpkg -s busybox-static >/dev/null 2>&1; then log "busybox-static present"; else apt_install busybox-static; fi
fi

# etcd: the Debian 12 package (3.4.x; the 1.35 API server accepts it).
if command -v etcd >/dev/null 2>&1; then
  log "etcd present: $(command -v etcd)"
else
  apt_install etcd-server
fi
ETCD_VERSION="$(etcd --version 2>/dev/null | awk '/^etcd Version:/ { print $3 }')"

# Every binary of this run is the one recorded (reused after the check, or built and recorded). Others in
# the directory (the node's, on a run without SNIPCHECK_NODE=1) stay only while they match their sums:
# snipcheck.harness.kube.controlplane refuses a directory holding an executable that SHA256SUMS does not vouch for.
for name in "${BINARIES[@]}"; do matches_sum "$name" || die "$CACHE_DIR/$name does not match $SUMS after the build"; done
for bin in "$CACHE_DIR"/*; do
  name=${bin##*/}
  [ -f "$bin" ] && [ -x "$bin" ] && [[ " ${BINARIES[*]} " != *" $name "* ]] || continue
  matches_sum "$name" || { log "removing $bin (no matching sha256 in $SUMS; rebuilt when needed)"; rm -f "$bin"; }
done

{
  echo "kubernetes=$KUBE_VERSION"
  echo "go=$("$GO" env GOVERSION)"
  echo "etcd=$ETCD_VERSION"
  [ "${SNIPCHECK_NODE:-0}" = 1 ] && echo "coredns=$COREDNS_VERSION" && echo "pause=v$PAUSE_VERSION"
  for name in "${BINARIES[@]}"; do
    echo "$name.build_seconds=$(cat "$CACHE_DIR/$name.build-seconds" 2>/dev/null || echo unknown)"
  done
} > "$CACHE_DIR/BUILD-INFO"
log "kube-apiserver: $("$TOOLS_BIN/kube-apiserver" --version)"
log "kube-controller-manager: $("$TOOLS_BIN/kube-controller-manager" --version)"
log "kubectl: $("$TOOLS_BIN/kubectl" version --client | head -1)"
log "etcd: $ETCD_VERSION ($(command -v etcd))"
log "build seconds: $(grep build_seconds "$CACHE_DIR/BUILD-INFO" | tr '\n' ' ')"
log "done"
