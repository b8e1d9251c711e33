"""scripts/kube/go.mod pins one Kubernetes release consistently, and the tools were built from it.

k8s.io/kubernetes points its staging modules (k8s.io/api, k8s.io/client-go, ...) at ./staging/src; our
module must replace exactly those, each with the published v0.<minor>.<patch> of the same release.
A bump of the `require` line without the replaces would build a mix of releases.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from snipcheck.harness.kube import controlplane as kubeapi
from snipcheck.model import paths
from support import require

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(60)]

REPLACE = re.compile(r"^\s*(k8s\.io/[\w.-]+) => (k8s\.io/[\w.-]+) (v\S+)$", re.MULTILINE)
STAGING = re.compile(r"^\s*(k8s\.io/[\w.-]+) => \./staging/src/", re.MULTILINE)


def staging_version(release: str) -> str:
    return "v0." + release.removeprefix("v1.")


def test_replaces_pin_the_same_release() -> None:
    release = paths.kube_version()
    text = paths.KUBE_GO_MOD.read_text(encoding="utf-8")
    replaces = REPLACE.findall(text)
    assert len(replaces) == 31, f"{paths.KUBE_GO_MOD}: expected 31 staging replaces, found {len(replaces)}"
    wrong = [f"{a} => {b} {v}" for a, b, v in replaces if a != b or v != staging_version(release)]
    assert not wrong, f"{paths.KUBE_GO_MOD}: replaces not at {staging_version(release)}: {wrong}"


def test_replaces_are_the_staging_modules_of_the_release(tmp_path: Path) -> None:
    """Compared with k8s.io/kubernetes' own go.mod. `go list -m` fetches just that file (.info and .mod,
    no source) when the module cache lacks it: cached Kubernetes binaries with an empty Go module cache
    (a CI cache restores only the binaries) must still be checked, not fail."""
    release = paths.kube_version()
    go = shutil.which("go") or "/usr/local/go/bin/go"
    require(Path(go).is_file(), "Go is not installed (needed by scripts/install-kube.sh)")
    res = subprocess.run(
        [go, "list", "-m", "-json", f"k8s.io/kubernetes@{release}"],
        capture_output=True, text=True, timeout=50, cwd=tmp_path, env={**os.environ, "GOFLAGS": ""},
    )  # fmt: skip
    assert res.returncode == 0, f"go list -m k8s.io/kubernetes@{release} failed:\n{res.stderr[-2000:]}"
    upstream = Path(json.loads(res.stdout)["GoMod"])
    staging = set(STAGING.findall(upstream.read_text(encoding="utf-8")))
    assert len(staging) > 20, f"{upstream}: only {len(staging)} staging modules found"
    ours = {a for a, _, _ in REPLACE.findall(paths.KUBE_GO_MOD.read_text(encoding="utf-8"))}
    assert ours == staging, f"missing: {sorted(staging - ours)}; extra: {sorted(ours - staging)}"


def test_binaries_report_the_pinned_release(kube_tools: kubeapi.Tools) -> None:
    out = subprocess.run(
        [str(kube_tools.kube_apiserver), "--version"], capture_output=True, text=True, timeout=30
    ).stdout
    assert out.strip() == f"Kubernetes {kube_tools.version}", out
    out = subprocess.run(
        [str(kube_tools.kubectl), "version", "--client", "-o", "json"], capture_output=True, text=True, timeout=30
    ).stdout
    assert f'"gitVersion": "{kube_tools.version}"' in out, out
