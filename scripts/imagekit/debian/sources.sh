# shellcheck shell=bash
# deb822 APT sources of a Debian root filesystem, as the official images write them: main and updates
# from MIRROR, security updates from SECURITY.   debian_sources ROOTFS SUITE MIRROR SECURITY
# Sourced by mkrootfs.sh (the kit's debian image) and scripts/fresh-machine/measure.sh.
# Refuses an empty ROOTFS or one that is / (set -u lets "" through): that would rewrite this machine's
# own apt sources.
debian_sources() {
	local rootfs=$1 suite=$2 mirror=$3 security=$4
	if [ -z "$rootfs" ] || [ "$(realpath -m -- "$rootfs")" = / ]; then
		echo "debian_sources: refusing the root filesystem '$rootfs' (empty or /: this machine's own apt sources)" >&2
		return 1
	fi
	rm -f "$rootfs/etc/apt/sources.list"
	cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<CONF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
CONF
}
