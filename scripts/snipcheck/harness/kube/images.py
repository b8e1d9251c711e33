"""The node's system images without a registry or a Docker build: a FROM-scratch image of one static binary, and
image names as containerd's CRI looks them up.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path


def qualified_image(name: str) -> str:
    """An image reference as containerd's CRI looks it up: postgres:16-alpine ->
    docker.io/library/postgres:16-alpine, a name without a tag gets :latest."""
    first, _, rest = name.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        name = f"docker.io/{name if rest else 'library/' + name}"
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last or "@" in last else f"{name}:latest"


def _scratch_image(workdir: Path, binary: Path, path: str, entrypoint: list[str]) -> Path:
    """A `docker save`-format tar of a one-layer image holding one static binary (what `FROM scratch`
    + `COPY` gives), so that the node needs no registry and no Docker build for its system images."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        info = tar.gettarinfo(str(binary), arcname=path.lstrip("/"))
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        with binary.open("rb") as f:
            tar.addfile(info, f)
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Entrypoint": entrypoint},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    name = binary.name
    dest = workdir / f"{name}-image.tar"
    with tarfile.open(dest, "w") as out:
        for arcname, data in (
            ("layer.tar", layer_bytes),
            (config_name, config),
            (
                "manifest.json",
                json.dumps(
                    [{"Config": config_name, "RepoTags": [f"snipcheck.local/{name}:image"], "Layers": ["layer.tar"]}]
                ).encode(),
            ),  # fmt: skip
        ):
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return dest
