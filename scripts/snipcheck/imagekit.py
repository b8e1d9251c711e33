"""The base-image kit: the images the snippets build FROM, with or without a registry.

Mode (env SNIPCHECK_IMAGES): `registry` pulls the real images, `local` rebuilds them from the
recipes in scripts/imagekit/, `auto` (default) uses the registry when it answers within a few
seconds and the kit otherwise. Every image gets an `ImageSource` that says where it came from:
a registry digest, a local rebuild (with its recipe hash), a stand-in (and what it really is),
or unavailable (and why). Kit images carry the label `io.snipcheck.recipe` (sha256 of the
recipe: Dockerfile, files, versions and the ids of the images it builds FROM) and are rebuilt
only when that hash changes.

CLI: python -m snipcheck.imagekit ensure-all | ensure REF... | table | mode   [--rebuild]
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import docker, proc
from .paths import BUILD, SCRIPTS, rel

KIT = SCRIPTS / "imagekit"
RECIPE_LABEL = "io.snipcheck.recipe"
KIT_LABEL = "io.snipcheck.kit"
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
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBIAN_SECURITY = "http://deb.debian.org/debian-security"
PG_MAJOR = "15"
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
HOST_CA_ENV = "SNIPCHECK_KIT_HOST_CA"
STD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

DEBIAN = "debian:bookworm-slim"
GOLANG = "golang:1.26-bookworm"
DISTROLESS_STATIC = "gcr.io/distroless/static-debian12"
DISTROLESS_BASE = "gcr.io/distroless/base-debian12"
DISTROLESS_PKGS = ("base-files", "netbase", "tzdata", "media-types", "ca-certificates")


@dataclass(frozen=True)
class Recipe:
    """How the kit produces one image (possibly under several tags)."""

    key: str                      # unique name, also the value of io.snipcheck.kit
    refs: tuple[str, ...]         # tags produced; refs[0] is built, the rest are tagged
    directory: str                # under scripts/imagekit/
    parents: tuple[str, ...] = ()  # images the recipe builds FROM (all produced by the kit)
    args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    rootfs: bool = False          # debootstrap + docker import instead of a Dockerfile
    standin: str | None = None    # what a stand-in really is
    packages: tuple[str, ...] = ()  # Debian packages worth naming in the fidelity table
    differences: str = ""
    upstream_size: str = ""       # approximate uncompressed linux/amd64 size upstream
    lane: str = "debian"          # recipes in different lanes may build at the same time
    host_ca: bool = False         # gets the host-local CAs as build context `hostca`

    @property
    def kind(self) -> str:
        return "standin" if self.standin else "local"


def _distroless(key: str, ref: str, target: str, extra: tuple[str, ...], diff: str,
                size: str) -> Recipe:
    return Recipe(key, (ref,), "distroless", parents=(DEBIAN,), target=target,
                  packages=DISTROLESS_PKGS + extra, differences=diff, upstream_size=size)


_DL_DIFF = ("Package versions are today's Debian bookworm (upstream: its last rebuild); "
            "assembled with dpkg-deb instead of Bazel rules_distroless")

RECIPES: tuple[Recipe, ...] = (
    Recipe("debian-bookworm-slim", (DEBIAN,), "debian", rootfs=True,
           args={"SUITE": DEBIAN_SUITE, "MIRROR": DEBIAN_MIRROR, "SECURITY": DEBIAN_SECURITY},
           differences=("debootstrap --variant=minbase + debuerreotype-style minimizing/slimify "
                        "on today's archive (upstream: debuerreotype from a snapshot.debian.org "
                        "timestamp, reproducible); not bit-identical"),
           upstream_size="~75 MB"),
    Recipe("golang", (GOLANG, "golang:1.26"), "golang", parents=(DEBIAN,),
           args={"GO_VERSION": GO_VERSION, "GO_ZIP_SHA256": GO_ZIP_SHA256},
           packages=("git", "gcc", "g++", "libc6-dev", "make", "pkg-config", "curl"),
           lane="go", host_ca=True,
           differences=("Go from the module proxy's golang.org/toolchain zip (same binaries as "
                        "go.dev/dl's tarball); buildpack-deps layers squashed into two RUNs; "
                        "upstream's plain `golang:1.26` most likely points at the trixie variant "
                        "since Debian 13's release, the kit tags its bookworm build under both "
                        "names (project decision; snippets pin -bookworm); host-local CAs (if the "
                        "host has any in /usr/local/share/ca-certificates) added as a last layer"),
           upstream_size="~0.8-0.9 GB"),
    _distroless("distroless-static", f"{DISTROLESS_STATIC}:latest", "static", (), _DL_DIFF,
                "~2 MB"),
    _distroless("distroless-static-nonroot", f"{DISTROLESS_STATIC}:nonroot", "static-nonroot",
                (), _DL_DIFF, "~2 MB"),
    _distroless("distroless-static-debug", f"{DISTROLESS_STATIC}:debug", "static-debug",
                ("busybox-static",), _DL_DIFF + "; busybox is Debian's busybox-static",
                "~3.5 MB"),
    _distroless("distroless-static-debug-nonroot", f"{DISTROLESS_STATIC}:debug-nonroot",
                "static-debug-nonroot", ("busybox-static",),
                _DL_DIFF + "; busybox is Debian's busybox-static", "~3.5 MB"),
    _distroless("distroless-base", f"{DISTROLESS_BASE}:latest", "base", ("libc6", "libssl3"),
                _DL_DIFF, "~20 MB"),
    _distroless("distroless-base-nonroot", f"{DISTROLESS_BASE}:nonroot", "base-nonroot",
                ("libc6", "libssl3"), _DL_DIFF, "~20 MB"),
    Recipe("dockerfile-frontend",
           ("docker/dockerfile:1", "docker/dockerfile:1.10", f"docker/dockerfile:{FRONTEND_VERSION}"),
           "dockerfile-frontend", parents=(GOLANG,), lane="go",
           args={"BUILDKIT_VERSION": BUILDKIT_VERSION, "BUILDKIT_REVISION": BUILDKIT_REVISION,
                 "FRONTEND_VERSION": FRONTEND_VERSION},
           differences=(f"pinned to frontend {FRONTEND_VERSION} (buildkit {BUILDKIT_VERSION}); "
                        "upstream's :1 floats to the newest 1.x; built with Go "
                        f"{GO_VERSION} instead of upstream's Go; dependencies from the module proxy at "
                        "buildkit's go.mod versions (upstream: its vendor/ tree, same versions)"),
           upstream_size="~25-35 MB"),
    Recipe("postgres-standin", ("postgres:16-alpine",), "postgres", parents=(DEBIAN,),
           args={"PG_MAJOR": PG_MAJOR},
           standin=f"PostgreSQL {PG_MAJOR} from Debian bookworm (postgresql-{PG_MAJOR}) on "
                   "debian:bookworm-slim with an entrypoint honouring the official image's "
                   "interface; not postgres:16-alpine",
           packages=(f"postgresql-{PG_MAJOR}", "gosu"),
           differences=(f"PostgreSQL {PG_MAJOR}, not 16; glibc Debian userland, not Alpine/musl; "
                        "uid/gid 70 like the Alpine image; entrypoint reimplements the documented "
                        "interface only (no POSTGRES_INITDB_WALDIR, no *.sql.xz/zst, no docker_* "
                        "shell functions for sourced scripts)"),
           upstream_size="~0.25-0.28 GB"),
    Recipe("redis-standin", ("redis:7-alpine",), "redis", parents=(DEBIAN,),
           standin=("Redis 7.0 from Debian bookworm (redis-server) on debian:bookworm-slim "
                    "with an entrypoint modelled on the official image's; not redis:7-alpine"),
           packages=("redis-server", "redis-tools", "gosu"),
           differences=("Redis 7.0.x (Debian), upstream 7-alpine tracks the newest 7.x; "
                        "glibc Debian userland, not Alpine/musl; protected mode switched off by "
                        "the entrypoint instead of at compile time; uid/gid 999/1000 like upstream"),
           upstream_size="~40-45 MB"),
)

BY_REF: dict[str, Recipe] = {ref: r for r in RECIPES for ref in r.refs}
# gcr.io/distroless/...-debian12 without a tag means :latest
BY_REF.update({ref.removesuffix(":latest"): r for r in RECIPES for ref in r.refs
               if ref.endswith(":latest")})


@dataclass
class ImageSource:
    """Where an image came from: registry | local | standin | unavailable."""

    ref: str
    kind: str
    detail: str = ""       # registry digest, or recipe hash for local/standin
    what: str = ""         # for stand-ins: what the image really is
    reason: str = ""       # for unavailable: why
    seconds: float = 0.0
    built: bool = False    # built (or pulled) during this call

    @property
    def available(self) -> bool:
        return self.kind != "unavailable"

    def describe(self) -> str:
        if self.kind == "registry":
            return f"registry {self.detail}"
        if self.kind == "local":
            return f"local rebuild (recipe {self.detail[:12]})"
        if self.kind == "standin":
            return f"stand-in (recipe {self.detail[:12]}): {self.what}"
        return f"unavailable: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {"ref": self.ref, "kind": self.kind, "detail": self.detail, "what": self.what,
                "reason": self.reason, "seconds": round(self.seconds, 1), "built": self.built}


# --------------------------------------------------------------------------- mode

_mode_cache: str | None = None


def registry_reachable(timeout: float = PING_TIMEOUT) -> bool:
    """True when Docker Hub's registry answers (any HTTP status, e.g. 401) within timeout."""
    try:
        urllib.request.urlopen(REGISTRY_PING, timeout=timeout)  # noqa: S310 - fixed https URL
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
    return True


def requested_mode() -> str:
    mode = os.environ.get(MODE_ENV, "auto").strip().lower() or "auto"
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV}={mode!r}: expected one of {', '.join(MODES)}")
    return mode


def mode() -> str:
    """The effective mode: `registry` or `local` (auto resolved once per process)."""
    global _mode_cache
    if _mode_cache is None:
        requested = requested_mode()
        if requested == "auto":
            requested = "registry" if registry_reachable() else "local"
        _mode_cache = requested
    return _mode_cache


# --------------------------------------------------------------------------- recipes

def _log(msg: str) -> None:
    print(f"[imagekit] {msg}", file=sys.stderr, flush=True)


def image_id(ref: str) -> str | None:
    res = docker.docker("image", "inspect", "--format", "{{.Id}}", ref, timeout=30, check=False)
    return res.stdout.strip() if res.returncode == 0 else None


def recipe_hash(recipe: Recipe) -> str:
    """sha256 over the recipe's files, versions, target and the ids of its FROM images."""
    directory = KIT / recipe.directory
    files = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = path.read_bytes()
        files[path.relative_to(directory).as_posix()] = {
            "sha256": hashlib.sha256(data).hexdigest(), "exec": os.access(path, os.X_OK)}
    parents = {}
    for parent in recipe.parents:
        pid = image_id(parent)
        if pid is None:
            raise RuntimeError(f"{recipe.key}: parent image {parent} is missing")
        parents[parent] = pid
    doc = {"recipe": recipe.key, "files": files, "args": recipe.args, "target": recipe.target,
           "parents": parents, "standin": recipe.standin}
    if recipe.host_ca:
        doc["host_ca"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in host_local_cas()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _labels(recipe: Recipe, digest: str) -> dict[str, str]:
    labels = {RECIPE_LABEL: digest, KIT_LABEL: recipe.key}
    if recipe.standin:
        labels[STANDIN_LABEL] = "true"
        labels[DESCRIPTION_LABEL] = recipe.standin
    return labels


def _build_rootfs(recipe: Recipe, digest: str) -> None:
    # the root filesystem is made on the host (debootstrap needs no base image), then imported
    script = KIT / recipe.directory / "mkrootfs.sh"
    with tempfile.TemporaryDirectory(prefix="snipcheck-kit-") as tmp:
        tar = Path(tmp) / "rootfs.tar"
        cmd = ["bash", str(script), recipe.args["SUITE"], recipe.args["MIRROR"],
               recipe.args["SECURITY"], str(tar)]
        res = proc.run(cmd, timeout=900)
        if res.returncode != 0:
            raise RuntimeError(f"{rel(script)} failed ({res.returncode}):\n{proc.tail(res.stderr, 40)}")
        changes = ['CMD ["bash"]', f"ENV PATH={STD_PATH}"]
        changes += [f"LABEL {k}={v}" for k, v in _labels(recipe, digest).items()]
        docker.import_tar(tar, recipe.refs[0], changes)


def host_ca_bundle() -> Path | None:
    """The host's CA bundle, offered to kit builds as secret `host-ca`.

    Behind a TLS-inspecting egress proxy the proxy's CA is only in the host's bundle; the
    recipes mount it for their HTTPS download steps and never store it in an image.
    """
    for candidate in (os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def host_local_cas() -> list[Path]:
    """The host's locally added CA certificates (/usr/local/share/ca-certificates/**/*.crt).

    Recipes with `host_ca` install them (golang: so snippet builds can download modules
    behind a TLS-inspecting egress proxy). Empty on ordinary machines and CI runners;
    SNIPCHECK_KIT_HOST_CA=0 turns it off.
    """
    if os.environ.get(HOST_CA_ENV, "1") == "0" or not HOST_CA_DIR.is_dir():
        return []
    return sorted(p for p in HOST_CA_DIR.rglob("*.crt") if p.is_file())


def _build_dockerfile(recipe: Recipe, digest: str, no_cache: bool = False) -> None:
    directory = KIT / recipe.directory
    ca = host_ca_bundle()
    with tempfile.TemporaryDirectory(prefix="snipcheck-kit-ca-") as tmp:
        contexts = {}
        if recipe.host_ca:
            for i, cert in enumerate(host_local_cas()):
                (Path(tmp) / f"host-{i:02d}-{cert.name}").write_bytes(cert.read_bytes())
            contexts["hostca"] = tmp
        docker.build(directory, recipe.refs[0], dockerfile=directory / "Dockerfile",
                     build_args=recipe.args, target=recipe.target, no_cache=no_cache,
                     secrets=[f"id=host-ca,src={ca}"] if ca else [], build_contexts=contexts,
                     labels=_labels(recipe, digest), run_label=False, timeout=1800)


@dataclass
class _Pass:
    """State of one ensure() call: results per recipe, and directories already rebuilt."""

    rebuild: bool = False
    done: dict[str, ImageSource] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)


def _ensure_recipe(recipe: Recipe, ps: _Pass) -> ImageSource:
    """Build (if its hash changed, or on rebuild) and tag one recipe, parents first."""
    done = ps.done
    if recipe.key in done:
        return done[recipe.key]
    for parent in recipe.parents:
        src = _ensure_recipe(BY_REF[parent], ps)
        if not src.available:
            res = ImageSource(recipe.refs[0], "unavailable",
                              reason=f"parent {parent} unavailable: {src.reason}")
            done[recipe.key] = res
            return res
    start = time.monotonic()
    built = False
    try:
        digest = recipe_hash(recipe)
        current = [docker.image_label(ref, RECIPE_LABEL) for ref in recipe.refs]
        if current[0] != digest or ps.rebuild:
            _log(f"building {recipe.refs[0]} from {rel(KIT / recipe.directory)} "
                 f"(recipe {digest[:12]}, had {(current[0] or 'none')[:12]})")
            if recipe.rootfs:
                _build_rootfs(recipe, digest)
            else:
                # on rebuild, skip the layer cache once per directory (targets share stages)
                no_cache = ps.rebuild and recipe.directory not in ps.fresh
                ps.fresh.add(recipe.directory)
                _build_dockerfile(recipe, digest, no_cache=no_cache)
            built = True
        for ref, label in zip(recipe.refs[1:], current[1:], strict=True):
            if built or label != digest:
                docker.docker("tag", recipe.refs[0], ref, timeout=60)
    except (docker.DockerError, RuntimeError, OSError) as exc:
        res = ImageSource(recipe.refs[0], "unavailable", reason=f"kit build failed: {exc}",
                          seconds=time.monotonic() - start)
        done[recipe.key] = res
        return res
    res = ImageSource(recipe.refs[0], recipe.kind, detail=digest, what=recipe.standin or "",
                      seconds=time.monotonic() - start, built=built)
    done[recipe.key] = res
    return res


def _registry_cached(ref: str) -> ImageSource | None:
    """An upstream image already in the local store (pulled earlier, not made by the kit)."""
    try:
        info = docker.inspect(ref)
    except docker.DockerError:
        return None
    labels = (info.get("Config") or {}).get("Labels") or {}
    digests = info.get("RepoDigests") or []
    if RECIPE_LABEL in labels or not digests:
        return None
    return ImageSource(ref, "registry", detail=digests[0])


def _pull(ref: str) -> ImageSource:
    start = time.monotonic()
    res = docker.docker("pull", ref, timeout=900, check=False)
    if res.returncode != 0:
        return ImageSource(ref, "unavailable", seconds=time.monotonic() - start,
                           reason="docker pull failed: " + res.stderr.strip()[-300:])
    cached = _registry_cached(ref)
    detail = cached.detail if cached else ""
    return ImageSource(ref, "registry", detail=detail, seconds=time.monotonic() - start,
                       built=True)


def _unavailable_reason(ref: str) -> str:
    if "alpine" in ref.split(":")[-1] or ref.split(":")[0].endswith("alpine"):
        return ("needs registry: Alpine userland is never faked offline "
                "(apk cannot reach its repositories)")
    return "needs registry: not produced by the image kit (scripts/imagekit)"


@contextlib.contextmanager
def _kit_lock() -> Iterator[None]:
    """One kit build at a time on this machine (tests and helpers may call ensure in parallel)."""
    BUILD.mkdir(parents=True, exist_ok=True)
    with (BUILD / ".imagekit.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure(refs: list[str], *, rebuild: bool = False) -> dict[str, ImageSource]:
    """Make every ref available locally (pull or kit build); say where each came from.

    `rebuild` rebuilds kit images from scratch (no layer cache) even when up to date.
    """
    with _kit_lock():
        return _ensure(refs, rebuild)


def _closure(recipes: list[Recipe]) -> list[Recipe]:
    """The recipes and their ancestors, parents before children, in RECIPES order."""
    keys: set[str] = set()
    todo = list(recipes)
    while todo:
        r = todo.pop()
        if r.key not in keys:
            keys.add(r.key)
            todo += [BY_REF[p] for p in r.parents]
    return [r for r in RECIPES if r.key in keys]


def _prebuild(recipes: list[Recipe], ps: _Pass) -> None:
    """Roots first, then two lanes at once: the Go chain and everything else.

    The lanes are mostly network- and disk-bound (apt, module downloads), so two at a time
    shortens a cold build on a 2-core machine without starving it.
    """
    needed = _closure(recipes)
    for recipe in needed:
        if not recipe.parents:
            _ensure_recipe(recipe, ps)
    lanes: dict[str, list[Recipe]] = {}
    for recipe in needed:
        if recipe.parents:
            lanes.setdefault(recipe.lane, []).append(recipe)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(lambda rs=rs: [_ensure_recipe(r, ps) for r in rs])
                   for rs in lanes.values()]
        for fut in futures:
            fut.result()


def _ensure(refs: list[str], rebuild: bool) -> dict[str, ImageSource]:
    effective = mode()
    out: dict[str, ImageSource] = {}
    ps = _Pass(rebuild=rebuild)
    if effective == "local":
        _prebuild([BY_REF[r] for r in refs if r in BY_REF], ps)
    for ref in refs:
        if ref in out:
            continue
        recipe = BY_REF.get(ref)
        if effective == "registry":
            src = _pull(ref)
            if not src.available and requested_mode() == "auto" and recipe is not None:
                _log(f"pull of {ref} failed, falling back to the kit: {src.reason}")
                src = _ensure_recipe(recipe, ps)
        elif recipe is not None:
            src = _ensure_recipe(recipe, ps)
            if recipe.refs[0] != ref:
                src = ImageSource(ref, src.kind, src.detail, src.what, src.reason, src.seconds,
                                  src.built)
                if src.available and not docker.image_exists(ref):
                    docker.docker("tag", recipe.refs[0], ref, timeout=60)
        else:
            src = _registry_cached(ref) or ImageSource(ref, "unavailable",
                                                       reason=_unavailable_reason(ref))
        out[ref] = src
    return out


def all_refs() -> list[str]:
    return [ref for recipe in RECIPES for ref in recipe.refs]


def source_of(ref: str) -> ImageSource:
    """Where an image already in the local store came from (no build, no pull)."""
    cached = _registry_cached(ref)
    if cached:
        return cached
    try:
        labels = (docker.inspect(ref).get("Config") or {}).get("Labels") or {}
    except docker.DockerError:
        return ImageSource(ref, "unavailable", reason="not in the local image store")
    if RECIPE_LABEL not in labels:
        return ImageSource(ref, "unavailable", reason="in the store but of unknown origin")
    kind = "standin" if labels.get(STANDIN_LABEL) == "true" else "local"
    return ImageSource(ref, kind, detail=labels[RECIPE_LABEL],
                       what=labels.get(DESCRIPTION_LABEL, "") if kind == "standin" else "")


# --------------------------------------------------------------------------- fidelity table

def _dpkg_versions(ref: str, packages: tuple[str, ...]) -> dict[str, str]:
    """Package versions inside an image: dpkg-query where there is one, else status.d."""
    if not packages:
        return {}
    info = docker.inspect(ref)
    has_shell = not (info.get("Config") or {}).get("User") and ref.split("/")[0] != "gcr.io"
    if has_shell:
        res = docker.run_once(ref, "-W", "-f", "${Package}=${Version}\\n", *packages,
                              extra=["--entrypoint", "dpkg-query"], check=False, timeout=120)
        pairs = [line.split("=", 1) for line in res.stdout.splitlines() if "=" in line]
        return {k: v for k, v in pairs}
    versions: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="snipcheck-kit-") as tmp:
        tar_path = docker.export_fs(ref, Path(tmp) / "fs.tar")
        with tarfile.open(tar_path) as tar:
            for member in tar.getmembers():
                name = member.name.lstrip("./")
                if name.startswith("var/lib/dpkg/status.d/") and member.isfile():
                    fh = tar.extractfile(member)
                    text = fh.read().decode() if fh else ""
                    fields = dict(line.split(": ", 1) for line in text.splitlines()
                                  if ": " in line and not line.startswith(" "))
                    versions[fields.get("Package", name.rsplit("/", 1)[-1])] = \
                        fields.get("Version", "?")
    return {p: versions.get(p, "?") for p in packages}


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size < 1e9 else f"{size / 1e9:.2f} GB"


def _ingredients(recipe: Recipe, ref: str) -> str:
    parts = []
    if recipe.rootfs:
        parts.append(f"debootstrap --variant=minbase {recipe.args['SUITE']} "
                     f"({recipe.args['MIRROR']} + security updates)")
    if recipe.key == "golang":
        parts.append(f"Go {GO_VERSION} (golang.org/toolchain module zip, sha256 "
                     f"{GO_ZIP_SHA256[:12]}...)")
    if recipe.host_ca:
        cas = host_local_cas()
        parts.append("host-local CAs added: " + (", ".join(p.name for p in cas) if cas else "none"))
    if recipe.key == "dockerfile-frontend":
        parts.append(f"github.com/moby/buildkit {BUILDKIT_VERSION} "
                     f"(frontend {FRONTEND_VERSION}), CGO_ENABLED=0, tags netgo static_build "
                     f"osusergo, Go {GO_VERSION}")
    versions = _dpkg_versions(ref, recipe.packages)
    parts += [f"{k} {v}" for k, v in versions.items()]
    return "; ".join(parts)


def table() -> str:
    """Markdown fidelity table of the kit images present in the local store."""
    lines = [
        "# Base-image kit: fidelity table",
        "",
        f"Generated by `python -m snipcheck.imagekit table` (mode: {mode()}). Sizes are the "
        "local store's uncompressed sizes; upstream sizes are approximate linux/amd64 figures "
        "for comparison, not measured here.",
        "",
        "| image | source | ingredients & versions | size (local / upstream) | known differences |",
        "| --- | --- | --- | --- | --- |",
    ]
    for recipe in RECIPES:
        ref = recipe.refs[0]
        src = source_of(ref)
        aliases = ", ".join(f"`{r}`" for r in recipe.refs[1:])
        name = f"`{ref}`" + (f" (also {aliases})" if aliases else "")
        if not src.available:
            lines.append(f"| {name} | {src.describe()} | | | |")
            continue
        size = _mb(docker.image_size(ref))
        if src.kind == "registry":
            lines.append(f"| {name} | registry `{src.detail}` | upstream | {size} | none |")
            continue
        source = ("stand-in: " + (recipe.standin or "")) if src.kind == "standin" \
            else f"local rebuild, recipe `{src.detail[:12]}`"
        cell = _ingredients(recipe, ref).replace("|", "\\|")
        lines.append(f"| {name} | {source} | {cell} | {size} / {recipe.upstream_size} | "
                     f"{recipe.differences} |")
    lines += ["", "Never faked (need a registry): Alpine images other than the two stand-ins, "
              "e.g. `golang:1.26-alpine`, `alpine:3.20`.", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI

def _cli_ensure(refs: list[str], rebuild: bool = False) -> int:
    problem = docker.engine_problem()
    if problem:
        print(f"imagekit: {problem}", file=sys.stderr)
        return 2
    start = time.monotonic()
    print(f"imagekit: mode {mode()} ({MODE_ENV}={requested_mode()}); {len(refs)} image(s)")
    sources = ensure(refs, rebuild=rebuild)
    failed = 0
    for ref, src in sources.items():
        action = "built" if src.built and src.kind != "registry" else \
            "pulled" if src.built else "up to date"
        if not src.available:
            action = "FAILED"
            failed += 1
        print(f"  {ref:48s} {src.seconds:7.1f}s  {action:10s} {src.describe()}")
    print(f"imagekit: done in {time.monotonic() - start:.1f}s wall, {failed} unavailable")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    rebuild = "--rebuild" in argv
    argv = [a for a in argv if a != "--rebuild"]
    cmd = argv[0] if argv else "ensure-all"
    if cmd == "ensure-all":
        return _cli_ensure(all_refs(), rebuild)
    if cmd == "ensure":
        return _cli_ensure(argv[1:], rebuild)
    if cmd == "table":
        print(table())
        return 0
    if cmd == "mode":
        print(mode())
        return 0
    print("usage: python -m snipcheck.imagekit [ensure-all | ensure REF... | table | mode] [--rebuild]",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())


# --------------------------------------------------------------------------- other platforms

# Images whose files are architecture-independent data (no executables): a copy of the local amd64
# build, re-labelled for another platform, is the same image upstream publishes for that platform.
DATA_ONLY = ("gcr.io/distroless/static-debian12",)


def platform_variant(ref: str, platform: str) -> str | None:
    """A local tag holding `ref` for `platform`, for `--build-context REF=docker-image://TAG`.

    None when nothing is needed (registry mode, or the native platform); raises ValueError for an
    image that contains executables (it would need a real build for that architecture).
    """
    if platform in ("linux/amd64", "") or mode() == "registry":
        return None
    name = ref.split(":")[0]
    if name not in DATA_ONLY or ":debug" in ref:
        raise ValueError(f"{ref} holds executables; no {platform} variant can be made without a registry")
    ensure([ref])
    arch = platform.split("/")[1]
    tag = f"snipcheck-kit/{name.rsplit('/', 1)[1]}:{ref.partition(':')[2] or 'latest'}-{arch}"
    recipe = image_id(ref) or ""
    if image_id(tag) and docker.image_label(tag, "io.snipcheck.recipe-of") == recipe:
        return tag
    cfg = docker.inspect(ref)["Config"]
    changes = [f"ENV {e}" for e in cfg.get("Env") or []]
    if cfg.get("User"):
        changes.append(f"USER {cfg['User']}")
    if cfg.get("WorkingDir"):
        changes.append(f"WORKDIR {cfg['WorkingDir']}")
    changes.append(f'LABEL io.snipcheck.recipe-of="{recipe}" io.snipcheck.platform-copy="{platform}"')
    with tempfile.TemporaryDirectory(prefix="snipcheck-kit-") as tmp:
        docker.import_tar(docker.export_fs(ref, Path(tmp) / "fs.tar"), tag, changes, platform=platform)
    _log(f"{tag}: {ref} re-labelled for {platform} (data-only image)")
    return tag
