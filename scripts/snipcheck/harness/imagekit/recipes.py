"""The recipe list: every base image the kit can produce, with the versions it pins.

Adding a base image: a Recipe here and its folder under scripts/imagekit/ (Dockerfile or mkrootfs.sh).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...model.paths import SCRIPTS

KIT = SCRIPTS / "imagekit"
RECIPE_LABEL = "io.snipcheck.recipe"
KIT_LABEL = "io.snipcheck.kit"
HOST_CA_LABEL = "io.snipcheck.host-ca"  # on images that trust the build host's own CAs: their file names
# The kit's images live under this registry-like prefix only: snipcheck.local/golang:1.26-trixie stands in
# for golang:1.26-trixie. The kit never creates, tags or moves an upstream name in the Docker store (it is
# the user's); builds get its images through BuildKit named contexts (docker_buildkit.build, the compose override).
KIT_PREFIX = "snipcheck.local/"
STANDIN_LABEL = "io.snipcheck.standin"
DESCRIPTION_LABEL = "org.opencontainers.image.description"
MODE_ENV = "SNIPCHECK_IMAGES"
MODES = ("auto", "local", "registry")
REGISTRY_PING = "https://registry-1.docker.io/v2/"
PING_TIMEOUT = 5.0

GO_VERSION = "1.26.11"
# sha256 of proxy.golang.org's golang.org/toolchain@v0.0.1-go1.26.11.linux-amd64.zip; the zip was
# checked against sum.golang.org (h1:KyINmJ/FQdKRmDYGuTAAXkumyeR2DyUlSNHZj7XaLFg=) with
# `go mod download -json golang.org/toolchain@v0.0.1-go1.26.11.linux-amd64`.
GO_ZIP_SHA256 = "e1edb778de0aa08c8e827f5a873b35a46afe680fb241482c531725b2355e470d"
BUILDKIT_VERSION = "v0.16.0"  # ships Dockerfile frontend 1.10.0; builds with Go 1.26
BUILDKIT_REVISION = "0865fcc9b78559e856e81dc52b3613701e7be28d"  # proxy .info Origin.Hash
FRONTEND_VERSION = "1.10.0"
DEBIAN_SUITE = "trixie"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBIAN_SECURITY = "http://deb.debian.org/debian-security"
PG_MAJOR = "17"
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
HOST_CA_ENV = "SNIPCHECK_KIT_HOST_CA"
STD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

DEBIAN = "debian:trixie-slim"
GOLANG = "golang:1.26-trixie"
DISTROLESS_STATIC = "gcr.io/distroless/static-debian13"
DISTROLESS_BASE = "gcr.io/distroless/base-debian13"
DISTROLESS_PKGS = ("base-files", "netbase", "tzdata", "tzdata-legacy", "media-types", "ca-certificates")


def familiar(ref: str) -> str:
    """A reference as Docker prints it: docker.io/library/golang:1.26 -> golang:1.26."""
    ref = ref.removeprefix("docker.io/")
    return ref.removeprefix("library/") if ref.count("/") == 1 and ref.startswith("library/") else ref


def local_name(ref: str) -> str:
    """The kit's name for the image that stands in for `ref`: snipcheck.local/<ref>, always with a tag."""
    ref = familiar(ref)
    if ":" not in ref.rsplit("/", 1)[-1]:
        ref += ":latest"
    return KIT_PREFIX + ref


@dataclass(frozen=True)
class Recipe:
    """How the kit produces one image (possibly under several tags)."""

    key: str  # unique name, also the value of io.snipcheck.kit
    refs: tuple[str, ...]  # upstream names it stands in for; stored as local_name(ref) (refs[0] built, rest tagged)
    directory: str  # under scripts/imagekit/
    parents: tuple[str, ...] = ()  # images the recipe builds FROM (all produced by the kit)
    args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    rootfs: bool = False  # debootstrap + docker import instead of a Dockerfile
    standin: str | None = None  # what a stand-in really is
    packages: tuple[str, ...] = ()  # Debian packages worth naming in the fidelity table
    differences: str = ""
    upstream_size: str = ""  # approximate uncompressed linux/amd64 size upstream
    lane: str = "debian"  # recipes in different lanes may build at the same time
    host_ca: bool = False  # gets the host-local CAs as build context `hostca`

    @property
    def kind(self) -> str:
        return "standin" if self.standin else "local"

    @property
    def images(self) -> tuple[str, ...]:
        """Its names in the Docker store (snipcheck.local/...), in the order of refs."""
        return tuple(local_name(ref) for ref in self.refs)


def _distroless(key: str, ref: str, target: str, extra: tuple[str, ...], diff: str, size: str) -> Recipe:
    return Recipe(
        key,
        (ref,),
        "distroless",
        parents=(DEBIAN,),
        target=target,
        packages=DISTROLESS_PKGS + extra,
        differences=diff,
        upstream_size=size,
    )


_DL_DIFF = (
    "Package versions are today's Debian trixie (upstream: its last rebuild); "
    "assembled with dpkg-deb instead of Bazel rules_distroless"
)

RECIPES: tuple[Recipe, ...] = (
    Recipe(
        "debian-trixie-slim",
        (DEBIAN,),
        "debian",
        rootfs=True,
        args={"SUITE": DEBIAN_SUITE, "MIRROR": DEBIAN_MIRROR, "SECURITY": DEBIAN_SECURITY},
        differences=(
            "debootstrap --variant=minbase + debuerreotype-style minimizing/slimify "
            "on today's archive (upstream: debuerreotype from a snapshot.debian.org "
            "timestamp, reproducible); not bit-identical"
        ),
        upstream_size="~75 MB",
    ),
    Recipe(
        "golang",
        (GOLANG, "golang:1.26"),
        "golang",
        parents=(DEBIAN,),
        args={"GO_VERSION": GO_VERSION, "GO_ZIP_SHA256": GO_ZIP_SHA256},
        packages=("git", "gcc", "g++", "libc6-dev", "make", "pkg-config", "curl"),
        lane="go",
        host_ca=True,
        differences=(
            "Go from the module proxy's golang.org/toolchain zip (same binaries as "
            "go.dev/dl's tarball); buildpack-deps layers squashed into two RUNs; "
            "upstream's plain `golang:1.26` was the trixie variant and is no longer updated "
            "since Go 1.27 (docker-library/official-images 13110bd), the kit stores its "
            "trixie build under both names (the snippets pin -trixie); host-local CAs (if the "
            "host has any in /usr/local/share/ca-certificates: a TLS-inspecting egress "
            "proxy's) added as a last layer and named in the label io.snipcheck.host-ca; "
            "GOGC=400 in the environment (upstream sets none): the compiler collects "
            "garbage less often in every builder stage (same output), and programs started "
            "from the image itself inherit it"
        ),
        upstream_size="~0.8-0.9 GB",
    ),
    _distroless("distroless-static", f"{DISTROLESS_STATIC}:latest", "static", (), _DL_DIFF, "~2 MB"),
    _distroless("distroless-static-nonroot", f"{DISTROLESS_STATIC}:nonroot", "static-nonroot", (), _DL_DIFF, "~2 MB"),
    _distroless(
        "distroless-static-debug",
        f"{DISTROLESS_STATIC}:debug",
        "static-debug",
        ("busybox-static",),
        _DL_DIFF + "; busybox is Debian's busybox-static",
        "~3.5 MB",
    ),
    _distroless(
        "distroless-static-debug-nonroot",
        f"{DISTROLESS_STATIC}:debug-nonroot",
        "static-debug-nonroot",
        ("busybox-static",),
        _DL_DIFF + "; busybox is Debian's busybox-static",
        "~3.5 MB",
    ),
    _distroless("distroless-base", f"{DISTROLESS_BASE}:latest", "base", ("libc6", "libssl3t64"), _DL_DIFF, "~20 MB"),
    _distroless(
        "distroless-base-nonroot",
        f"{DISTROLESS_BASE}:nonroot",
        "base-nonroot",
        ("libc6", "libssl3t64"),
        _DL_DIFF,
        "~20 MB",
    ),
    Recipe(
        "dockerfile-frontend",
        ("docker/dockerfile:1", "docker/dockerfile:1.10", f"docker/dockerfile:{FRONTEND_VERSION}"),
        "dockerfile-frontend",
        parents=(GOLANG,),
        lane="go",
        args={
            "BUILDKIT_VERSION": BUILDKIT_VERSION,
            "BUILDKIT_REVISION": BUILDKIT_REVISION,
            "FRONTEND_VERSION": FRONTEND_VERSION,
        },
        differences=(
            f"pinned to frontend {FRONTEND_VERSION} (buildkit {BUILDKIT_VERSION}); "
            "upstream's :1 floats to the newest 1.x; built with Go "
            f"{GO_VERSION} instead of upstream's Go; dependencies from the module proxy at "
            "buildkit's go.mod versions (upstream: its vendor/ tree, same versions)"
        ),
        upstream_size="~25-35 MB",
    ),
    Recipe(
        "postgres-standin",
        ("postgres:16-alpine",),
        "postgres",
        parents=(DEBIAN,),
        args={"PG_MAJOR": PG_MAJOR},
        standin=f"PostgreSQL {PG_MAJOR} from Debian trixie (postgresql-{PG_MAJOR}) on "
        "debian:trixie-slim with an entrypoint honouring the official image's "
        "interface; not postgres:16-alpine",
        packages=(f"postgresql-{PG_MAJOR}", "gosu"),
        differences=(
            f"PostgreSQL {PG_MAJOR}, not 16; glibc Debian userland, not Alpine/musl; "
            "uid/gid 70 like the Alpine image; entrypoint reimplements the documented "
            "interface only (no POSTGRES_INITDB_WALDIR, no *.sql.xz/zst, no docker_* "
            "shell functions for sourced scripts)"
        ),
        upstream_size="~0.25-0.28 GB",
    ),
    Recipe(
        "redis-standin",
        ("redis:7-alpine",),
        "redis",
        parents=(DEBIAN,),
        standin=(
            "Redis 8.0 from Debian trixie (redis-server) on debian:trixie-slim "
            "with an entrypoint modelled on the official image's; not redis:7-alpine"
        ),
        packages=("redis-server", "redis-tools", "gosu"),
        differences=(
            "Redis 8.0.x (Debian trixie), not 7: upstream 7-alpine tracks the newest 7.x; "
            "glibc Debian userland, not Alpine/musl; protected mode switched off by "
            "the entrypoint instead of at compile time; uid/gid 999/1000 like upstream"
        ),
        upstream_size="~40-45 MB",
    ),
)

BY_REF: dict[str, Recipe] = {ref: r for r in RECIPES for ref in r.refs}
# gcr.io/distroless/...-debian13 without a tag means :latest
BY_REF.update({ref.removesuffix(":latest"): r for r in RECIPES for ref in r.refs if ref.endswith(":latest")})


def recipe_for(ref: str) -> Recipe | None:
    """The recipe standing in for `ref` (docker.io/library/ spellings included), or None."""
    return BY_REF.get(familiar(ref))
