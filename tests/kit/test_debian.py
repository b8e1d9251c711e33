"""debian:bookworm-slim: a minbase bookworm with the official image's slim configuration."""

from __future__ import annotations

import pytest

from snipcheck import docker as dk

pytestmark = pytest.mark.kit

REF = "debian:bookworm-slim"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.mark.timeout(120)
def test_debian_slim(kit_image) -> None:
    data = kit_image(REF, "kit-debian-slim")
    image = dk.stored(REF)  # the kit's snipcheck.local/debian:bookworm-slim, or the registry's image
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
        "dpkg-query -W -f '${Package}\\n' | wc -l"
    )
    out = dk.run_once(image, "bash", "-c", script, timeout=60).stdout.splitlines()
    assert out[0] == "bookworm"
    assert int(out[1]) >= 7, "slim path-excludes missing"
    assert out[2] == "0", "documentation other than copyright files left in the image"
    assert out[3] == "0", "apt lists must be empty"
    assert out[4].split() == ["Suites:", "bookworm", "bookworm-updates", "Suites:", "bookworm-security"]
    assert out[5] == "no-sources-list"
    packages = int(out[6])
    assert 70 <= packages <= 110, f"minbase has about 90 packages, found {packages}"
    size = dk.image_size(image)
    assert size < 100e6, f"{size / 1e6:.0f} MB: upstream bookworm-slim is about 75 MB"
    data.update(size_bytes=size, packages=packages)
