"""Versions of the tools a run used, for the report's meta (shown on the verification page).

A tool that is not installed is recorded as None ("not found during the run"), never guessed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ..model.paths import BUILD

TOOL_DIRS = [Path(sys.executable).parent, BUILD / "tools" / "bin", Path("/usr/local/go/bin")]

# name shown -> (executable, arguments, regex picking the version out of the output)
COMMANDS: dict[str, tuple[str, list[str], str]] = {
    "Docker Engine": ("docker", ["version", "--format", "{{.Server.Version}}"], r"(\S+)"),
    "BuildKit (buildx)": ("docker", ["buildx", "version"], r"(v?\d+\.\d+\.\d+\S*)"),
    "Docker Compose": ("docker", ["compose", "version", "--short"], r"(v?\d+\.\d+\.\d+\S*)"),
    "Go": ("go", ["version"], r"go version (go\S+)"),
    "hadolint": ("hadolint", ["--version"], r"(\d+\.\d+\.\d+\S*)"),
    "kubeconform": ("kubeconform", ["-v"], r"(v?\d+\.\d+\.\d+\S*)"),
    "yamllint": ("yamllint", ["--version"], r"(\d+\.\d+\.\d+)"),
    "shellcheck": ("shellcheck", ["--version"], r"version: (\S+)"),
    "actionlint": ("actionlint", ["--version"], r"(\d+\.\d+\.\d+)"),
    "kustomize": ("kustomize", ["version"], r"(v\d+\.\d+\.\d+)"),
    # the cluster tier (scripts/install-kube.sh); the node's parts only with SNIPCHECK_NODE=1
    "kube-apiserver": ("kube-apiserver", ["--version"], r"Kubernetes (v\S+)"),
    "etcd": ("etcd", ["--version"], r"etcd Version: (\S+)"),
    "kubelet": ("kubelet", ["--version"], r"Kubernetes (v\S+)"),
    "kube-proxy": ("kube-proxy", ["--version"], r"Kubernetes (v\S+)"),
    "CoreDNS": ("coredns", ["-version"], r"CoreDNS-(\S+)"),
    "containerd (CRI)": ("containerd", ["--version"], r"containerd \S+ (v?\d+\.\d+\.\d+\S*)"),
}


def find_tool(name: str) -> str | None:
    """A tool from the venv, build/tools/bin or /usr/local/go/bin, else PATH (the suite and the report agree)."""
    for d in TOOL_DIRS:
        cand = d / name
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return shutil.which(name)


def version(exe: str, args: list[str], pattern: str, timeout: float = 10) -> str | None:
    path = find_tool(exe)
    if path is None:
        return None
    try:
        res = subprocess.run([path, *args], capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(pattern, res.stdout + res.stderr) if res.returncode == 0 else None
    return m[1] if m else module_version(path, timeout)


def module_version(path: str, timeout: float = 10) -> str | None:
    """A `go install`ed tool built from source says "development"; its module version is in the binary."""
    go = find_tool("go")
    if go is None:
        return None
    try:
        res = subprocess.run([go, "version", "-m", path], capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"^\s*mod\s+\S+\s+(v\S+)", res.stdout, flags=re.M)
    return m[1] if m else None


def collect() -> dict[str, str | None]:
    return {name: version(*spec) for name, spec in COMMANDS.items()}
