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
# Where the lock lives: apt.lock in root's private directory /run/snipcheck (/tmp/snipcheck where there is
# no /run), the directory of the node journal too. Not /run/lock or /tmp: anyone can write there, and a
# planted symlink would make root's flock create a file anywhere (review L1). The directory is made 0700
# when missing and refused when it is a symlink, not the user apt runs as (root), or writable by group or
# others: the same rules as the journal's, from the same code (scripts/snipcheck/harness/privatedir.py).
# Installs start no service and leave none enabled at boot (review M5): `apt_get install` runs with a
# policy-rc.d that refuses every start (made for the install and removed after it, unless one was there
# already), and the systemd units of the packages it newly installed are disabled (`systemctl disable`
# also works without a running systemd). The tiers run their own PostgreSQL, Redis and etcd on free ports;
# the Docker engine is started by scripts/install-docker-engine.sh when the tiers need it. Each disabled
# unit is named; `systemctl enable UNIT` brings it back.
# SNIPCHECK_APT_LOCK (a lock file; its directory is checked the same way), SNIPCHECK_APT_LOCK_WAIT
# (seconds, default 1200) and SNIPCHECK_POLICY_RC (default /usr/sbin/policy-rc.d) exist for the script's
# own tests (tests/inventory/machinery/test_apt_lock.py).
APT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

apt_lock_file() {
  if [ -n "${SNIPCHECK_APT_LOCK:-}" ]; then echo "$SNIPCHECK_APT_LOCK"
  elif [ -d /run ]; then echo /run/snipcheck/apt.lock
  else echo /tmp/snipcheck/apt.lock
  fi
}

apt_get() {
  local lock wait=${SNIPCHECK_APT_LOCK_WAIT:-1200} status=0 as_root=()
  lock=$(apt_lock_file)
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      printf '[apt] apt-get %s needs root: run as root, or install sudo\n' "$*" >&2
      return 1
    fi
    as_root=(sudo)
  fi
  if ! "${as_root[@]}" python3 "$APT_LIB_DIR/../snipcheck/harness/privatedir.py" "$(dirname "$lock")" >/dev/null; then
    printf '[apt] the directory of the lock %s is not private to root (why: above) — apt-get %s not run\n' \
      "$lock" "$*" >&2
    return 1
  fi
  local run=(apt-get -o DPkg::Lock::Timeout=300 "$@")
  case " $* " in
    *" install "*) run=(bash "$APT_LIB_DIR/apt-install-dormant.sh" "${SNIPCHECK_POLICY_RC:-/usr/sbin/policy-rc.d}" "${run[@]}") ;;
  esac
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive flock -w "$wait" -E 75 "$lock" "${run[@]}" || status=$?
  if [ "$status" -eq 75 ]; then
    printf '[apt] waited %s s for %s (another apt-get of this project holds it: %s) — apt-get %s not run\n' \
      "$wait" "$lock" "$(pgrep -af "flock .*$lock" | head -n 3 | tr '\n' ';')" "$*" >&2
  fi
  return "$status"
}
