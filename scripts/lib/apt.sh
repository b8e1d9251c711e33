# shellcheck shell=bash
# The one way the project's scripts run apt-get (sourced by setup.sh, install-docker-engine.sh and
# install-kube.sh): as root (with sudo when not root), non-interactive, and holding the project's own
# lock. Why the lock: setup.sh builds the Kubernetes binaries in the background while it installs the
# other tiers' packages, and that build installs etcd, the CNI plugins and busybox with apt when it ends;
# apt-get does not wait for /var/lib/apt/lists/lock (`apt-get update` fails at once: "Could not get lock")
# and DPkg::Lock::Timeout covers only dpkg's own lock (which a foreign apt, e.g. unattended-upgrades,
# may hold: waited for up to 5 minutes).
#   apt_get update -qq
#   apt_get install -y -qq --no-install-recommends PKG...
# SNIPCHECK_APT_LOCK (default /run/lock/snipcheck-apt.lock) and SNIPCHECK_APT_LOCK_WAIT (seconds,
# default 1200) exist for the script's own test (tests/inventory/test_apt_lock.py).
apt_get() {
  local lock=${SNIPCHECK_APT_LOCK:-/run/lock/snipcheck-apt.lock} wait=${SNIPCHECK_APT_LOCK_WAIT:-1200} status=0
  [ -d "$(dirname "$lock")" ] || lock=/tmp/snipcheck-apt.lock
  local cmd=(env DEBIAN_FRONTEND=noninteractive flock -w "$wait" -E 75 "$lock"
    apt-get -o DPkg::Lock::Timeout=300 "$@")
  if [ "$(id -u)" -eq 0 ]; then "${cmd[@]}" || status=$?
  elif command -v sudo >/dev/null 2>&1; then sudo "${cmd[@]}" || status=$?
  else
    printf '[apt] apt-get %s needs root: run as root, or install sudo\n' "$*" >&2
    return 1
  fi
  if [ "$status" -eq 75 ]; then
    printf '[apt] waited %s s for %s (another apt-get of this project holds it: %s) — apt-get %s not run\n' \
      "$wait" "$lock" "$(pgrep -af 'flock .*snipcheck-apt' | head -n 3 | tr '\n' ';')" "$*" >&2
  fi
  return "$status"
}
