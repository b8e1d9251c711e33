"""Fixtures every tier may use; the suite's two plugins do the rest:

- tests/scheduling.py: tier order, xdist groups, the `--changed` selection;
- tests/recording.py: one way to record a result — a test marked `@pytest.mark.check("NAME")` gets its
  outcome recorded in the run report for every snippet it covers (its manifest.Snippet parameters and the
  paths of its `@pytest.mark.covers(...)` marker; the `measure` fixture adds measurements); at the end every
  (snippet, check) declared in the manifests whose tier ran must have a result, or the session fails.
- `require(ok, missing)` (tests/support.py): locally skip with a reason naming what is missing and how to
  get it; with CI=true fail instead, so a tier that cannot run is never reported as passing.
"""

from __future__ import annotations

import fcntl
import os
from typing import Any

import pytest

from snipcheck.site import build as sitebuild
from support import recording, require_root_if_marked

pytest_plugins = ("scheduling", "recording")


@pytest.fixture
def measure(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Measurements recorded with this test's result (image size, uid, seconds...)."""
    return recording(request.node).measurements


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory):
    """The site built once per run exactly as pages.yml builds it: `--strict`, publishing settings.

    With parallel workers (pytest-xdist) the first worker that needs it builds it into the run's shared
    temporary directory (the parent of the workers' own, unique per run) under a lock; the others wait and
    read the same build — one `mkdocs build` per run instead of one per worker. A failed build is recorded
    there, so every worker fails with the same message instead of building again. Tests read the site and
    never change it (a test that breaks a page works on a copy).
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out, done, failed = shared / "site-shared" / "site", shared / "site-shared.done", shared / "site-shared.failed"
    with open(shared / "site-shared.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists() and not failed.exists():
            try:
                sitebuild.build(out, sitebuild.publishing_env())
                done.write_text("built\n", encoding="utf-8")
            except sitebuild.SiteBuildError as exc:
                failed.write_text(str(exc), encoding="utf-8")
    if failed.exists():
        pytest.fail(failed.read_text(encoding="utf-8"), pytrace=False)
    return out


def pytest_runtest_setup(item: pytest.Item) -> None:
    require_root_if_marked(item)
