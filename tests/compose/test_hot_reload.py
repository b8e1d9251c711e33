"""Development setup (issue 8): with the source bind-mounted and `air` watching it, editing a Go file
rebuilds the server and the changed code is what answers.

Applies to compose snippets whose manifest entry says `compose: {behaviour: hot-reload,
hot_reload: {edit: FILE, replace: TEXT, path: URL_PATH}}` (FILE relative to the compose file).
"""

from __future__ import annotations

import pytest
from compose_stack import SOURCES, Stack

from snipcheck.harness import waiting
from snipcheck.harness.docker import cli as dk
from snipcheck.model.manifest import by_check
from support import http_get

pytestmark = [pytest.mark.compose]

DEV = [s for s in by_check("compose-up") if (s.settings.get("compose") or {}).get("behaviour") == "hot-reload"]


@pytest.mark.check("compose-up")
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("stack", DEV, ids=[s.path for s in DEV], indirect=True)
def test_editing_go_source_reloads_the_server(stack: Stack, request: pytest.FixtureRequest, measure: dict) -> None:
    spec = stack.snippet.settings["compose"]["hot_reload"]
    measure["image_sources"] = request.node.stash.get(SOURCES, {})
    stack.boot_and_probe(measure, wait_timeout=600)  # the compose-up check of this project (see test_compose_up)
    source = (stack.workdir / spec["edit"]).resolve()  # inside the test's copy of snippets/
    text = source.read_text(encoding="utf-8")
    assert spec["replace"] in text, f"{spec['edit']} no longer contains {spec['replace']!r}"
    marker = f"hot-reload-{dk.RUN_ID}"
    url = f"http://127.0.0.1:{stack.port('app', 8080)}{spec['path']}"

    def serves_edit() -> bool:
        status, body = http_get(url, timeout=5)
        if status != 200 or marker not in body:
            raise OSError(f"HTTP {status}: {body[:200]}")
        return True

    def app_logs() -> str:
        return stack.compose("logs", "--no-color", "--tail", "40", "app", timeout=60, check=False).stdout[-4000:]

    source.write_text(
        text.replace(spec["replace"], spec["replace"].replace('"dev"', f'"{marker}"')), encoding="utf-8"
    )  # the wait starts right after the edit
    waited = waiting.until(
        serves_edit,
        timeout=300,
        what=f"{url} to serve the edited code",
        interval=1,
        retry_on=(OSError,),
        details=app_logs,
    )
    measure["seconds_edit_to_new_response"] = round(waited.seconds, 1)
    stack.down_leaving_nothing()
