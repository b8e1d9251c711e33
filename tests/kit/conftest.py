"""Fixtures for the kit tier: the base images (ensured once), labelled containers/volumes/networks
that are always removed, and per-image result recording (snippet "image:REF", check "kit-...")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kitsupport import Scratchpad

from snipcheck import docker as dk
from snipcheck import imagekit
from snipcheck import report as run_report
from support import CALL_FAILED, require

_KIT = pytest.StashKey[dict[str, Any]]()


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
        data: dict[str, Any] = {"image_source": src.describe()}
        request.node.stash[_KIT] = {"ref": ref, "check": check, "data": data}
        if not src.available:
            pytest.fail(f"{ref} is unavailable: {src.describe()}", pytrace=False)
        return data

    return use


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    rep: pytest.TestReport = outcome.get_result()
    info = item.stash.get(_KIT, None)
    if info is None or rep.when != "call":
        return
    result = "passed" if rep.passed else "skipped" if rep.skipped else "failed"
    extra = dict(info["data"])
    if rep.failed:
        extra["error"] = str(rep.longrepr)[-1500:]
    run_report.record(f"image:{info['ref']}", info["check"], result, rep.duration,
                      test=item.nodeid, **extra)


@pytest.fixture
def pad(request: pytest.FixtureRequest) -> Iterator[Scratchpad]:
    scratch = Scratchpad()
    yield scratch
    scratch.cleanup(show_logs=request.node.stash.get(CALL_FAILED, False))
