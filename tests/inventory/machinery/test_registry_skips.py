"""An entry that declares `needs_registry` may skip only in a run without a registry (review M8): in a
registry run (GitHub's CI) an image that did not come is a failed pull, so the same skip is a failure."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from support import skip_needs_registry

pytestmark = pytest.mark.inventory


@dataclass
class _Entry:
    settings: dict[str, object] = field(default_factory=dict)

    def where(self) -> str:
        return "snippets/x/Dockerfile"


DECLARED = _Entry({"needs_registry": ["alpine:3.22"]})


def _outcome(entry: _Entry) -> tuple[str, str]:
    """What skip_needs_registry made of the entry: ("skipped" | "failed", message). Caught here, so that a
    skip where a failure is due shows as this test's failure, not as this test skipped."""
    try:
        skip_needs_registry(entry, "needs registry: alpine:3.22")
    except pytest.skip.Exception as exc:
        return "skipped", str(exc)
    except pytest.fail.Exception as exc:
        return "failed", str(exc)
    return "returned", ""


def test_declared_entry_skips_without_a_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNIPCHECK_IMAGES", "local")
    kind, msg = _outcome(DECLARED)
    assert kind == "skipped" and "needs registry: alpine" in msg, (kind, msg)


def test_declared_entry_fails_in_a_registry_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNIPCHECK_IMAGES", "registry")
    kind, msg = _outcome(DECLARED)
    assert kind == "failed" and "SNIPCHECK_IMAGES=registry, yet the registry did not deliver" in msg, (kind, msg)


def test_undeclared_entry_fails_in_every_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for mode in ("auto", "local", "registry"):
        monkeypatch.setenv("SNIPCHECK_IMAGES", mode)
        kind, msg = _outcome(_Entry())
        assert kind == "failed" and "does not declare `needs_registry`" in msg, (mode, kind, msg)
