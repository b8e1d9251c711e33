"""The suite's manifest.yaml stays out of build contexts, and editing it leaves BuildKit's cache valid.

snippets/myapp holds both the chapter's project and the suite's manifest.yaml; 40 images are built from
that directory. snipcheck.harness.docker.buildkit.build adds `manifest.yaml` to a Dockerfile-specific ignore
file next to a copy of the Dockerfile (the snippet's own .dockerignore rules kept), so the image sees what a reader's
project would give it, and an edit of the manifest does not rebuild anything.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from snipcheck.harness.docker import buildkit as docker_buildkit
from snipcheck.harness.docker import cli as dk
from snipcheck.harness.docker import imagefs as docker_imagefs

pytestmark = [pytest.mark.images, pytest.mark.timeout(300)]

DOCKERFILE = 'FROM scratch\nCOPY . /ctx/\nCMD ["/none"]\n'  # a CMD lets `docker create` export it


def _files(tag: str) -> set[str]:
    return {m.name.removeprefix("ctx/") for m in docker_imagefs.fs_members(tag) if m.isfile()}


def _copy_cached(log: str) -> bool:
    """True when BuildKit's plain log says the COPY step came from the cache (`#N [2/2] COPY ...`, `#N CACHED`)."""
    steps = {line.split()[0] for line in log.splitlines() if "COPY . /ctx/" in line and line.startswith("#")}
    assert steps, f"no COPY step in the build log:\n{log[-2000:]}"
    return any(line.strip() == f"{step} CACHED" for step in steps for line in log.splitlines())


def test_manifest_is_not_in_the_context_and_its_edits_keep_the_cache(engine: None, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / ".dockerignore").write_text("secret.txt\n")
    (ctx / "main.go").write_text("package main\n")
    (ctx / "secret.txt").write_text("not for the image\n")
    (ctx / "manifest.yaml").write_text("snippets: {}\n")
    tag = f"snipcheck/build-context:{dk.RUN_ID}"
    built: list[str] = []  # image ids: a rebuild moves the tag, and the old image would stay behind untagged
    try:
        docker_buildkit.build(ctx, tag).check()
        built.append(dk.inspect(tag)["Id"])
        files = _files(tag)
        assert "main.go" in files, files
        assert "secret.txt" not in files, f"the snippet's own .dockerignore rules were lost: {files}"
        assert "manifest.yaml" not in files, f"the suite's manifest reached the image: {files}"

        (ctx / "manifest.yaml").write_text("snippets: {edited: true}\n")
        again = docker_buildkit.build(ctx, tag).check()
        built.append(dk.inspect(tag)["Id"])
        assert _copy_cached(again.stderr), f"an edit of manifest.yaml invalidated the cache:\n{again.stderr[-2000:]}"

        (ctx / "main.go").write_text(f"package main // edited {secrets.token_hex(8)}\n")  # bytes no run built before
        changed = docker_buildkit.build(ctx, tag).check()
        built.append(dk.inspect(tag)["Id"])
        assert not _copy_cached(changed.stderr), "an edit of the project was served from the cache"
        assert "main.go" in _files(tag)
    finally:
        dk.remove_image(tag)
        for image in dict.fromkeys(built):
            dk.remove_image(image)
