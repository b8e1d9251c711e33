"""The report's run_kind: cold only when every cache was empty at the start, warm only when none was."""

from __future__ import annotations

from pathlib import Path

import pytest

from snipcheck.run import cachestate

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]


def _state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, images: int | None, records: int, go: int, kube: bool):
    kube_dir = tmp_path / "kube"
    if kube:
        kube_dir.mkdir()
        (kube_dir / "kube-apiserver").write_text("#!/bin/sh\n")
        (kube_dir / "kube-apiserver").chmod(0o755)
        (kube_dir / "kube-apiserver.build-seconds").write_text("678\n")  # not a binary
    monkeypatch.setattr(cachestate, "_docker", lambda: {"images": images, "build_cache_records": records})
    monkeypatch.setattr(cachestate, "_dir_bytes", lambda _path: go)
    monkeypatch.setattr(cachestate, "kube_cache_dir", lambda: kube_dir)
    return cachestate.snapshot()


@pytest.mark.parametrize(
    ("images", "records", "go", "kube", "kind"),
    [
        (0, 0, 0, False, "cold"),
        (None, 0, 0, False, "cold"),  # no engine yet: nothing of it cached
        (12, 300, 5_000_000, True, "warm"),
        (12, 300, 5_000_000, False, "partial"),  # the Kubernetes binaries would be built
        (0, 0, 5_000_000, True, "partial"),
    ],
)
def test_run_kind(monkeypatch, tmp_path, images, records, go, kube, kind) -> None:
    state = _state(monkeypatch, tmp_path, images, records, go, kube)
    assert state["run_kind"] == kind, state
    assert state["kube_binaries"] == (["kube-apiserver"] if kube else [])


def test_the_snapshot_is_read_only_for_the_run_that_took_it(monkeypatch, tmp_path) -> None:
    snap = tmp_path / "caches.json"
    snap.write_text('{"run_kind": "warm"}')
    monkeypatch.delenv("SNIPCHECK_CACHES_AT_START", raising=False)
    assert cachestate.read() is None  # a plain pytest run: no snapshot of an earlier run
    monkeypatch.setenv("SNIPCHECK_CACHES_AT_START", str(snap))
    assert cachestate.read() == {"run_kind": "warm"}
