"""A test marked `root` needs root: as a user it skips locally (saying why) and fails with CI=true, so
that GitHub's jobs, which run as a user, cannot skip it unseen (ci.yml runs these in its sudo job)."""

from __future__ import annotations

import os

import pytest

import support

pytestmark = pytest.mark.inventory


class _Item:
    def __init__(self, marked: bool) -> None:
        self.mark = pytest.mark.root(reason="mount needs root").mark if marked else None

    def get_closest_marker(self, name: str):
        return self.mark if name == "root" else None


def _outcome(item: _Item) -> str:
    try:
        support.require_root_if_marked(item)
    except pytest.skip.Exception as exc:
        return f"skipped: {exc}"
    except pytest.fail.Exception as exc:
        return f"failed: {exc}"
    return "runs"


@pytest.mark.parametrize(
    ("euid", "ci", "marked", "expected"),
    [
        (1000, False, True, "skipped: mount needs root"),
        (1000, True, True, "failed: CI=true and this tier cannot run: mount needs root"),
        (0, True, True, "runs"),
        (1000, True, False, "runs"),
    ],
)
def test_root_mark(monkeypatch: pytest.MonkeyPatch, euid: int, ci: bool, marked: bool, expected: str) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    monkeypatch.setattr(support, "IN_CI", ci)
    assert _outcome(_Item(marked)) == expected
