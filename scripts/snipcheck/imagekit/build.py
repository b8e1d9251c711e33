"""Building and caching kit images: recipe hashes, the build lock, registry pulls, `ensure`."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import docker, proc
from ..paths import BUILD, rel
from .recipes import (
    BY_REF,
    DESCRIPTION_LABEL,
    HOST_CA_DIR,
    HOST_CA_ENV,
    KIT,
    KIT_LABEL,
    RECIPE_LABEL,
    RECIPES,
    STANDIN_LABEL,
    STD_PATH,
    Recipe,
)
from .source import ImageSource, mode, requested_mode


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
            "sha256": hashlib.sha256(data).hexdigest(),
            "exec": os.access(path, os.X_OK),
        }
    parents = {}
    for parent in recipe.parents:
        pid = image_id(parent)
        if pid is None:
            raise RuntimeError(f"{recipe.key}: parent image {parent} is missing")
        parents[parent] = pid
    doc = {
        "recipe": recipe.key,
        "files": files,
        "args": recipe.args,
        "target": recipe.target,
        "parents": parents,
        "standin": recipe.standin,
    }
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
        cmd = ["bash", str(script), recipe.args["SUITE"], recipe.args["MIRROR"], recipe.args["SECURITY"], str(tar)]
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
        docker.build(
            directory,
            recipe.refs[0],
            dockerfile=directory / "Dockerfile",
            build_args=recipe.args,
            target=recipe.target,
            no_cache=no_cache,
            secrets=[f"id=host-ca,src={ca}"] if ca else [],
            build_contexts=contexts,
            labels=_labels(recipe, digest),
            run_label=False,
            timeout=1800,
        )


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
            res = ImageSource(recipe.refs[0], "unavailable", reason=f"parent {parent} unavailable: {src.reason}")
            done[recipe.key] = res
            return res
    start = time.monotonic()
    built = False
    try:
        digest = recipe_hash(recipe)
        current = [docker.image_label(ref, RECIPE_LABEL) for ref in recipe.refs]
        if current[0] != digest or ps.rebuild:
            _log(
                f"building {recipe.refs[0]} from {rel(KIT / recipe.directory)} "
                f"(recipe {digest[:12]}, had {(current[0] or 'none')[:12]})"
            )
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
        res = ImageSource(
            recipe.refs[0], "unavailable", reason=f"kit build failed: {exc}", seconds=time.monotonic() - start
        )
        done[recipe.key] = res
        return res
    res = ImageSource(
        recipe.refs[0],
        recipe.kind,
        detail=digest,
        what=recipe.standin or "",
        seconds=time.monotonic() - start,
        built=built,
    )
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
        return ImageSource(
            ref,
            "unavailable",
            seconds=time.monotonic() - start,
            reason="docker pull failed: " + res.stderr.strip()[-300:],
        )
    cached = _registry_cached(ref)
    detail = cached.detail if cached else ""
    return ImageSource(ref, "registry", detail=detail, seconds=time.monotonic() - start, built=True)


def _unavailable_reason(ref: str) -> str:
    if "alpine" in ref.split(":")[-1] or ref.split(":")[0].endswith("alpine"):
        return "needs registry: Alpine userland is never faked offline (apk cannot reach its repositories)"
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
        futures = [pool.submit(lambda rs=rs: [_ensure_recipe(r, ps) for r in rs]) for rs in lanes.values()]
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
                src = ImageSource(ref, src.kind, src.detail, src.what, src.reason, src.seconds, src.built)
                if src.available and not docker.image_exists(ref):
                    docker.docker("tag", recipe.refs[0], ref, timeout=60)
        else:
            src = _registry_cached(ref) or ImageSource(ref, "unavailable", reason=_unavailable_reason(ref))
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
    return ImageSource(
        ref, kind, detail=labels[RECIPE_LABEL], what=labels.get(DESCRIPTION_LABEL, "") if kind == "standin" else ""
    )
