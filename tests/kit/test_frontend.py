"""docker/dockerfile:1: the BuildKit Dockerfile frontend image, used offline via `# syntax=`."""

from __future__ import annotations

from pathlib import Path

import pytest

from snipcheck.harness.docker import buildkit as docker_buildkit
from snipcheck.harness.docker import cli as dk

pytestmark = pytest.mark.kit

REF = "docker/dockerfile:1"
CAPS = "moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"

DOCKERFILE = """\
# syntax=docker/dockerfile:1
FROM debian:trixie-slim
RUN --mount=type=cache,id=kit-{run},target=/cache echo cached-{run} > /cache/f
RUN --mount=type=cache,id=kit-{run},target=/cache cp /cache/f /cache-seen
RUN --mount=type=secret,id=token,required=true \\
    test "$(cat /run/secrets/token)" = "s3cret-{run}" && echo secret-ok > /secret-status
COPY <<EOF /greeting.txt
hello from a heredoc
EOF
RUN <<EOT bash
set -euo pipefail
printf '%s\\n' "heredoc-run-{run}" > /heredoc-run
EOT
CMD ["cat", "/greeting.txt", "/heredoc-run", "/secret-status", "/cache-seen"]
"""


@pytest.mark.timeout(120)
def test_image_is_packaged_like_upstream(kit_image) -> None:
    data = kit_image(REF, "kit-frontend-image")
    info = dk.inspect(dk.stored(REF))
    cfg = info["Config"]
    labels = cfg.get("Labels") or {}
    assert labels.get("moby.buildkit.frontend.network.none") == "true"
    assert labels.get("moby.buildkit.frontend.caps") == CAPS
    assert cfg["Entrypoint"] == ["/bin/dockerfile-frontend"]
    assert len(info["RootFS"]["Layers"]) == 1, "FROM scratch plus one binary"
    data["size_bytes"] = info["Size"]


@pytest.mark.timeout(900)
def test_syntax_directive_builds_offline(kit_image, tmp_path: Path) -> None:
    data = kit_image(REF, "kit-frontend-syntax")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE.replace("{run}", dk.RUN_ID))
    token = tmp_path / "token"
    token.write_text(f"s3cret-{dk.RUN_ID}")
    tag = f"snipcheck-kit-frontend:{dk.RUN_ID}"
    try:
        res = docker_buildkit.build(ctx, tag, secrets=[f"id=token,src={token}"], timeout=600)
        log = res.stderr + res.stdout
        # the external frontend image was resolved from the local store and used: the kit's
        # snipcheck.local/docker/dockerfile:1 (BUILDKIT_SYNTAX, see docker_buildkit.kit_inputs) or the registry's
        frontend = dk.stored(REF)
        frontend = frontend if "." in frontend.split("/")[0] else f"docker.io/{frontend}"
        assert f"resolve image config for docker-image://{frontend}" in log, log[-3000:]
        out = dk.run_once(tag, timeout=60).stdout.split("\n")
        assert out[:4] == ["hello from a heredoc", f"heredoc-run-{dk.RUN_ID}", "secret-ok", f"cached-{dk.RUN_ID}"], out
        # the cache mount's content is not part of the image
        assert dk.run_once(tag, "sh", "-c", "test ! -e /cache/f && echo absent", timeout=60).stdout.strip() == "absent"
        # the secret was mounted for one step only, never stored in the image
        leak = dk.run_once(
            tag,
            "sh",
            "-c",
            f"grep -rl 's3cret-{dk.RUN_ID}' / --exclude-dir=proc --exclude-dir=sys 2>/dev/null || true",
            timeout=120,
        )
        assert leak.stdout.strip() == "", leak.stdout
        data["build_seconds"] = round(res.seconds, 1)
    finally:
        dk.remove_image(tag)
