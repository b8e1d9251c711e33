"""How the suite runs the Go toolchain on the host: one environment for `go build`, `go vet`, `go test`.

GOTOOLCHAIN=local: the host's pinned Go proves the snippets, never a toolchain a go.mod asks to fetch.
GOGC for the toolchain's own processes (the go command, the compiler, the linker): on a cold build
cache the compiler spends a large share of its CPU time collecting garbage, and GOGC=400 cuts the CPU
time of a from-scratch compile (the service's, the Kubernetes binaries'; measure it with
`python -m snipcheck cpu-account run -- ...`), for a higher peak memory per compile.
scripts/install-kube.sh and scripts/install-tools.sh set the same default for their builds.
Programs under test do not inherit it: `go test` runs its test binaries through TEST_EXEC.
"""

from __future__ import annotations

import os

BUILD_GOGC = os.environ.get("SNIPCHECK_BUILD_GOGC", "400")
_CALLER_GOGC = os.environ.get("GOGC")


def toolchain_env(**extra: str) -> dict[str, str]:
    """The environment for a go command run on the host."""
    return {**os.environ, "GOTOOLCHAIN": "local", "GOGC": BUILD_GOGC, **extra}


# `go test -exec`: the test binary gets the caller's GOGC back (or none), not the toolchain's
TEST_EXEC: tuple[str, str] = ("-exec", f"env GOGC={_CALLER_GOGC}" if _CALLER_GOGC else "env -u GOGC")
