"""The strict schemas are written by one worker at a time, and never replaced under a reader that found
them complete (two xdist workers once raced: one removed the directory while the other's kubeconform read
it, "could not find schema for ConfigMap")."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from snipcheck.harness.kube import schemas as kubeschemas

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]


def test_concurrent_generations_write_once_and_never_remove_a_complete_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "wheel" / "v1.35.0-local-strict"
    src.mkdir(parents=True)
    (src / "_definitions.json").write_text('{"$defs": {}}')
    (src / "configmap-v1.json").write_text('{"x-kubernetes-group-version-kind": [{"kind": "ConfigMap"}]}')
    monkeypatch.setattr(kubeschemas, "wheel_schemas", lambda: src.parent)
    writes = 0
    inside = 0
    overlap: list[int] = []
    real = kubeschemas.standalone

    def slow_standalone(schema: dict, definitions: dict) -> dict:
        nonlocal inside, writes
        inside += 1
        writes += 1
        overlap.append(inside)
        time.sleep(0.3)  # a second worker arrives while this one writes
        inside -= 1
        return real(schema, definitions)

    monkeypatch.setattr(kubeschemas, "standalone", slow_standalone)
    dest = tmp_path / "schemas"
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(kubeschemas.generate("1.35.0", dest))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 3 and len(set(results)) == 1, results
    assert max(overlap) == 1, "two workers wrote the schemas at the same time"
    assert writes == 1, f"the schemas were written {writes} times: a later worker replaced a complete copy"
