"""debian:trixie-slim: a minbase trixie with the official image's slim configuration."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from snipcheck.harness import proc
from snipcheck.harness.docker import cli as dk
from snipcheck.harness.imagekit.recipes import DEBIAN_MIRROR, DEBIAN_SECURITY, DEBIAN_SUITE, KIT
from support import require

pytestmark = pytest.mark.kit

REF = "debian:trixie-slim"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.mark.timeout(120)
def test_debian_slim(kit_image) -> None:
    data = kit_image(REF, "kit-debian-slim")
    image = dk.stored(REF)  # the kit's snipcheck.local/debian:trixie-slim, or the registry's image
    cfg = dk.inspect(image)["Config"]
    assert cfg["Cmd"] == ["bash"]
    assert f"PATH={PATH}" in cfg["Env"]
    script = (
        ". /etc/os-release; echo $VERSION_CODENAME; "
        "grep -c '^path-exclude' /etc/dpkg/dpkg.cfg.d/docker; "
        "find /usr/share/doc -type f ! -name copyright | wc -l; "
        "ls /var/lib/apt/lists | grep -vc '^lock$\\|^partial$' || true; "
        "grep -h '^Suites:' /etc/apt/sources.list.d/debian.sources | tr '\\n' ' '; echo; "
        "test ! -e /etc/apt/sources.list && echo no-sources-list; "
        "dpkg-query -W -f '${Package}\\n' | wc -l; "
        "test -e /etc/ssl/certs/ca-certificates.crt && echo ca-bundle || echo no-ca-bundle; "
        "test -e /usr/share/zoneinfo/Europe/Moscow && echo zoneinfo || echo no-zoneinfo; "
        "test -e /usr/share/zoneinfo/US/Eastern && echo legacy-zones || echo no-legacy-zones"
    )
    out = dk.run_once(image, "bash", "-c", script, timeout=60).stdout.splitlines()
    assert out[0] == DEBIAN_SUITE
    assert int(out[1]) >= 7, "slim path-excludes missing"
    assert out[2] == "0", "documentation other than copyright files left in the image"
    assert out[3] == "0", "apt lists must be empty"
    assert out[4].split() == ["Suites:", "trixie", "trixie-updates", "Suites:", "trixie-security"]
    assert out[5] == "no-sources-list"
    packages = int(out[6])
    # what docs/docker.md's comparison table says of debian-slim (errata #debian-slim-certs): minbase has no
    # CA bundle (outgoing TLS fails until `apt-get install ca-certificates`), and trixie's has tzdata (Priority:
    # required) but not tzdata-legacy's old alias names
    assert out[7] == "no-ca-bundle", "trixie-slim has a CA bundle: the table's debian-slim row would be wrong"
    assert out[8] == "zoneinfo", "trixie-slim has no zoneinfo: the table's tzdata cell would be wrong"
    assert out[9] == "no-legacy-zones", "trixie-slim has US/Eastern: the table's note on tzdata-legacy would be wrong"
    assert 70 <= packages <= 110, f"minbase has about 90 packages, found {packages}"
    size = dk.image_size(image)
    assert size < 100e6, f"{size / 1e6:.0f} MB: upstream trixie-slim is about 80 MB"
    data.update(size_bytes=size, packages=packages)


@pytest.mark.timeout(120)
@pytest.mark.root(reason="debootstrap needs root (run the kit tier as root)")
def test_a_release_file_the_keyring_does_not_verify_stops_the_rootfs(tmp_path: Path) -> None:
    """The rootfs comes over plain http: debootstrap must check the Release signature (review M6). Given a
    keyring without Debian's keys, mkrootfs.sh stops at the signature, at once, and builds nothing."""
    missing = [tool for tool in ("gpg", "gpgconf") if shutil.which(tool) is None]
    require(not missing, f"{', '.join(missing)} missing: bash scripts/setup.sh installs gnupg for the kit tier")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--batch", "--homedir", str(home)]
    try:
        subprocess.run([*gpg, "--passphrase", "", "--quick-gen-key", "not debian <k@example.invalid>", "ed25519",
                        "sign", "never"], check=True, capture_output=True, timeout=60)  # fmt: skip
        keyring = tmp_path / "foreign.gpg"
        keyring.write_bytes(subprocess.run([*gpg, "--export"], check=True, capture_output=True, timeout=60).stdout)
    finally:  # the key generation started a gpg-agent for that home: it does not outlive the test
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True, timeout=30)
    out = tmp_path / "rootfs.tar"
    start = time.monotonic()
    res = proc.run(
        ["bash", str(KIT / "debian" / "mkrootfs.sh"), DEBIAN_SUITE, DEBIAN_MIRROR, DEBIAN_SECURITY, str(out)],
        timeout=90,
        env=proc.environment(SNIPCHECK_DEBIAN_KEYRING=str(keyring)),
        own_group=True,
    )
    assert res.returncode != 0 and not out.exists(), res.describe()
    assert "Release signed by unknown key" in res.stderr and "not retried" in res.stderr, res.describe()
    assert time.monotonic() - start < 60, "a signature failure was retried like a mirror mid-sync"
