#!/usr/bin/env bash
# Measures what CI's `bash .ci/run` takes on a FRESH Debian 12 machine, from a machine that stopped
# being fresh after its first run (its engine, packages and caches are installed).
#
# The fresh machine is a privileged container on this machine's kernel and cores: a debootstrapped
# Debian 12 userland with what a new machine of the project's kind has before the session starts
# (gcc, git, python3, JDK, Maven, cmake, gdb, valgrind; this host's Go, Node.js and Docker client,
# no engine), an empty HOME, its own /var/lib/docker, /var/lib/kubelet and /tmp (directories of this
# host: overlayfs mounts — the engine's, the node's containerd under the tests' temporary directory —
# cannot be made on the container's own overlay: "failed to mount rootfs component: invalid argument"),
# and a network of its own. Inside,
# the bundled HEAD is cloned and `CI=true bash .ci/run` runs as CI runs it: the setup installs
# Debian 13's engine (the opt-in), chromium, redis, PostgreSQL and etcd, and every tier runs.
# Not a VM: nested KVM does not work on this project's machines (the guest kernel hangs at boot).
# Differences from a real machine: the system python3 is Debian's 3.11.2 (the kind has 3.11.7 from
# pyenv); the container's processes move into a child cgroup so that controllers can be delegated
# (as docker:dind does); kubelet's kernel-wide sysctls are the host's (the node tests restore them).
#
# Usage (root, with a working Docker engine and debootstrap):
#   bash scripts/fresh-machine/measure.sh            # measure HEAD; prints wall time, setup, result
#   bash scripts/fresh-machine/measure.sh --clean    # remove the cached userland and stop
# Work directory: $SNIPCHECK_FRESH_DIR (default /var/tmp/snipcheck-fresh); the userland is kept
# there for the next measurement (≈2 GB), everything else is removed when the run ends. The script
# deletes only in a work directory it made (its marker file .snipcheck-fresh-dir inside; an absolute path,
# never /), and through scripts/snipcheck/harness/saferm.py: what is still mounted there (the userland's proc
# after a killed run) is unmounted first, never deleted through.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${SNIPCHECK_FRESH_DIR:-/var/tmp/snipcheck-fresh}"
SUBNET="${SNIPCHECK_FRESH_SUBNET:-10.213.0.0/24}"
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security
# Debian packages a new machine of the kind has (see the workplace's machine description)
BASE=systemd,systemd-sysv,ca-certificates,curl  # debootstrap's own resolver; the rest through apt
PACKAGES=(git gcc g++ make libc6-dev python3 python3-venv python3-pip postgresql-client procps iproute2 xz-utils
  unzip openssh-client openjdk-17-jdk-headless maven cmake ninja-build gdb valgrind perl tcl)
RUN_ID="$(date +%Y%m%d%H%M%S)-$$"
NAME="snipcheck-fresh-$RUN_ID"
LABEL="io.snipcheck.fresh=$RUN_ID"

log() { printf '[fresh-machine] %s\n' "$*"; }
# shellcheck source-path=SCRIPTDIR source=../imagekit/debian/sources.sh
. "$ROOT/scripts/imagekit/debian/sources.sh"
# shellcheck source-path=SCRIPTDIR source=sysctls.sh
. "$ROOT/scripts/fresh-machine/sysctls.sh"
die() { log "$*"; exit 1; }

case "$WORK" in
  /*) [ "$(realpath -m -- "$WORK")" != / ] || die "SNIPCHECK_FRESH_DIR=$WORK is /: choose a directory of its own" ;;
  *) die "SNIPCHECK_FRESH_DIR=$WORK is not an absolute path" ;;
esac
MARKER="$WORK/.snipcheck-fresh-dir"
# own_work: WORK is this script's — it made it (the marker), or it is missing or empty and is made now;
# a directory from before the marker existed is recognised by the userland this script completed there
own_work() {
  if [ -f "$MARKER" ] && [ ! -L "$MARKER" ]; then return 0; fi
  if [ -L "$WORK" ]; then die "$WORK is a symlink: not working there (remove it, or set SNIPCHECK_FRESH_DIR)"; fi
  if [ -d "$WORK" ] && [ -n "$(ls -A "$WORK")" ] && [ ! -f "$WORK/userland/.complete" ]; then
    die "$WORK holds files this script did not make (no $MARKER): not working or deleting there; set SNIPCHECK_FRESH_DIR to another directory"
  fi
  mkdir -p "$WORK" && touch "$MARKER"
}
remove() { python3 "$ROOT/scripts/snipcheck/harness/saferm.py" --unmount "$@"; }

if [ "${1:-}" = "--clean" ]; then
  [ -e "$WORK" ] || { log "nothing to remove: $WORK does not exist"; exit 0; }
  [ -f "$MARKER" ] || [ -f "$WORK/userland/.complete" ] \
    || die "$WORK was not made by this script (no $MARKER): not removing it"
  log "removing $WORK"; remove "$WORK"; exit 0
fi
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, a privileged container)"
docker info >/dev/null 2>&1 || die "needs a working Docker engine: bash scripts/install-docker-engine.sh"
command -v debootstrap >/dev/null || die "needs debootstrap: apt-get install debootstrap"

own_work
userland="$WORK/userland"
if [ ! -f "$userland/.complete" ]; then
  log "debootstrap $SUITE into $userland (once; kept for later measurements)"
  remove "$userland"
  debootstrap --variant=minbase --include="$BASE" "$SUITE" "$userland" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 \
    || die "debootstrap failed: $WORK/debootstrap.log"
  debian_sources "$userland" "$SUITE" "$MIRROR" "$SECURITY"
  mount -t proc proc "$userland/proc"
  log "installing the kind's preinstalled packages into the userland: ${PACKAGES[*]}"
  ok=1
  chroot "$userland" sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"' sh \
    "${PACKAGES[@]}" > "$WORK/packages.log" 2>&1 || ok=0
  if mountpoint -q "$userland/proc"; then umount "$userland/proc"; fi
  [ "$ok" = 1 ] || die "installing packages into the userland failed: $WORK/packages.log"
  rm -rf --one-file-system "$userland/var/lib/apt/lists/"* "$userland/var/cache/apt/archives/"*.deb
  touch "$userland/.complete"
fi

# what changes with this host: its CAs (a TLS-inspecting egress needs them), Go, Node.js, Docker client
cp /usr/local/share/ca-certificates/*.crt "$userland/usr/local/share/ca-certificates/" 2>/dev/null || :
mount -t proc proc "$userland/proc" # the JDK's certificate hook runs java
chroot "$userland" update-ca-certificates >/dev/null 2>&1 || log "update-ca-certificates failed in the userland"
umount "$userland/proc"
if goroot="$(go env GOROOT 2>/dev/null)" && [ -n "$goroot" ]; then
  rm -rf --one-file-system "$userland/usr/local/go"; cp -a "$goroot" "$userland/usr/local/go"
else
  log "no Go on this host: the fresh machine gets none either (the setup provisions it)"
fi
if dpkg -s nodejs >/dev/null 2>&1; then
  dpkg -L nodejs | while read -r f; do
    if [ -f "$f" ] || [ -L "$f" ]; then mkdir -p "$userland$(dirname "$f")"; cp -a "$f" "$userland$f"; fi
  done
fi
if [ -d /usr/lib/node_modules/npm ]; then # npm as this host has it (it may be newer than nodejs' own)
  rm -rf --one-file-system "$userland/usr/lib/node_modules/npm"; cp -a /usr/lib/node_modules/npm "$userland/usr/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$userland/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$userland/usr/bin/npx"
fi
if client="$(command -v docker)"; then cp -a "$client" "$userland/usr/local/bin/docker"; fi
install -m 0755 "$ROOT/scripts/fresh-machine/inside.sh" "$userland/usr/local/sbin/snipcheck-fresh"

share="$WORK/$RUN_ID"
mkdir -p "$share/share" "$share/docker" "$share/kubelet" "$share/tmp"
chmod 1777 "$share/tmp"
# shellcheck disable=SC2329  # called by the EXIT trap
cleanup() {
  docker rm -f "$NAME" >/dev/null 2>&1 || :
  host_sysctls_restore # the node in the container wrote this host's kernel-wide sysctls
  docker network rm "$NAME" >/dev/null 2>&1 || :
  docker image rm "snipcheck-fresh:$RUN_ID" >/dev/null 2>&1 || :
  remove "$share/docker" "$share/kubelet" "$share/tmp"
  log "removed the container, its network, image and engine directories; logs stay in $share/share"
}
host_sysctls_save
trap cleanup EXIT

git -C "$ROOT" bundle create "$share/share/repo.bundle" HEAD 2>/dev/null
log "commit $(git -C "$ROOT" log --oneline -1)"
log "importing the userland as snipcheck-fresh:$RUN_ID"
tar -C "$userland" -c . | docker import -c "LABEL $LABEL" - "snipcheck-fresh:$RUN_ID" >/dev/null
docker network create --label "$LABEL" --subnet "$SUBNET" "$NAME" >/dev/null
env_args=()
for v in PIP_CERT PIP_DEFAULT_TIMEOUT PIP_INDEX_URL GOPROXY SSL_CERT_FILE REQUESTS_CA_BUNDLE CURL_CA_BUNDLE \
  NODE_EXTRA_CA_CERTS GIT_SSL_CAINFO; do
  if [ -n "${!v:-}" ]; then env_args+=(-e "$v=${!v}"); fi
done
log "running CI=true bash .ci/run in $NAME (log: $share/share/ci.log)"
docker run -d --name "$NAME" --hostname fresh --label "$LABEL" --privileged --cgroupns=private \
  --network "$NAME" --shm-size=4g "${env_args[@]}" -e HOME=/root -e LANG=C.UTF-8 -e DEBIAN_FRONTEND=noninteractive \
  -e PATH=/usr/local/go/bin:/root/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  -v "$share/docker:/var/lib/docker" -v "$share/kubelet:/var/lib/kubelet" -v "$share/tmp:/tmp" \
  -v "$share/share:/mnt/host" \
  -w /root "snipcheck-fresh:$RUN_ID" /usr/local/sbin/snipcheck-fresh >/dev/null
docker wait "$NAME" >/dev/null

result="$(cat "$share/share/result" 2>/dev/null || echo "rc=? wall=?")"
log "result: $result"
grep -E '^\[test\] setup took|^=+ .*(passed|failed|error).* =+$' "$share/share/ci.log" | sed 's/^/[fresh-machine]   /' || :
log "libc6/systemd/python3 before: $(tr '\n' ' ' < "$share/share/pkgs-before.txt" 2>/dev/null)"
log "after:  $(tr '\n' ' ' < "$share/share/pkgs-after.txt" 2>/dev/null)"
awk 'NR == 1 { for (i = 3; i <= NF; i++) a[i] = $i; next }
     { for (i = 3; i <= NF; i++) b[i] = $i }
     END { if (NR < 2) exit; t = 0; for (i in b) t += b[i] - a[i]; idle = (b[6] - a[6]) + (b[7] - a[7]);
           printf "[fresh-machine] CPU busy %.1f %% (non-idle, non-iowait; /proc/stat every 5 s)\n", 100 * (t - idle) / t }' \
  "$share/share/stat.log" 2>/dev/null || :
case "$result" in rc=0\ *) exit 0 ;; *) exit 1 ;; esac
