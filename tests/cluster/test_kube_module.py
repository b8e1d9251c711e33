"""scripts/kube/go.mod pins one Kubernetes release consistently, and the tools were built from it.

k8s.io/kubernetes points its staging modules (k8s.io/api, k8s.io/client-go, ...) at ./staging/src; our
module must replace exactly those, each with the published v0.<minor>.<patch> of the same release.
A bump of the `require` line without the replaces would build a mix of releases.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from snipcheck import kubeapi
from support import require

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(60)]

REPLACE = re.compile(r"^\s*(k8s\.io/[\w.-]+) => (k8s\.io/[\w.-]+) (v\S+)$", re.MULTILINE)
STAGING = re.compile(r"^\s*(k8s\.io/[\w.-]+) => \./staging/src/", re.MULTILINE)


def staging_version(release: str) -> str:
    return "v0." + release.removeprefix("v1.")


def test_replaces_pin_the_same_release() -> None:
    release = kubeapi.pinned_version()
    text = kubeapi.GO_MOD.read_text(encoding="utf-8")
    replaces = REPLACE.findall(text)
    assert len(replaces) == 31, f"{kubeapi.GO_MOD}: expected 31 staging replaces, found {len(replaces)}"
    wrong = [f"{a} => {b} {v}" for a, b, v in replaces if a != b or v != staging_version(release)]
    assert not wrong, f"{kubeapi.GO_MOD}: replaces not at {staging_version(release)}: {wrong}"


def test_replaces_are_the_staging_modules_of_the_release() -> None:
    """Compared with k8s.io/kubernetes' own go.mod, from the Go module cache that install-kube.sh filled."""
    release = kubeapi.pinned_version()
    go = shutil.which("go") or "/usr/local/go/bin/go"
    require(Path(go).is_file(), "Go is not installed (needed by scripts/install-kube.sh)")
    modcache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    upstream = Path(modcache) / "cache" / "download" / "k8s.io" / "kubernetes" / "@v" / f"{release}.mod"
    require(upstream.is_file(), f"{upstream} is missing: {kubeapi.INSTALL_HINT}")
    staging = set(STAGING.findall(upstream.read_text(encoding="utf-8")))
    ours = {a for a, _, _ in REPLACE.findall(kubeapi.GO_MOD.read_text(encoding="utf-8"))}
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
