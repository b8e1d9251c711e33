# shellcheck shell=bash
# deb822 APT sources of a Debian root filesystem, as the official images write them: main and updates
# from MIRROR, security updates from SECURITY.   debian_sources ROOTFS SUITE MIRROR SECURITY
# Sourced by mkrootfs.sh (the kit's debian image) and scripts/fresh-machine/measure.sh.
debian_sources() {
	local rootfs=$1 suite=$2 mirror=$3 security=$4
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
