"""The kit's bookkeeping: modes, never-faked images, recipe hashes on the images."""

from __future__ import annotations

import pytest

from snipcheck import imagekit

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
        for ref in recipe.refs:
            assert imagekit.docker.image_label(ref, imagekit.RECIPE_LABEL) == digest, ref
        assert (src.kind == "standin") == (recipe.standin is not None)
        checked += 1
    again = imagekit.ensure(imagekit.all_refs())
    assert not any(s.built for s in again.values() if s.kind != "registry"), [r for r, s in again.items() if s.built]
    if checked == 0:
        pytest.skip("every image came from the registry; no kit recipe to check")


@pytest.mark.timeout(30)
def test_recipe_hash_covers_files_and_versions(kit_sources, monkeypatch: pytest.MonkeyPatch) -> None:
    recipe = imagekit.BY_REF["redis:7-alpine"]
    if kit_sources["debian:bookworm-slim"].kind == "unavailable":
        pytest.skip("debian:bookworm-slim is unavailable")
    base = imagekit.recipe_hash(recipe)
    assert imagekit.recipe_hash(recipe) == base
    changed = imagekit.Recipe(**{**recipe.__dict__, "args": {"X": "1"}})
    assert imagekit.recipe_hash(changed) != base
    target = imagekit.Recipe(**{**recipe.__dict__, "target": "other"})
    assert imagekit.recipe_hash(target) != base
