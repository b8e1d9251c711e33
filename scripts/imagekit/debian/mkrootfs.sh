#!/usr/bin/env bash
# Build a debian:<suite>-slim root filesystem tarball the way the official image is made
# (debuerreotype: debootstrap --variant=minbase, minimizing config, slimify, deb822 sources,
# security updates applied, apt lists and caches emptied).
# Usage: mkrootfs.sh SUITE MIRROR SECURITY_MIRROR OUT.tar   (needs root and debootstrap)
set -euo pipefail

suite=${1:?suite}
mirror=${2:?mirror}
security=${3:?security mirror}
out=${4:?output tar}

if [ "$(id -u)" != 0 ]; then
	echo "mkrootfs.sh: must run as root (debootstrap needs it)" >&2
	exit 2
fi
# The Release files are checked against Debian's archive keyring (review M6): debootstrap verifies
# nothing when the keyring is missing (Ubuntu's default), and the mirror is plain http.
keyring=${SNIPCHECK_DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}  # (the tests name another)
if ! command -v debootstrap >/dev/null || [ ! -s "$keyring" ]; then
	echo "mkrootfs.sh: installing debootstrap and debian-archive-keyring with apt-get" >&2
	# shellcheck source-path=SCRIPTDIR source=../../lib/apt.sh
	. "$(dirname "${BASH_SOURCE[0]}")/../../lib/apt.sh"
	apt_get install -y --no-install-recommends debootstrap debian-archive-keyring >&2
fi

# Every removal of (or inside) the tree goes through saferm.py: debootstrap mounts proc and sys in it, and
# in a container binds the host's /dev/pts and /dev/shm into its dev; a plain rm -rf would delete through
# a mount it left (review M2). saferm unmounts what is mounted under the path first, never follows a link
# out of it and never crosses onto another mount.
saferm="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/snipcheck/harness/saferm.py"
remove() { python3 "$saferm" --unmount "$1"; }
work=$(mktemp -d /tmp/snipcheck-rootfs.XXXXXX)
rootfs=$work/rootfs
cleanup() {
	remove "$work" || echo "mkrootfs.sh: left $work (see above)" >&2
}
trap cleanup EXIT
# bash runs the EXIT trap on a signal only when the signal is trapped: a timeout's SIGTERM to the group
# (proc.run own_group) must still unmount and remove the tree
trap 'exit 143' TERM
trap 'exit 130' INT

# A mirror caught mid-sync gives an index naming a package it cannot serve yet ("E: Couldn't download
# packages: libudev1", seen once in a fresh-machine run): try again from scratch, at most three times.
# A Release file the keyring does not verify is not retried: that is no mirror mid-sync.
log=$work/debootstrap.log
for attempt in 1 2 3; do
	if debootstrap --variant=minbase --force-check-gpg --keyring="$keyring" "$suite" "$rootfs" "$mirror" 2>&1 \
		| tee "$log" >&2; then break; fi
	if grep -qE "signed by unknown key|BADSIG|Invalid Release signature|Release signature|NO_PUBKEY" "$log"; then
		echo "mkrootfs.sh: the Release file of $suite from $mirror is not signed by a key of $keyring: not retried" >&2
		exit 1
	fi
	if [ "$attempt" = 3 ]; then
		echo "mkrootfs.sh: debootstrap $suite from $mirror failed 3 times (its log is above)" >&2
		exit 1
	fi
	echo "mkrootfs.sh: debootstrap failed (attempt $attempt of 3); trying again in 30 s from an empty directory" >&2
	remove "$rootfs"
	sleep 30
done

# --- debuerreotype-minimizing-config -----------------------------------------------
cat >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests" <<'CONF'
Apt::AutoRemove::SuggestsImportant "false";
CONF
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
cat >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes" <<'CONF'
Acquire::GzipIndexes "true";
CONF
cat >"$rootfs/etc/apt/apt.conf.d/docker-no-languages" <<'CONF'
Acquire::Languages "none";
CONF
echo 'force-unsafe-io' >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"

# --- debuerreotype-slimify -------------------------------------------------------------
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'CONF'
# This is the "slim" variant of the Debian base image.
# Many files which are normally unnecessary in containers are excluded,
# and this configuration file keeps them that way.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
CONF
find "$rootfs/usr/share/doc" -xdev -mindepth 1 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/doc" -xdev -mindepth 1 -type d -empty -delete
for d in groff info linda lintian/overrides locale man; do
	[ -d "$rootfs/usr/share/$d" ] && find "$rootfs/usr/share/$d" -xdev -mindepth 1 -delete
done

# --- sources (deb822, like the official image) and security updates ------------------
# shellcheck source-path=SCRIPTDIR source=sources.sh
. "$(dirname "${BASH_SOURCE[0]}")/sources.sh"
debian_sources "$rootfs" "$suite" "$mirror" "$security"
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
mount -t proc proc "$rootfs/proc"
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get dist-upgrade -y -qq >&2
chroot "$rootfs" apt-get clean
umount "$rootfs/proc"

# --- debuerreotype-minimizing / fixup ------------------------------------------------
# nothing may be mounted in the tree any more: what follows deletes inside it
mounted=$(python3 "$saferm" --mounts "$rootfs")
if [ -n "$mounted" ]; then
	echo "mkrootfs.sh: still mounted in $rootfs: $mounted — not deleting inside it" >&2
	exit 1
fi
rm -rf --one-file-system "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
rm -rf --one-file-system "$rootfs"/var/cache/ldconfig/aux-cache "$rootfs"/var/log/apt/* "$rootfs"/var/log/dpkg.log \
	"$rootfs"/var/log/bootstrap.log "$rootfs"/var/log/alternatives.log "$rootfs"/debootstrap
rm -f "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
: >"$rootfs/etc/resolv.conf"
: >"$rootfs/etc/hostname"
[ -f "$rootfs/etc/machine-id" ] && : >"$rootfs/etc/machine-id"
find "$rootfs/dev" "$rootfs/proc" "$rootfs/sys" -xdev -mindepth 1 -delete 2>/dev/null || true

tar --numeric-owner --xattrs --acls -C "$rootfs" -cf "$out" .
echo "mkrootfs.sh: wrote $out ($(du -h "$out" | cut -f1))" >&2
