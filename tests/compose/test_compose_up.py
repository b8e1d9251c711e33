"""Every compose project boots with `up --wait`, answers the probes the text implies, and is torn
down with nothing left behind (issue 8). Settings: see tests/compose/compose_stack.py.

A project with `behaviour: hot-reload` is booted, probed and torn down the same way by
tests/compose/test_hot_reload.py, which then edits its source: booting it here too would compile
the development image's server twice for one result."""

from __future__ import annotations

import pytest
from compose_stack import SOURCES, Stack, cache_volume_names

from snipcheck.model.manifest import by_check

pytestmark = [pytest.mark.compose]

UP = [s for s in by_check("compose-up") if (s.settings.get("compose") or {}).get("behaviour") != "hot-reload"]


@pytest.mark.check("compose-up")
@pytest.mark.timeout(900)
@pytest.mark.parametrize("stack", UP, ids=[s.path for s in UP], indirect=True)
def test_compose_project_boots_and_answers(stack: Stack, request: pytest.FixtureRequest, measure: dict) -> None:
    measure["image_sources"] = request.node.stash.get(SOURCES, {})
    stack.boot_and_probe(measure)
    stack.down_leaving_nothing()


def test_cache_volumes_must_be_volumes_of_the_project() -> None:
    """A misspelt `cache_volumes` entry is an error naming the entry, not a silently cold cache."""
    dev = next(s for s in by_check("compose-up") if (s.settings.get("compose") or {}).get("cache_volumes"))
    config = {"volumes": {"go-mod-cache": {}, "go-build-cache": {}}}
    assert set(cache_volume_names(dev, config)) == {"go-mod-cache", "go-build-cache"}
    with pytest.raises(pytest.fail.Exception, match=r"cache_volumes \['go-build-cache'\] are not volumes"):
        cache_volume_names(dev, {"volumes": {"go-mod-cache": {}}})
