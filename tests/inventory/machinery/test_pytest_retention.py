"""pytest keeps one basetemp, not its default three: a run's temporary directories hold the node's image
tars (about 0.4 GB a run) in /tmp, which is RAM on Debian 13 (review L3)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.inventory


def test_only_the_last_runs_temporary_directories_are_kept(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.getini("tmp_path_retention_count") == "1", "pyproject.toml: tmp_path_retention_count = 1"
