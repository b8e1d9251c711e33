"""hadolint: working Dockerfiles are clean at warning level; anti-patterns show the rules the text names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from statictools import FAILING, expected_failure, fail, hadolint, hadolint_text, ids

from snipcheck.model import manifest
from snipcheck.model.manifest import Snippet

pytestmark = [pytest.mark.static, pytest.mark.timeout(60)]

SNIPPETS = manifest.by_check("hadolint")


@pytest.mark.check("hadolint")
@pytest.mark.parametrize("snippet", SNIPPETS, ids=ids(SNIPPETS))
def test_hadolint(snippet: Snippet, measure: dict[str, Any]) -> None:
    expected = [str(r) for r in expected_failure(snippet, "hadolint_rules") or []]
    findings = hadolint(snippet.file, lift_ignores=bool(expected))
    codes = sorted({f["code"] for f in findings})
    measure["hadolint_codes"] = codes
    if expected:
        missing = [r for r in expected if r not in codes]
        measure["hadolint_expected"] = expected
        if missing:
            fail(
                f"{snippet.path}: the text says hadolint reports {expected}; missing {missing}.\n"
                f"hadolint found:\n{hadolint_text(findings) or '  nothing'}"
            )
        return
    bad = [f for f in findings if f["level"] in FAILING]
    if bad:
        hint = (
            " (an anti-pattern hadolint is meant to catch: list the rules in `hadolint_rules`)"
            if snippet.expect == "fails"
            else ""
        )
        fail(f"{snippet.path}: hadolint findings at warning level or above{hint}:\n{hadolint_text(bad)}")


# ---- the check catches a broken Dockerfile ----------------------------------------------------

BAD = """\
FROM golang:latest
WORKDIR /src
COPY . .
RUN cd /src && go build -o /server ./cmd/server
USER root
CMD /server
"""

GOOD = """\
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/server ./cmd/server

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/server /server
USER 65532:65532
ENTRYPOINT ["/server"]
"""


def test_hadolint_flags_a_bad_dockerfile(tmp_path: Path) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text(BAD, encoding="utf-8")
    codes = {f["code"] for f in hadolint(df)}
    for rule in ("DL3007", "DL3025", "DL3002", "DL3003"):
        assert rule in codes, f"hadolint missed {rule}; found {sorted(codes)}"


def test_hadolint_passes_a_good_dockerfile(tmp_path: Path) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text(GOOD, encoding="utf-8")
    bad = [f for f in hadolint(df) if f["level"] in FAILING]
    assert not bad, hadolint_text(bad)
