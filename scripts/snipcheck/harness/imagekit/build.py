"""Building and caching kit images: recipe hashes, the build lock, registry pulls, `ensure`, `remove`.

The kit's images are stored as snipcheck.local/<upstream name> only. Nothing here creates, tags or moves
an upstream name (`debian:trixie-slim`, `golang:1.26-trixie`, ...) in the Docker store: that store is
the user's. Kit builds get their parents as BuildKit named contexts; the suite's builds get them the same
way (docker_buildkit.build, stands_in).
"""

from __future__ import annotations

import contextlib
import dataclasses
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

from ...model.paths import BUILD, rel
from .. import proc
from ..docker import buildkit as docker_buildkit
from ..docker import cli as docker
from .recipes import (
    BY_REF,
    DESCRIPTION_LABEL,
    HOST_CA_DIR,
    HOST_CA_ENV,
    HOST_CA_LABEL,
    KIT,
    KIT_LABEL,
    KIT_PREFIX,
    RECIPE_LABEL,
    RECIPES,
    STANDIN_LABEL,
    STD_PATH,
    Recipe,
    familiar,
    local_name,
    recipe_for,
)
from .source import ImageSource, mode


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
        pid = image_id(local_name(parent))
        if pid is None:
            raise RuntimeError(f"{recipe.key}: parent image {local_name(parent)} is missing")
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
    if recipe.host_ca:
        # says on the image itself that it trusts more than Debian's CAs (empty: it does not)
        labels[HOST_CA_LABEL] = ",".join(p.name for p in host_local_cas())
    return labels


def parent_contexts(recipe: Recipe) -> dict[str, str]:
    """The recipe's FROM images as named contexts: `FROM debian:trixie-slim` reads the kit's image."""
    return {parent: f"docker-image://{local_name(parent)}" for parent in recipe.parents}


def _build_rootfs(recipe: Recipe, digest: str) -> None:
    # the root filesystem is made on the host (debootstrap needs no base image), then imported
    script = KIT / recipe.directory / "mkrootfs.sh"
    with tempfile.TemporaryDirectory(prefix="snipcheck-kit-") as tmp:
        tar = Path(tmp) / "rootfs.tar"
        cmd = ["bash", str(script), recipe.args["SUITE"], recipe.args["MIRROR"], recipe.args["SECURITY"], str(tar)]
        if os.geteuid() != 0:
            # debootstrap needs root: a user's run (GitHub's `runner`, a contributor in the docker group)
            # asks sudo without a password, and says what is missing when it cannot (sudo -n fails at once)
            keep = [f"{k}={os.environ[k]}" for k in ("SNIPCHECK_DEBIAN_KEYRING",) if k in os.environ]
            cmd = ["sudo", "-n", "--", "env", *keep, *cmd]
        res = proc.run(cmd, timeout=900, own_group=True)  # a timeout stops debootstrap too, not only bash
        if res.returncode != 0:
            how = " (run through `sudo -n`: give the user passwordless sudo, or build the kit as root)"
            how = how if cmd[0] == "sudo" else ""
            raise RuntimeError(f"{rel(script)} failed ({res.returncode}){how}:\n{proc.tail(res.stderr, 40)}")
        changes = ['CMD ["bash"]', f"ENV PATH={STD_PATH}"]
        changes += [f"LABEL {k}={v}" for k, v in _labels(recipe, digest).items()]
        docker.import_tar(tar, recipe.images[0], changes)


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
    behind a TLS-inspecting egress proxy, as on this project's CI machine) and name them in the
    label io.snipcheck.host-ca. Such an image exists only as snipcheck.local/..., used by the
    suite's own builds. Empty on ordinary machines and CI runners; SNIPCHECK_KIT_HOST_CA=0 turns it off.
    """
    if os.environ.get(HOST_CA_ENV, "1") == "0" or not HOST_CA_DIR.is_dir():
        return []
    return sorted(p for p in HOST_CA_DIR.rglob("*.crt") if p.is_file())


def _build_dockerfile(recipe: Recipe, digest: str, no_cache: bool = False) -> None:
    directory = KIT / recipe.directory
    ca = host_ca_bundle()
    with tempfile.TemporaryDirectory(prefix="snipcheck-kit-ca-") as tmp:
        contexts = parent_contexts(recipe)
        if recipe.host_ca:
            for i, cert in enumerate(host_local_cas()):
                (Path(tmp) / f"host-{i:02d}-{cert.name}").write_bytes(cert.read_bytes())
            contexts["hostca"] = tmp
        docker_buildkit.build(
            directory,
            recipe.images[0],
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
        current = [docker.image_label(image, RECIPE_LABEL) for image in recipe.images]
        replaced = {i for i in map(image_id, recipe.images) if i}
        if current[0] != digest or ps.rebuild:
            _log(
                f"building {recipe.images[0]} from {rel(KIT / recipe.directory)} "
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
        for image, label in zip(recipe.images[1:], current[1:], strict=True):
            if built or label != digest:
                docker.docker("tag", recipe.images[0], image, timeout=60)
        _drop_replaced(replaced - {image_id(recipe.images[0])})
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
        image=recipe.images[0],
    )
    done[recipe.key] = res
    return res


def _drop_replaced(ids: set[str | None]) -> None:
    """Remove the kit's images that a rebuild replaced, so that a recipe change leaves no `<none>` image
    behind: only an image that carries the kit's label and no name at all any more (a name someone
    gave it keeps it), never forced (a container that uses it keeps it)."""
    for iid in sorted(i for i in ids if i):
        try:
            info = docker.inspect(iid)
        except docker.DockerError:
            continue  # gone already
        labels = (info.get("Config") or {}).get("Labels") or {}
        if info.get("RepoTags") or KIT_LABEL not in labels:
            continue
        res = docker.docker("image", "rm", iid, timeout=120, check=False)
        said = "removed" if res.returncode == 0 else f"kept ({res.stderr.strip()[-200:]})"
        _log(f"the replaced image {iid[:19]}: {said}")


def _registry_cached(ref: str) -> ImageSource | None:
    """An upstream image already in the local store (pulled earlier, not made by the kit: an older kit
    tagged upstream names, and its images carry the recipe label)."""
    try:
        info = docker.inspect(ref)
    except docker.DockerError:
        return None
    labels = (info.get("Config") or {}).get("Labels") or {}
    digests = info.get("RepoDigests") or []
    if RECIPE_LABEL in labels or not digests:
        return None
    return ImageSource(ref, "registry", detail=digests[0], image=ref)


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
    return ImageSource(ref, "registry", detail=detail, seconds=time.monotonic() - start, built=True, image=ref)


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


NO_FALLBACK = (
    "; in registry mode the kit never stands in for an image the registry did not deliver "
    "(run with SNIPCHECK_IMAGES=local to use the kit's images, reported as such)"
)


def _ensure(refs: list[str], rebuild: bool) -> dict[str, ImageSource]:
    effective = mode()
    out: dict[str, ImageSource] = {}
    ps = _Pass(rebuild=rebuild)
    if effective == "local":
        _prebuild([r for r in (recipe_for(ref) for ref in refs) if r is not None], ps)
    for ref in refs:
        if ref in out:
            continue
        recipe = recipe_for(ref)
        if effective == "registry":
            # an upstream image the store already holds is used as it is: pulling would move the user's tag
            src = _registry_cached(ref) or _pull(ref)
            if not src.available and recipe is not None:
                src.reason += NO_FALLBACK
                _log(f"{ref}: {src.reason}")
        elif recipe is not None:
            src = _ensure_recipe(recipe, ps)
            if src.available:  # an alias (golang:1.26) or a spelling (...:latest) of the recipe's first name
                src = dataclasses.replace(src, ref=ref, image=local_name(ref))
        else:
            src = _registry_cached(ref) or ImageSource(ref, "unavailable", reason=_unavailable_reason(ref))
        out[ref] = src
    return out


def stands_in(ref: str) -> str | None:
    """The kit image (snipcheck.local/...) the suite uses for upstream `ref` in this run, or None: in local
    mode for every image the kit makes, in registry mode never. Used by docker_buildkit.build for named contexts."""
    if recipe_for(ref) is None or mode() != "local":
        return None
    return local_name(ref)


def all_refs() -> list[str]:
    return [ref for recipe in RECIPES for ref in recipe.refs]


def source_of(ref: str) -> ImageSource:
    """Where the image the suite uses for `ref` comes from, as the store holds it now (no build, no pull)."""
    image = stands_in(ref)
    if image is None:
        return _registry_cached(ref) or ImageSource(ref, "unavailable", reason="not in the local image store")
    try:
        labels = (docker.inspect(image).get("Config") or {}).get("Labels") or {}
    except docker.DockerError:
        return ImageSource(ref, "unavailable", reason=f"{image} is not in the local image store")
    if RECIPE_LABEL not in labels:
        return ImageSource(ref, "unavailable", reason=f"{image} is in the store but of unknown origin")
    kind = "standin" if labels.get(STANDIN_LABEL) == "true" else "local"
    return ImageSource(
        ref,
        kind,
        detail=labels[RECIPE_LABEL],
        what=labels.get(DESCRIPTION_LABEL, "") if kind == "standin" else "",
        image=image,
    )


# --------------------------------------------------------------------------- remove


def owned(name: str, labels: dict[str, str]) -> bool:
    """Is this tagged image one the kit made? Its own names (snipcheck.local/..., snipcheck-kit/...), or an
    upstream name that an older kit tagged over (the name is a kit ref and the image carries the kit label).
    Images built FROM a kit image inherit its labels: under any other name they are someone else's."""
    if KIT_LABEL not in labels:
        return False
    return name.startswith((KIT_PREFIX, "snipcheck-kit/")) or recipe_for(name) is not None


def kit_images() -> list[str]:
    """Every name in the store that the kit owns (see owned)."""
    out = docker.docker(
        "image", "ls", "--filter", f"label={KIT_LABEL}", "--format", "{{.Repository}}:{{.Tag}}", timeout=60
    ).stdout
    names = [n for n in dict.fromkeys(out.split()) if not n.endswith(":<none>") and not n.startswith("<none>")]
    found = []
    for name in names:
        labels = (docker.inspect(name).get("Config") or {}).get("Labels") or {}
        if owned(familiar(name), labels):
            found.append(name)
    return sorted(found)


def remove(names: list[str] | None = None, dry_run: bool = False) -> list[str]:
    """Remove the kit's images (by name: an image also tagged with a name the kit does not own stays).

    `docker image rm NAME` without --force: an image a container still uses stays, and docker says so.
    Returns the names removed (or that would be, with dry_run)."""
    names = kit_images() if names is None else names
    removed = []
    for name in names:
        if dry_run:
            removed.append(name)
            continue
        res = docker.docker("image", "rm", name, timeout=120, check=False)
        if res.returncode == 0:
            removed.append(name)
        else:
            _log(f"{name} not removed: {res.stderr.strip()[-300:]}")
    return removed
