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
    """The site built once per session exactly as pages.yml builds it: `--strict`, publishing settings."""
    out = tmp_path_factory.mktemp("site") / "site"
    try:
        sitebuild.build(out, sitebuild.publishing_env())
    except sitebuild.SiteBuildError as exc:
        pytest.fail(str(exc), pytrace=False)
    return out


def pytest_runtest_setup(item: pytest.Item) -> None:
    require_root_if_marked(item)
