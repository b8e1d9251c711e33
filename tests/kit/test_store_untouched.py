"""The Docker store's upstream names are the user's: the kit never creates, tags or moves one.

The kit's images live under snipcheck.local/<upstream name> and reach builds as BuildKit named contexts
(docker_buildkit.build). These tests record `docker image ls --digests` for the upstream names before and after a
kit build and a build that uses it: the rows must be identical. An older kit tagged its images over the
upstream names (`debian:trixie-slim` imported, `golang:1.26-trixie` built and tagged): both tests fail
on it.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from snipcheck.harness import imagekit
from snipcheck.harness.docker import buildkit as docker_buildkit
from snipcheck.harness.docker import cli as dk
from snipcheck.harness.docker import imagefs as docker_imagefs
from snipcheck.harness.imagekit import build as kitbuild
from snipcheck.harness.imagekit import recipes as kitrecipes
from support import require

pytestmark = pytest.mark.kit

LISTING = "{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}}"


def listing(names: list[str]) -> dict[str, str]:
    """`docker image ls --digests` rows ("ID DIGEST") of `names`; "absent" for a name the store lacks."""
    out = dk.docker("image", "ls", "--digests", "--format", LISTING, timeout=60).stdout
    rows: dict[str, str] = {}
    for line in out.splitlines():
        name, _, rest = line.partition(" ")
        rows.setdefault(name, rest)
    return {name: rows.get(name, "absent") for name in names}


@pytest.fixture
def engine() -> None:
    problem = dk.engine_problem()
    require(problem is None, problem or "")


def _image_with(ctx: Path, tag: str, dockerfile: str, files: dict[str, str]) -> None:
    ctx.mkdir(parents=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    for name, text in files.items():
        (ctx / name).write_text(text)
    docker_buildkit.build(ctx, tag, timeout=300)  # labelled with the run id: the run's cleanup removes it too


def _file(image: str, path: str) -> str:
    """The text of one file in an image (read through a created, never started container)."""
    cid = dk.create(image)
    try:
        with (
            docker_imagefs.stream("cp", f"{cid}:{path}", "-", timeout=60) as out,
            tarfile.open(fileobj=out, mode="r|") as tar,
        ):
            for member in tar:
                fh = tar.extractfile(member)
                return fh.read().decode().strip() if fh else ""
        return ""
    finally:
        dk.remove_container(cid)


MKROOTFS = """\
#!/bin/bash
# a canary root filesystem, made the way the debian recipe's mkrootfs.sh hands one over (a tar for docker import)
set -eu
root=$(mktemp -d)
printf 'kit\\n' > "$root/who"
tar -C "$root" -cf "$4" .
rm -r "$root"
"""


@pytest.mark.timeout(600)
def test_kit_build_never_tags_an_upstream_name(engine: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Canary: the user's own images under three names; kit recipes standing in for them the way the real
    ones do (a root filesystem imported, like debian:trixie-slim; a Dockerfile FROM it, like golang, with
    an alias tag, like golang:1.26); a kit build; then a build `FROM` an upstream name. The user's rows stay
    as they were, and the build got the kit's image."""
    run = dk.RUN_ID.lower()
    base, app, alias = (f"snipcheck-canary/{n}:{run}" for n in ("base", "app", "app-alias"))
    for ref in (base, app, alias):  # the "upstream" images a user has pulled
        ctx = tmp_path / "user" / ref.split("/")[1].split(":")[0]
        _image_with(ctx, ref, "FROM scratch\nCOPY who /who\n", {"who": "user\n"})
    kit = tmp_path / "kit"
    (kit / "base").mkdir(parents=True)
    (kit / "base" / "mkrootfs.sh").write_text(MKROOTFS)
    (kit / "app").mkdir()
    (kit / "app" / "Dockerfile").write_text(f"FROM {base}\nCOPY who /app-who\n")
    (kit / "app" / "who").write_text("kit\n")
    rootfs_args = {"SUITE": "canary", "MIRROR": "-", "SECURITY": "-"}
    recipes = (
        imagekit.Recipe("canary-base", (base,), "base", rootfs=True, args=rootfs_args, lane="canary"),
        imagekit.Recipe("canary-app", (app, alias), "app", parents=(base,), lane="canary"),
    )
    monkeypatch.setattr(kitbuild, "KIT", kit)
    monkeypatch.setattr(kitbuild, "RECIPES", recipes)
    for recipe in recipes:
        for ref in recipe.refs:
            monkeypatch.setitem(kitrecipes.BY_REF, ref, recipe)
    monkeypatch.setattr(imagekit.source, "_mode_cache", "local")
    watched = [base, app, alias, *imagekit.all_refs()]
    before = listing(watched)
    assert "absent" not in (before[base], before[app], before[alias]), before
    tag = f"snipcheck-canary/uses-app:{run}"
    kit_names = [f"snipcheck.local/{n}" for n in (base, app, alias)]
    try:
        got = imagekit.ensure([app, alias])
        assert got[app].kind == "local" and got[app].built and got[alias].available, got
        _image_with(tmp_path / "uses", tag, f"FROM {alias}\nCOPY marker /marker\n", {"marker": "x\n"})
        after = listing(watched)
        assert after == before, {n: (before[n], after[n]) for n in watched if before[n] != after[n]}
        # the build read the kit's images (who=kit in both layers), not the user's under the same names
        assert (_file(tag, "/who"), _file(tag, "/app-who")) == ("kit", "kit")
    finally:
        for name in (tag, *kit_names, alias, app, base):
            dk.remove_image(name)


@pytest.mark.timeout(1200)
def test_upstream_names_unchanged_by_the_kit(engine: None, tmp_path: Path) -> None:
    """The real kit: debian:trixie-slim ensured (built when its recipe changed) and a build FROM it.
    Whatever the store held under the kit's upstream names (the user's images, an older kit's, or
    nothing) is unchanged, and in local mode the build's base layer is the kit's."""
    ref = "debian:trixie-slim"
    if imagekit.mode() == "registry":
        imagekit.ensure([ref])  # a pull may add an upstream name the store lacked; it never moves one
    before = listing(imagekit.all_refs())
    src = imagekit.ensure([ref])[ref]
    assert src.available, src.describe()
    tag = f"snipcheck-canary/uses-debian:{dk.RUN_ID.lower()}"
    try:
        _image_with(tmp_path / "ctx", tag, f"FROM {ref}\nCOPY marker /marker\n", {"marker": "x\n"})
        after = listing(imagekit.all_refs())
        assert after == before, {n: (before[n], after[n]) for n in before if before[n] != after[n]}
        if src.kind == "local":
            assert src.image == imagekit.local_name(ref) and src.image.startswith(imagekit.KIT_PREFIX)
            layers = dk.inspect(tag)["RootFS"]["Layers"]
            assert layers[0] == dk.inspect(src.image)["RootFS"]["Layers"][0], "the build did not get the kit's image"
    finally:
        dk.remove_image(tag)


@pytest.mark.timeout(300)
def test_remove_takes_the_kits_images_and_nothing_else(
    engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m snipcheck kit remove` lists the kit's names (snipcheck.local/...) and leaves an image
    built FROM a kit image alone, although it inherits the label io.snipcheck.kit."""
    run = dk.RUN_ID.lower()
    kit_image, built_on_it = f"snipcheck.local/snipcheck-canary/kit:{run}", f"snipcheck-canary/built-on-kit:{run}"
    try:
        _image_with(
            tmp_path / "kit",
            kit_image,
            f'FROM scratch\nCOPY who /who\nLABEL {imagekit.KIT_LABEL}="canary"\n',
            {"who": "kit\n"},
        )
        _image_with(tmp_path / "user", built_on_it, f"FROM {kit_image}\nCOPY who /mine\n", {"who": "user\n"})
        assert dk.image_label(built_on_it, imagekit.KIT_LABEL) == "canary", "labels are inherited"
        listed = imagekit.kit_images()
        assert kit_image in listed and built_on_it not in listed, listed
        from snipcheck.harness.imagekit.__main__ import main

        assert main(["remove", "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert f"would remove {kit_image}" in out and built_on_it not in out, out
        assert imagekit.remove([kit_image]) == [kit_image]
        assert not dk.image_exists(kit_image) and dk.image_exists(built_on_it)
    finally:
        dk.remove_image(built_on_it)
        dk.remove_image(kit_image)
