"""The chapter's Kubernetes objects as the cluster tier sees them: per snippet, per snippet set, per namespace.

A snippet set is the snippets of one manifest.yaml (snippets/kubernetes, snippets/myapp, ...): the
text presents them together, so a namespace counts as created when a Namespace object of the same set
(a `kind: kubernetes` snippet or a kustomization's output) creates it. `default` always exists.
A manifest that names any other namespace is a finding: a reader applying it gets
`namespaces "X" not found` from the API server.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from snipcheck.harness.kube.controlplane import ControlPlane, KubectlResult
from snipcheck.model.manifest import Snippet
from snipcheck.model.paths import rel

ALWAYS_THERE = frozenset({"default"})
# Server-side apply, server-side dry run, unknown and duplicate fields are errors.
DRY_RUN = ("apply", "--server-side", "--dry-run=server", "--validate=strict", "-f", "-")


@dataclass
class Objects:
    snippet: Snippet
    text: str  # YAML as applied (the file, or `kubectl kustomize DIR` output)
    docs: list[dict[str, Any]]

    @property
    def set_name(self) -> str:
        return rel(self.snippet.manifest.parent)

    def created_namespaces(self) -> set[str]:
        return {d["metadata"]["name"] for d in self.docs if d.get("kind") == "Namespace"}

    def referenced_namespaces(self) -> set[str]:
        return {
            str(d["metadata"]["namespace"])
            for d in self.docs
            if d.get("kind") != "Namespace" and (d.get("metadata") or {}).get("namespace")
        }


def fail(msg: str) -> None:
    pytest.fail(msg, pytrace=False)


def ids(snippets: list[Snippet]) -> list[str]:
    return [s.path for s in snippets]


def parse(text: str, where: str) -> list[dict[str, Any]]:
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        fail(f"{where}: not YAML: {exc}")
    bad = [i for i, d in enumerate(docs) if not isinstance(d, dict) or "kind" not in d]
    if bad:
        fail(f"{where}: documents {bad} are not Kubernetes objects (no `kind`)")
    return docs


def load(cp: ControlPlane, snippet: Snippet) -> Objects:
    if snippet.kind == "kustomization":
        res = cp.kubectl("kustomize", str(snippet.file.parent))
        if res.returncode != 0:
            fail(f"{snippet.path}: `kubectl kustomize {snippet.file.parent}` failed:\n{res.describe()}")
        text = res.stdout
    else:
        text = snippet.file.read_text(encoding="utf-8")
    return Objects(snippet, text, parse(text, snippet.path))


def written_namespaces(objects: list[Objects]) -> dict[str, dict[str, Any]]:
    """The Namespace objects as the snippets write them, by name."""
    return {d["metadata"]["name"]: d for obj in objects for d in obj.docs if d.get("kind") == "Namespace"}


def pod_security_warnings(res: KubectlResult) -> list[str]:
    """`Warning: would violate PodSecurity "restricted:…"` lines: a workload whose Pods the namespace's
    `enforce` label would reject (enforce itself applies to Pods only; `warn` reports the workloads)."""
    return [line.strip() for line in res.stderr.splitlines() if "violate PodSecurity" in line]


def namespaces_by_set(objects: list[Objects]) -> dict[str, set[str]]:
    created: dict[str, set[str]] = defaultdict(set)
    for obj in objects:
        created[obj.set_name] |= obj.created_namespaces()
    return created


def create_namespaces(cp: ControlPlane, names: set[str], written: dict[str, dict[str, Any]] | None = None) -> None:
    """Create the namespaces for real, each with the `default` ServiceAccount that kube-controller-manager
    would add (this tier runs no controllers; Pod admission needs the account). A namespace the snippets
    write (`written`: name -> Namespace object) is created as written, labels included: its Pod Security
    labels are what the API server admits the section's Pods against."""
    written = written or {}
    docs = [written.get(n) or {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in sorted(names)]
    docs += [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": n}}
        for n in sorted(names | ALWAYS_THERE)
    ]
    res = cp.kubectl("apply", "--server-side", "--validate=strict", "-f", "-", stdin=yaml.safe_dump_all(docs))
    if res.returncode != 0:
        fail(f"creating namespaces {sorted(names)} failed:\n{res.describe()}")


def dry_run(cp: ControlPlane, text: str) -> KubectlResult:
    return cp.kubectl(*DRY_RUN, stdin=text)


def applied(res: KubectlResult) -> list[str]:
    """The objects the server accepted (`kind/name serverside-applied (server dry run)` lines)."""
    return [line.split()[0] for line in res.stdout.splitlines() if line.endswith("(server dry run)")]


def warnings(res: KubectlResult) -> list[str]:
    return [line for line in res.stderr.splitlines() if line.startswith("Warning:")]


def server_message(res: KubectlResult) -> str:
    """The API server's own words for a rejection (kubectl's `Error from server ...` lines)."""
    lines = [line for line in res.stderr.splitlines() if line.strip() and not line.startswith("Warning:")]
    return "\n".join(lines)


def expected_error(snippet: Snippet) -> str | None:
    """For an anti-pattern (expect: fails) whose entry names `apiserver_error`, the text of the server's
    rejection; otherwise None: the manifest must be accepted (an anti-pattern that misbehaves only at
    run time is still a valid object)."""
    if snippet.expect != "fails":
        return None
    value = snippet.settings.get("apiserver_error")
    return str(value) if value not in (None, "") else None


def verdict(obj: Objects, created_in_set: set[str], res: KubectlResult) -> str | None:
    """None when the server accepted every object, without warnings, in namespaces of the object's own
    set; otherwise why not."""
    problems = []
    if res.returncode != 0:
        problems.append(f"the API server rejects it:\n{server_message(res)}")
    elif len(applied(res)) != len(obj.docs):
        problems.append(f"{len(obj.docs)} objects, but the server applied {applied(res)}:\n{res.describe()}")
    foreign = obj.referenced_namespaces() - created_in_set - ALWAYS_THERE
    if foreign:
        problems.append(
            f"it uses namespace(s) {sorted(foreign)} that no snippet of {obj.set_name} creates "
            '(a reader applying it gets `namespaces "..." not found`)'
        )
    if warnings(res):
        problems.append("the API server warns:\n" + "\n".join(warnings(res)))
    return "\n".join(problems) or None


def judge(snippet: Snippet, why: str | None, version: str) -> str | None:
    """The failure message for `snippet` given the server's verdict `why`, or None when it is as the text says."""
    wanted = expected_error(snippet)
    if wanted is not None:
        if why is None:
            return (
                f"{snippet.path}: the text says this manifest is wrong ({snippet.claim}), "
                f"but kube-apiserver {version} accepts it"
            )
        if wanted not in why:
            return f"{snippet.path}: expected `{wanted}` in the API server's verdict, got:\n{why}"
        return None
    if why is not None:
        return f"{snippet.path} ({snippet.where()}), kube-apiserver {version}: {why}"
    return None
