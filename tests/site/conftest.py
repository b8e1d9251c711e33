"""The site tier's fixtures: one chromium per session, the built site served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from browser import CHROMIUM, LAUNCH_ARGS, require_browser, serve
from snipcheck.harness import saferm
from snipcheck.model.paths import BUILD
from snipcheck.site import build as sitebuild

SCREENSHOTS = BUILD / "screenshots"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    sync_api = require_browser()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def site_base(built_site: Path) -> Iterator[str]:
    """Base URL of the built site on 127.0.0.1 (stopped at the end of the session)."""
    with serve(built_site, urlsplit(sitebuild.publishing_env()["SITE_URL"]).path) as base:
        yield base


@pytest.fixture(scope="session")
def screenshots() -> Path:
    saferm.remove_tree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS
