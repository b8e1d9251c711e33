"""The kit's bookkeeping: modes, never-faked images, recipe hashes on the images."""

from __future__ import annotations

import tarfile

import pytest

from snipcheck.harness import imagekit
from snipcheck.harness.docker import buildkit
from snipcheck.harness.docker import cli as dk
from snipcheck.harness.imagekit import build
from support import require

pytestmark = pytest.mark.kit


@pytest.mark.timeout(30)
def test_mode_env_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(imagekit.MODE_ENV, "sometimes")
    with pytest.raises(ValueError, match="auto, local, registry"):
        imagekit.requested_mode()
    for value in imagekit.MODES:
        monkeypatch.setenv(imagekit.MODE_ENV, value)
        assert imagekit.requested_mode() == value


@pytest.mark.timeout(60)
def test_alpine_is_never_faked(kit_sources, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imagekit.source, "_mode_cache", "local")
    got = imagekit.ensure(["golang:1.26-alpine", "alpine:3.20"])
    for ref, src in got.items():
        if src.kind == "registry":  # really pulled earlier: fine, it is the real image
            continue
        assert src.kind == "unavailable" and "needs registry" in src.reason, (ref, src)
        assert "Alpine" in src.reason


@pytest.mark.timeout(120)
def test_images_carry_their_recipe_hash(kit_sources) -> None:
    """Warm ensure rebuilds nothing: every kit image is labelled with its current recipe hash."""
    checked = 0
    for recipe in imagekit.RECIPES:
        src = kit_sources[recipe.refs[0]]
        if src.kind not in ("local", "standin"):
            continue
        digest = imagekit.recipe_hash(recipe)
        for image in recipe.images:
            assert imagekit.docker.image_label(image, imagekit.RECIPE_LABEL) == digest, image
        assert (src.kind == "standin") == (recipe.standin is not None)
        checked += 1
    again = imagekit.ensure(imagekit.all_refs())
    assert not any(s.built for s in again.values() if s.kind != "registry"), [r for r, s in again.items() if s.built]
    if checked == 0:
        pytest.skip("every image came from the registry; no kit recipe to check")


@pytest.mark.timeout(30)
def test_recipe_hash_covers_files_and_versions(kit_sources, monkeypatch: pytest.MonkeyPatch) -> None:
    recipe = imagekit.BY_REF["redis:7-alpine"]
    if kit_sources["debian:trixie-slim"].kind == "unavailable":
        pytest.skip("debian:trixie-slim is unavailable")
    base = imagekit.recipe_hash(recipe)
    assert imagekit.recipe_hash(recipe) == base
    changed = imagekit.Recipe(**{**recipe.__dict__, "args": {"X": "1"}})
    assert imagekit.recipe_hash(changed) != base
    target = imagekit.Recipe(**{**recipe.__dict__, "target": "other"})
    assert imagekit.recipe_hash(target) != base


@pytest.mark.timeout(30)
def test_kit_names_are_its_own() -> None:
    assert imagekit.local_name("golang:1.26-trixie") == "snipcheck.local/golang:1.26-trixie"
    assert imagekit.local_name("docker.io/library/debian:trixie-slim") == "snipcheck.local/debian:trixie-slim"
    assert imagekit.local_name("gcr.io/distroless/static-debian13") == (
        "snipcheck.local/gcr.io/distroless/static-debian13:latest"
    )
    for recipe in imagekit.RECIPES:
        assert all(image.startswith(imagekit.KIT_PREFIX) for image in recipe.images), recipe.key
    assert imagekit.recipe_for("docker.io/library/postgres:16-alpine") is imagekit.BY_REF["postgres:16-alpine"]
    assert buildkit.context_name("docker.io/library/golang:1.26") == "golang:1.26"
    assert buildkit.context_name("gcr.io/distroless/static-debian13:latest") == ("gcr.io/distroless/static-debian13")


@pytest.mark.timeout(30)
def test_builds_get_the_kit_as_named_contexts(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "# syntax=docker/dockerfile:1\nARG BASE=gcr.io/distroless/static-debian13:nonroot\n"
        "FROM golang:1.26-trixie AS build\nFROM ${BASE}\nCOPY --from=build /go /go\n"
        "COPY --from=alpine:3.20 /etc/os-release /x\n"
    )
    monkeypatch.setattr(imagekit.source, "_mode_cache", "local")
    contexts, args = buildkit.kit_inputs(dockerfile)
    assert contexts == {
        "golang:1.26-trixie": "docker-image://snipcheck.local/golang:1.26-trixie",
        "gcr.io/distroless/static-debian13:nonroot": "docker-image://snipcheck.local/gcr.io/distroless/static-debian13:nonroot",
    }
    assert args == {"BUILDKIT_SYNTAX": "snipcheck.local/docker/dockerfile:1"}
    # a context the caller chose (a platform variant) wins; build args resolve FROM ${BASE}
    given = {"golang:1.26-trixie": "docker-image://elsewhere"}
    contexts, _ = buildkit.kit_inputs(dockerfile, {"BASE": "gcr.io/distroless/base-debian13"}, given)
    assert contexts == {
        "gcr.io/distroless/base-debian13": "docker-image://snipcheck.local/gcr.io/distroless/base-debian13:latest"
    }
    # what the Kubernetes node imports (docker save) for an upstream name: the kit's image
    assert imagekit.docker.stored("postgres:16-alpine") == "snipcheck.local/postgres:16-alpine"
    assert imagekit.docker.stored("alpine:3.20") == "alpine:3.20"
    monkeypatch.setattr(imagekit.source, "_mode_cache", "registry")
    assert buildkit.kit_inputs(dockerfile) == ({}, {})
    assert imagekit.docker.stored("golang:1.26-trixie") == "golang:1.26-trixie"


@pytest.mark.timeout(30)
def test_the_node_names_an_import_as_the_kubelet_looks_it_up() -> None:
    """The node's containerd (the suite's own store) gets the upstream name, fully qualified."""
    from snipcheck.harness.kube.images import qualified_image

    assert qualified_image("postgres:16-alpine") == "docker.io/library/postgres:16-alpine"
    assert qualified_image("ghcr.io/myorg/myapp:v1.0.0") == "ghcr.io/myorg/myapp:v1.0.0"
    assert qualified_image("myorg/tool") == "docker.io/myorg/tool:latest"
    assert qualified_image("localhost:5000/a/b:1") == "localhost:5000/a/b:1"


@pytest.mark.timeout(30)
def test_a_failed_pull_is_never_replaced_by_the_kit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Auto mode resolved to the registry (it answered), then a pull fails (a rate limit): the image is
    unavailable and says how to use the kit; nothing is built, nothing tagged."""
    monkeypatch.setenv(imagekit.MODE_ENV, "auto")
    monkeypatch.setattr(imagekit.source, "_mode_cache", "registry")
    monkeypatch.setattr(imagekit.build, "_registry_cached", lambda ref: None)
    failed = imagekit.ImageSource("", "unavailable", reason="docker pull failed: toomanyrequests")
    monkeypatch.setattr(imagekit.build, "_pull", lambda ref: imagekit.ImageSource(**{**failed.__dict__, "ref": ref}))

    def no_kit(*args, **kwargs):
        raise AssertionError("the kit was used after a failed pull")

    monkeypatch.setattr(imagekit.build, "_ensure_recipe", no_kit)
    got = imagekit.build._ensure(["redis:7-alpine", "alpine:3.20"], rebuild=False)  # no lock: nothing is built
    assert got["redis:7-alpine"].kind == "unavailable"
    assert (
        "toomanyrequests" in got["redis:7-alpine"].reason and "SNIPCHECK_IMAGES=local" in got["redis:7-alpine"].reason
    )
    assert got["alpine:3.20"].kind == "unavailable" and "SNIPCHECK_IMAGES" not in got["alpine:3.20"].reason


@pytest.mark.timeout(30)
def test_remove_takes_only_the_kits_names() -> None:
    kit = {imagekit.KIT_LABEL: "golang", imagekit.RECIPE_LABEL: "abc"}
    assert imagekit.owned("snipcheck.local/golang:1.26-trixie", kit)
    assert imagekit.owned("snipcheck-kit/static-debian13:latest-arm64", {imagekit.KIT_LABEL: "platform-copy"})
    assert imagekit.owned("golang:1.26-trixie", kit), "an older kit's image under the upstream name"
    assert not imagekit.owned("golang:1.26-trixie", {}), "the real upstream image"
    assert not imagekit.owned("myapp:dev", kit), "built FROM a kit image: it inherits the labels, it is not the kit's"
    assert not imagekit.owned("snipcheck.local/golang:1.26-trixie", {})


@pytest.mark.timeout(120)
def test_a_rebuild_drops_only_the_kits_unnamed_images(tmp_path) -> None:
    """After a recipe change the replaced kit image goes (no `<none>` left behind); an unnamed image
    without the kit's label, and a kit image someone gave a name, stay."""
    require(dk.engine_problem() is None, dk.engine_problem() or "")
    empty = tmp_path / "empty.tar"
    with tarfile.open(empty, "w"):
        pass
    name = f"snipcheck-kit-replaced-probe:{dk.RUN_ID.lower()}"
    kept_name = f"someone/else:{dk.RUN_ID.lower()}"

    def image(*labels: str, tag: str = name) -> str:
        changes = [arg for label in labels for arg in ("--change", f"LABEL {label}")]
        dk.docker("import", *changes, str(empty), tag, timeout=60)
        return dk.docker("image", "inspect", "--format", "{{.Id}}", tag, timeout=30).stdout.strip()

    kit_old = image(f"{imagekit.KIT_LABEL}=probe", "n=1")
    foreign_old = image("n=2")
    named = image(f"{imagekit.KIT_LABEL}=probe", "n=3", tag=kept_name)
    newest = image(f"{imagekit.KIT_LABEL}=probe", "n=4")  # takes `name`: kit_old and foreign_old are unnamed now
    try:
        build._drop_replaced({kit_old, foreign_old, named, newest, None})
        present = {
            iid: dk.docker("image", "inspect", iid, timeout=30, check=False).returncode == 0
            for iid in (kit_old, foreign_old, named, newest)
        }
        assert present == {kit_old: False, foreign_old: True, named: True, newest: True}, present
    finally:
        for ref in (name, kept_name, foreign_old, kit_old):
            dk.docker("image", "rm", ref, timeout=60, check=False)
