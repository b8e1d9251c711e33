"""gcr.io/distroless/{static,base}-debian13 as the kit makes them (or the registry serves them)."""

from __future__ import annotations

import json
import ssl
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from snipcheck.harness.docker import buildkit as docker_buildkit
from snipcheck.harness.docker import cli as dk
from snipcheck.harness.docker import imagefs as docker_imagefs

pytestmark = pytest.mark.kit

STATIC = "gcr.io/distroless/static-debian13"
BASE = "gcr.io/distroless/base-debian13"
VARIANTS = [f"{STATIC}:latest", f"{STATIC}:nonroot", f"{BASE}:latest", f"{BASE}:nonroot"]
DEBUG = [f"{STATIC}:debug", f"{STATIC}:debug-nonroot"]
PROBE = Path(__file__).parent / "probe"

PASSWD = (
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
)
GROUPS = {"root": 0, "tty": 5, "staff": 50, "nobody": 65534, "nonroot": 65532}
LIBC = ("lib/x86_64-linux-gnu/libc.so.6", "lib64/ld-linux-x86-64.so.2")


class Fs:
    """An image's exported filesystem: members by normalised path."""

    def __init__(self, tar_path: Path) -> None:
        self.tar = tarfile.open(tar_path)  # noqa: SIM115 - closed by the module fixture
        self.members = {m.name.lstrip("/").removeprefix("./").rstrip("/"): m for m in self.tar.getmembers()}

    def resolve(self, path: str) -> str:
        """The path with symlinked directories followed (Debian 13 ships /lib -> usr/lib, /bin -> usr/bin)."""
        parts = path.strip("/").split("/")
        for _ in range(16):  # a bounded number of links, like the kernel's
            for i in range(1, len(parts)):
                member = self.members.get("/".join(parts[:i]))
                if member is not None and member.issym():
                    target = (
                        member.linkname.strip("/")
                        if member.linkname.startswith("/")
                        else "/".join([*parts[: i - 1], member.linkname])
                    )
                    parts = [p for p in target.split("/") if p and p != "."] + parts[i:]
                    break
            else:
                return "/".join(parts)
        return "/".join(parts)

    def has(self, path: str) -> bool:
        return self.resolve(path) in self.members

    def get(self, path: str) -> tarfile.TarInfo:
        return self.members[path.strip("/")]

    def read(self, path: str) -> bytes:
        member = self.get(path)
        while member.issym():
            target = member.linkname
            base = str(Path("/" + member.name).parent)
            member = self.get(target if target.startswith("/") else f"{base}/{target}")
        fh = self.tar.extractfile(member)
        assert fh is not None, path
        return fh.read()


@pytest.fixture(scope="module")
def filesystems(kit_sources, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Fs]]:
    tmp = tmp_path_factory.mktemp("distroless")
    out = {}
    for i, ref in enumerate(VARIANTS + DEBUG):
        if kit_sources[ref].available:
            out[ref] = Fs(docker_imagefs.export_fs(dk.stored(ref), tmp / f"fs{i}.tar"))
    yield out
    for fs in out.values():
        fs.tar.close()


@pytest.fixture(scope="module")
def probes(kit_sources) -> Iterator[dict[str, str]]:
    """Per base image, an image with the probe program (static and cgo builds) added."""
    tags: dict[str, str] = {}
    try:
        for i, ref in enumerate(VARIANTS):
            if kit_sources[ref].available and kit_sources["golang:1.26-trixie"].available:
                tag = f"snipcheck-kitprobe:{dk.RUN_ID}-{i}"
                # FROM golang:1.26-trixie and FROM ${BASE}: the kit's images come in as named contexts
                docker_buildkit.build(PROBE, tag, build_args={"BASE": ref}, timeout=600)
                tags[ref] = tag
        yield tags
    finally:
        for tag in tags.values():
            dk.remove_image(tag)


def _run_probe(image: str, binary: str = "/probe-static", check: bool = True) -> dk.Result:
    return dk.run_once(image, extra=["--entrypoint", binary], timeout=60, check=check)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("ref", VARIANTS)
def test_layout_users_and_modes(ref: str, kit_image, filesystems: dict[str, Fs]) -> None:
    data = kit_image(ref, "kit-distroless-layout")
    fs = filesystems[ref]
    assert fs.read("etc/passwd").decode() == PASSWD
    groups = {line.split(":")[0]: int(line.split(":")[2]) for line in fs.read("etc/group").decode().splitlines()}
    assert groups == GROUPS
    assert stat.S_IMODE(fs.get("tmp").mode) == 0o1777
    assert stat.S_IMODE(fs.get("root").mode) == 0o700
    home = fs.get("home/nonroot")
    assert (stat.S_IMODE(home.mode), home.uid, home.gid) == (0o700, 65532, 65532)
    assert fs.has("usr/share/zoneinfo/Europe/Berlin") and fs.has("usr/share/zoneinfo/UTC")
    assert fs.has("etc/services") and fs.has("etc/mime.types") and fs.has("etc/os-release")
    for shell in ("bin/sh", "bin/bash", "bin/busybox", "busybox/sh", "usr/bin/sh"):
        assert not fs.has(shell), f"{ref} must have no shell, found /{shell}"
    with_libc = all(fs.has(p) for p in LIBC)
    if ref.startswith(BASE):
        assert with_libc, f"{ref} needs glibc ({', '.join(LIBC)})"
        assert any(name.startswith("usr/lib/x86_64-linux-gnu/libssl.so.3") for name in fs.members)
    else:
        assert not any(fs.has(p) for p in LIBC), f"{ref} must carry no libc"
    data["files"] = len(fs.members)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("ref", VARIANTS)
def test_ca_bundle_parses(ref: str, kit_image, filesystems: dict[str, Fs], tmp_path: Path) -> None:
    data = kit_image(ref, "kit-distroless-ca-bundle")
    bundle = tmp_path / "ca-certificates.crt"
    bundle.write_bytes(filesystems[ref].read("etc/ssl/certs/ca-certificates.crt"))
    ctx = ssl.create_default_context(cafile=str(bundle))
    count = ctx.cert_store_stats()["x509_ca"]
    assert count > 100, f"only {count} CA certificates in the bundle"
    data["ca_certificates"] = count


@pytest.mark.timeout(120)
@pytest.mark.parametrize("ref", VARIANTS)
def test_config(ref: str, kit_image) -> None:
    kit_image(ref, "kit-distroless-config")
    cfg = dk.inspect(dk.stored(ref))["Config"]
    env = dict(e.split("=", 1) for e in cfg.get("Env") or [])
    assert env.get("SSL_CERT_FILE") == "/etc/ssl/certs/ca-certificates.crt"
    assert env.get("PATH") == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    if ref.endswith(":nonroot"):
        assert (cfg.get("User"), cfg.get("WorkingDir")) == ("65532", "/home/nonroot")
    else:
        assert cfg.get("User") in ("", "0", "root") and cfg.get("WorkingDir") in ("", "/")
    assert not cfg.get("Entrypoint") and not cfg.get("Cmd")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("ref", VARIANTS)
def test_static_go_binary_runs(ref: str, kit_image, probes: dict[str, str]) -> None:
    data = kit_image(ref, "kit-distroless-go-binary")
    out = json.loads(_run_probe(probes[ref]).stdout)
    nonroot = ref.endswith(":nonroot")
    assert out["uid"] == (65532 if nonroot else 0)
    assert out["user"] == ("nonroot" if nonroot else "root")
    assert out["cwd"] == ("/home/nonroot" if nonroot else "/")
    assert out["ssl_cert_file"] == "/etc/ssl/certs/ca-certificates.crt"
    assert out["certs"] > 100 and not out["cert_error"], out
    assert out["tz"] == "Europe/Berlin"
    assert out["tmp_mode"] == "dtrwxrwxrwx" and out["tmp_writable"] is True
    data.update(uid=out["uid"], ca_certificates=out["certs"])


@pytest.mark.timeout(600)
@pytest.mark.parametrize("ref", VARIANTS)
def test_no_shell_and_libc_only_in_base(ref: str, kit_image, probes: dict[str, str]) -> None:
    data = kit_image(ref, "kit-distroless-no-shell")
    for shell in ("sh", "/bin/sh", "bash"):
        res = dk.run_once(dk.stored(ref), "-c", "true", extra=["--entrypoint", shell], check=False, timeout=60)
        assert res.returncode != 0, f"{ref} ran a shell ({shell})"
        assert "no such file or directory" in res.stderr or "not found" in res.stderr, res.stderr
    cgo = _run_probe(probes[ref], "/probe-cgo", check=False)
    if ref.startswith(BASE):
        assert cgo.returncode == 0 and json.loads(cgo.stdout)["cgo"] is True, cgo.stderr
    else:
        assert cgo.returncode != 0, "a glibc-linked binary must not run on the static image"
    data["cgo_binary_runs"] = cgo.returncode == 0


@pytest.mark.timeout(120)
@pytest.mark.parametrize("ref", DEBUG)
def test_debug_has_busybox_shell(ref: str, kit_image) -> None:
    data = kit_image(ref, "kit-distroless-debug")
    res = dk.run_once(dk.stored(ref), "-c", "id -u; echo $PATH; ls /etc/ssl/certs/ca-certificates.crt", timeout=60)
    uid, path, bundle = res.stdout.split()
    assert uid == ("65532" if ref.endswith("nonroot") else "0")
    assert path.endswith(":/busybox")
    assert bundle == "/etc/ssl/certs/ca-certificates.crt"
    assert dk.inspect(dk.stored(ref))["Config"]["Entrypoint"] == ["/busybox/sh"]
    data["uid"] = int(uid)
