"""shellcheck on shell snippets: `-x`, every severity down to `style`.

Severity: `style` (everything). The scripts are teaching material copied by readers; the most
common shell bug, an unquoted expansion (SC2086), is only `info`, so a `warning` threshold would
let the very mistake the chapter warns about pass. Fragments without a shebang are read as bash.

Manifest settings used (optional): `shellcheck_codes: [SC2086]` for expect: fails
(see statictools.expected_failure).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from statictools import SEVERITY, expected_failure, fail, ids, shellcheck, shellcheck_text

from snipcheck.model import manifest
from snipcheck.model.manifest import Snippet

pytestmark = [pytest.mark.static, pytest.mark.timeout(60)]

SNIPPETS = manifest.by_check("shellcheck")


@pytest.mark.check("shellcheck")
@pytest.mark.parametrize("snippet", SNIPPETS, ids=ids(SNIPPETS))
def test_shellcheck(snippet: Snippet, measure: dict[str, Any]) -> None:
    comments = shellcheck(snippet.file)
    codes = sorted({f"SC{c['code']}" for c in comments})
    measure["shellcheck_codes"] = codes
    wanted = [str(c) for c in expected_failure(snippet, "shellcheck_codes") or []]
    if wanted:
        missing = [c for c in wanted if c not in codes]
        if missing:
            fail(f"{snippet.path}: expected {missing} from shellcheck; found:\n{shellcheck_text(comments)}")
        return
    if comments:
        fail(f"{snippet.path}: shellcheck (severity {SEVERITY}):\n{shellcheck_text(comments)}")


def test_shellcheck_flags_an_unquoted_variable(tmp_path: Path) -> None:
    script = tmp_path / "push.sh"
    script.write_text("#!/usr/bin/env bash\nset -euo pipefail\nTAG=$1\ndocker push myapp:$TAG\n", encoding="utf-8")
    codes = {c["code"] for c in shellcheck(script)}
    assert 2086 in codes, f"SC2086 not reported: {codes}"


def test_shellcheck_follows_sources(tmp_path: Path) -> None:
    (tmp_path / "lib.sh").write_text('# shellcheck shell=bash\nIMAGE="myapp"\nexport IMAGE\n', encoding="utf-8")
    script = tmp_path / "main.sh"
    script.write_text(
        '#!/usr/bin/env bash\n# shellcheck source=lib.sh\nsource ./lib.sh\necho "$IMAGE"\n', encoding="utf-8"
    )
    assert shellcheck(script) == []
