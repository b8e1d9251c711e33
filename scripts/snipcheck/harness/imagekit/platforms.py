"""Images for other platforms: data-only base images re-labelled for a foreign architecture."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..docker import cli as docker
from ..docker import imagefs as docker_imagefs
from .build import _log, ensure, image_id
from .recipes import KIT_LABEL, local_name
from .source import mode

# Images whose files are architecture-independent data (no executables): a copy of the local amd64
# build, re-labelled for another platform, is the same image upstream publishes for that platform.
DATA_ONLY = ("gcr.io/distroless/static-debian13",)


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
    kit = local_name(ref)
    arch = platform.split("/")[1]
    tag = f"snipcheck-kit/{name.rsplit('/', 1)[1]}:{ref.partition(':')[2] or 'latest'}-{arch}"
    recipe = image_id(kit) or ""
    if image_id(tag) and docker.image_label(tag, "io.snipcheck.recipe-of") == recipe:
        return tag
    cfg = docker.inspect(kit)["Config"]
    changes = [f"ENV {e}" for e in cfg.get("Env") or []]
    if cfg.get("User"):
        changes.append(f"USER {cfg['User']}")
    if cfg.get("WorkingDir"):
        changes.append(f"WORKDIR {cfg['WorkingDir']}")
    changes.append(
        f'LABEL io.snipcheck.recipe-of="{recipe}" io.snipcheck.platform-copy="{platform}" {KIT_LABEL}="platform-copy"'
    )
    with tempfile.TemporaryDirectory(prefix="snipcheck-kit-") as tmp:
        docker.import_tar(docker_imagefs.export_fs(kit, Path(tmp) / "fs.tar"), tag, changes, platform=platform)
    _log(f"{tag}: {kit} re-labelled for {platform} (data-only image)")
    return tag
