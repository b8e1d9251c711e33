#!/bin/sh
# Assemble distroless root filesystems from Debian packages (no maintainer scripts run,
# exactly like distroless, which unpacks .deb data archives with Bazel rules).
# Usage: assemble.sh DEBDIR OUTDIR VARIANT PKG...
set -eu
debs=$1 out=$2 variant=$3
shift 3
mkdir -p "$out/var/lib/dpkg/status.d"
for pkg in "$@"; do
	deb=$(ls "$debs/${pkg}"_*.deb)
	dpkg-deb -x "$deb" "$out"
	# package metadata for scanners, the way distroless records it
	dpkg-deb -f "$deb" >"$out/var/lib/dpkg/status.d/$pkg"
done
# only copyright files are kept from the documentation
if [ -d "$out/usr/share/doc" ]; then
	find "$out/usr/share/doc" -type f ! -name copyright -delete
	find "$out/usr/share/doc" -type l -delete
	find "$out/usr/share/doc" -mindepth 1 -type d -empty -delete
fi
rm -rf --one-file-system "$out/usr/share/man" "$out/usr/share/lintian" "$out/usr/share/info" "$out/usr/share/bug"
# CA bundle generated from ca-certificates, as /etc/ssl/certs/ca-certificates.crt
mkdir -p "$out/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/ca-certificates.crt"
rm -rf --one-file-system "$out/usr/sbin/update-ca-certificates" "$out/etc/ca-certificates.conf"
# users, groups, name service, os-release
install -m 0644 /kit/passwd "$out/etc/passwd"
install -m 0644 /kit/group "$out/etc/group"
install -m 0644 /kit/nsswitch.conf "$out/etc/nsswitch.conf"
rm -f "$out/etc/os-release"
install -m 0644 /kit/os-release "$out/etc/os-release"
install -d -m 0700 -o 0 -g 0 "$out/root"
install -d -m 0700 -o 65532 -g 65532 "$out/home/nonroot"
install -d -m 1777 "$out/tmp"
install -d -m 0755 "$out/var/tmp" "$out/bin" "$out/sbin" "$out/usr/bin" "$out/usr/sbin"
chmod 1777 "$out/var/tmp"
if [ "$variant" = debug ]; then
	mkdir -p "$out/busybox"
	mv "$out/bin/busybox" "$out/busybox/busybox"
	for applet in $("$out/busybox/busybox" --list); do
		[ "$applet" = busybox ] || ln -s busybox "$out/busybox/$applet"
	done
fi
