"""Fixtures for the kit tier: the base images (ensured once), labelled containers/volumes/networks
that are always removed. A test's result is recorded for the subject "image:REF" under the check it
names in `kit_image(ref, check)` — through the suite's one recording path (support.recording)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kitsupport import Scratchpad

from snipcheck.harness import imagekit
from snipcheck.harness.docker import cli as dk
from support import CALL_FAILED, recording, require


@pytest.fixture(scope="session")
def kit_sources() -> dict[str, imagekit.ImageSource]:
    """Every kit image, built or pulled once per session (cheap when already up to date)."""
    problem = dk.engine_problem()
    require(problem is None, problem or "")
    return imagekit.ensure(imagekit.all_refs())


@pytest.fixture
def kit_image(kit_sources: dict[str, imagekit.ImageSource], request: pytest.FixtureRequest):
    """kit_image(ref, check) -> measurements dict; the outcome is recorded for image:REF."""

    def use(ref: str, check: str) -> dict[str, Any]:
        src = kit_sources.get(ref) or imagekit.ensure([ref])[ref]
        rec = recording(request.node)
        rec.check, rec.covers = check, [f"image:{ref}"]
        rec.measurements["image_source"] = src.describe()
        if not src.available:
            pytest.fail(f"{ref} is unavailable: {src.describe()}", pytrace=False)
        return rec.measurements

    return use


@pytest.fixture
def pad(request: pytest.FixtureRequest) -> Iterator[Scratchpad]:
    scratch = Scratchpad()
    yield scratch
    scratch.cleanup(show_logs=request.node.stash.get(CALL_FAILED, False))
